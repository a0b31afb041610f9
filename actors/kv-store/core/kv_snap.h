/* kv_snap: the byte format of a Raft snapshot's data, as kv-store streams it: the store's whole
 * contents as a sequence of (key, value) pairs in key order, cut into chunks by the sender.
 *
 * One pair: u32 key length, key, u32 value length, value (lengths little-endian). A chunk holds
 * whole pairs only, so each chunk is decoded on its own. Bounds: a key is 1..KV_SNAP_KEY_MAX
 * bytes, a value at most KV_SNAP_VAL_MAX; anything else is malformed input (RV_EDECODE), since
 * chunks cross the network. Pure: libc only. */
#ifndef KV_SNAP_H
#define KV_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_codec.h"
#include "rv_error.h"

#define KV_SNAP_KEY_MAX 4096u          /* longer than any key the schema writes (KV_KEY_MAX) */
#define KV_SNAP_VAL_MAX (4u << 20)     /* a pair always fits one chunk under the 8 MiB envelope */
#define KV_SNAP_CHUNK_BYTES (1u << 20) /* chunks are cut once they reach about this size */

/* Appends one pair to b (check kv_buf_ok at the end). Returns RV_OK, or RV_ETOOBIG when a
 * length is out of bounds (nothing appended). Key and value are borrowed. */
int kv_snap_put(kv_buf_t *b, const void *key, size_t klen, const void *val, size_t vlen);

/* A cursor over one chunk's bytes (borrowed: p must outlive the cursor). */
typedef struct {
  const uint8_t *p;
  size_t len;
  size_t pos;
} kv_snap_cursor_t;

void kv_snap_cursor_init(kv_snap_cursor_t *c, const void *p, size_t len);

/* The next pair: key and val point into the chunk (borrowed). Returns 1 with a pair, 0 at the
 * end of the chunk, or RV_EDECODE (negated: -RV_EDECODE) with err set for a truncated or
 * oversized pair; the cursor then stays failed. */
int kv_snap_next(kv_snap_cursor_t *c, kv_bytes_t *key, kv_bytes_t *val, rv_err_t *err);

#endif
