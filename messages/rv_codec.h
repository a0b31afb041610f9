/* rv_codec: the one envelope codec that every raftvisor process uses.
 *
 * Encoding wraps a typed protobuf-c message in an rv.Envelope. Decoding never trusts its input:
 * a frame that is empty, larger than the limit, not a valid envelope, of an unknown type, or
 * whose payload does not decode as its type yields RV_EDECODE (RV_ETOOBIG for size) and a
 * message naming the problem; it never crashes and never allocates more than the frame
 * justifies (protobuf-c checks every length against the bytes present). */
#ifndef RV_CODEC_H
#define RV_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"
#include "rv_msgtypes.h"

#define RV_ENVELOPE_VERSION 1
#define RV_ENVELOPE_MAX (8u << 20) /* largest frame any socket accepts: 8 MiB */
#define RV_NAME_MAX 32             /* node and actor names, as config's ids */

typedef struct {
  char node[RV_NAME_MAX + 1];
  char actor[RV_NAME_MAX + 1];
} rv_addr_t;

/* A decoded (or to-be-encoded) message. */
typedef struct {
  uint32_t type;          /* rv_msgtype_id_t */
  rv_addr_t from, to;
  uint64_t corr_id;       /* 0 = none */
  uint64_t trace_id;      /* 0 = none */
  uint64_t sent_at_us;    /* wall clock; filled by rv_msg_encode when 0 */
  ProtobufCMessage *body; /* decoded payload, owned by this rv_msg_t (freed by rv_msg_clear);
                             for encoding, the caller's message (borrowed) */
} rv_msg_t;

/* Encodes m (with m->body of the descriptor registered for m->type) into a new buffer.
 * On success *out is malloc'd (caller frees) and *len set; returns 0, or RV_EINVAL for a body
 * whose type does not match, RV_ETOOBIG when the frame would exceed RV_ENVELOPE_MAX. */
int rv_msg_encode(const rv_msg_t *m, uint8_t **out, size_t *len, rv_err_t *err);

/* Decodes buf[0..len) into out (which the caller has zeroed or cleared). max caps the frame
 * size (0 = RV_ENVELOPE_MAX). On success out->body is owned by out; free with rv_msg_clear.
 * On failure out holds nothing to free. */
int rv_msg_decode(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out, rv_err_t *err);

/* Frees a decoded body and zeroes m; safe on a zeroed m and twice. */
void rv_msg_clear(rv_msg_t *m);

/* Sets an address from strings, truncating names longer than RV_NAME_MAX. */
void rv_addr_set(rv_addr_t *a, const char *node, const char *actor);

/* Wall clock in microseconds since the epoch. */
uint64_t rv_wall_us(void);

#endif
