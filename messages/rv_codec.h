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

/* Where a decoded message lives when it was decoded with rv_msg_decode_pooled (rv_codec.c):
 * one bump-allocated block per message, taken from a per-thread pool. */
typedef struct rv_arena rv_arena_t;

/* A decoded (or to-be-encoded) message. */
typedef struct {
  uint32_t type;          /* rv_msgtype_id_t */
  rv_addr_t from, to;
  uint64_t corr_id;       /* 0 = none */
  uint64_t trace_id;      /* 0 = none */
  uint64_t sent_at_us;    /* wall clock; filled by rv_msg_encode when 0 */
  ProtobufCMessage *body; /* decoded payload, owned by this rv_msg_t (freed by rv_msg_clear);
                             for encoding, the caller's message (borrowed) */
  rv_arena_t *arena;      /* the arena body lives in (rv_msg_decode_pooled), owned like body;
                             NULL: body is on the heap. A copy of an rv_msg_t that does not take
                             its body must set both to NULL. */
} rv_msg_t;

/* Encodes m (with m->body of the descriptor registered for m->type) into a new buffer: one
 * allocation, the body packed in place at the end of the envelope (payload is its last field),
 * the same bytes as packing the body and then the envelope around it.
 * On success *out is malloc'd (caller frees) and *len set; returns 0, or RV_EINVAL for a body
 * whose type does not match, RV_ETOOBIG when the frame would exceed RV_ENVELOPE_MAX. */
int rv_msg_encode(const rv_msg_t *m, uint8_t **out, size_t *len, rv_err_t *err);

/* Decodes buf[0..len) into out (which the caller has zeroed or cleared). max caps the frame
 * size (0 = RV_ENVELOPE_MAX). On success out->body is owned by out; free with rv_msg_clear.
 * On failure out holds nothing to free. */
int rv_msg_decode(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out, rv_err_t *err);

/* rv_msg_decode, but the body (and the envelope's own parts, freed before return) is allocated
 * from an arena that out->arena owns: one block, bump-allocated, taken from and given back to a
 * pool of the calling thread (rv_msg_clear gives it back; it must run on the same thread, as
 * the actors' loops do). Frees are no-ops, so decoding a batch of n entries costs no malloc and
 * no free per field: what the decoders of the actors' messages spent most of their time on. The
 * same checks and the same results as rv_msg_decode; the body must not be freed with
 * protobuf_c_message_free_unpacked (use rv_msg_clear, or keep the whole rv_msg_t). */
int rv_msg_decode_pooled(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out,
                         rv_err_t *err);

/* Frees a decoded body (or gives its arena back) and zeroes m; safe on a zeroed m and twice. */
void rv_msg_clear(rv_msg_t *m);

/* The arenas held by the calling thread's pool and the bytes they hold, for tests. */
void rv_arena_pool_stats(size_t *arenas, size_t *bytes);

/* Frees the calling thread's pooled arenas (a process that is done decoding: leak checkers see
 * nothing left). Arenas still owned by messages go back to a new pool when cleared. */
void rv_arena_pool_free(void);

/* Sets an address from strings, truncating names longer than RV_NAME_MAX. */
void rv_addr_set(rv_addr_t *a, const char *node, const char *actor);

/* Wall clock in microseconds since the epoch. */
uint64_t rv_wall_us(void);

#endif
