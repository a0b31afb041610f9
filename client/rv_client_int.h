/* rv_client_int: what librvclient's two files share: the request encoding and the reply
 * decoding (rv_client_ops.c) that the engine (rv_client.c) calls. Not part of the API. */
#ifndef RV_CLIENT_INT_H
#define RV_CLIENT_INT_H

#include "kv.pb-c.h"
#include "rv_client.h"

/* The envelope of req for the session (client_id, seq) with correlation id corr, into *frame
 * (malloc'd, caller frees) and *len; user is the user the request asserts (kv.proto
 * FsRequest.user). Returns 0, or RV_EINVAL / RV_ETOOBIG / RV_ENOMEM with err naming the
 * problem. */
int rv_client_encode(const rv_client_req_t *req, uint64_t client_id, uint64_t seq, uint64_t corr,
                     const char *user, uint8_t **frame, size_t *len, rv_err_t *err);

/* Re-encodes our own request envelope (*frame, *len: replaced, the old one freed) for another
 * session (client_id, seq), keeping everything else. Returns 0, or an rv code (frame kept). */
int rv_client_reencode(uint8_t **frame, size_t *len, uint64_t client_id, uint64_t seq,
                       rv_err_t *err);

/* Fills res (already cleared) from a final reply. Returns 0, or RV_ENOMEM (res->code set). */
int rv_client_result_fill(rv_client_result_t *res, const Rv__FsReply *r);

/* true for the operations that write (and so use the lane's session). */
static inline bool rv_client_op_writes(int op) {
  return (op >= RV_CLIENT_MKDIR && op <= RV_CLIENT_REMOVEXATTR) || op == RV_CLIENT_RECOVERY_LEAVE;
}

/* The operation's name ("mkdir", ..., "count"), "op?" when unknown. Static. */
const char *rv_client_op_name(int op);

#endif
