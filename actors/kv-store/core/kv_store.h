/* kv_store: the small ordered key-value interface the namespace core talks to.
 *
 * The core needs three things from storage and nothing else: a point read, an ordered scan from
 * a key (seek + next), and an atomic write of a batch of puts and deletes. Keys compare as
 * unsigned bytes (memcmp, shorter first on a tie), which is RocksDB's default comparator.
 *
 * Implementations embed kv_store_t as their first member and point ops at a static table:
 *   kv_memstore (core, for tests and simulation: a skip list in memory, with fault injection)
 *   kv_rocks    (shell, RocksDB: WriteBatch, optional fsync, checkpoints)
 *
 * Contract for every implementation:
 *  - get: returns 0 and replaces val's contents with the value, RV_ENOTFOUND (err untouched)
 *    when the key is absent, or another code (RV_EIO, RV_ENOMEM) with err set.
 *  - scan: visits every key >= from in ascending order, calling fn with borrowed key and value
 *    (valid only during the call), until the keys run out or fn returns non-zero. fn returns 0
 *    to go on, KV_SCAN_STOP to stop (scan then returns 0), or an rv code, which scan returns
 *    as is. fn must not write to the store (it may write to a kv_batch). The view is consistent
 *    for the duration of the scan.
 *  - write: applies every live operation of the batch, all or none, and returns 0, or a code
 *    with err set and nothing applied. Durable per the implementation's sync setting.
 *  - multi_get (optional; kv_store_multi_get falls back to one get per key): point reads of n
 *    keys, from one consistent state, calling fn once per key, in any order, with the key's
 *    position i in keys[] and its value (borrowed for the call; NULL when the key is absent).
 *    fn returns 0 to go on or an rv code, which multi_get returns as is. For reads that come
 *    in bulk (the replica's post-images; the new names of a slice's creates, kv_core_prefetch):
 *    one call for many keys (kv_rocks.h says which ways of reading them were measured).
 * Not thread-safe: one caller at a time. */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kv_batch.h"
#include "kv_codec.h"
#include "rv_error.h"

#define KV_SCAN_STOP (-1) /* a scan callback's "enough" */

typedef struct kv_store kv_store_t;

/* Scan callback: see the contract above. */
typedef int (*kv_scan_fn)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen);

/* multi_get callback: see the contract above. */
typedef int (*kv_multi_fn)(void *arg, size_t i, const uint8_t *val, size_t vlen);

typedef struct {
  const char *name; /* "memory", "rocksdb": for messages */
  int (*get)(kv_store_t *s, const uint8_t *key, size_t klen, kv_buf_t *val, rv_err_t *err);
  int (*scan)(kv_store_t *s, const uint8_t *from, size_t flen, kv_scan_fn fn, void *arg,
              rv_err_t *err);
  int (*write)(kv_store_t *s, const kv_batch_t *batch, rv_err_t *err);
  int (*multi_get)(kv_store_t *s, const kv_bytes_t *keys, size_t n, kv_multi_fn fn, void *arg,
                   rv_err_t *err); /* optional */
} kv_store_ops_t;

/* The interface object; an implementation's struct starts with it. */
struct kv_store {
  const kv_store_ops_t *ops;
};

static inline int kv_store_get(kv_store_t *s, const uint8_t *key, size_t klen, kv_buf_t *val,
                               rv_err_t *err) {
  return s->ops->get(s, key, klen, val, err);
}

static inline int kv_store_scan(kv_store_t *s, const uint8_t *from, size_t flen, kv_scan_fn fn,
                                void *arg, rv_err_t *err) {
  return s->ops->scan(s, from, flen, fn, arg, err);
}

/* The multi_get of the contract, or one get per key (val is scratch for that case: caller owns
 * it, its contents are undefined afterwards). */
static inline int kv_store_multi_get(kv_store_t *s, const kv_bytes_t *keys, size_t n,
                                     kv_multi_fn fn, void *arg, kv_buf_t *val, rv_err_t *err) {
  if (s->ops->multi_get) return s->ops->multi_get(s, keys, n, fn, arg, err);
  for (size_t i = 0; i < n; i++) {
    int rc = s->ops->get(s, keys[i].p, keys[i].len, val, err);
    if (rc && rc != RV_ENOTFOUND) return rc;
    if ((rc = fn(arg, i, rc ? NULL : val->data, rc ? 0 : val->len))) return rc;
  }
  return RV_OK;
}

static inline int kv_store_write(kv_store_t *s, const kv_batch_t *batch, rv_err_t *err) {
  return s->ops->write(s, batch, err);
}

#endif
