/* kv_batch: the pending writes of the commands being applied, with read-your-writes and
 * savepoints.
 *
 * The core never writes the store directly. Each command's puts and deletes go into a batch;
 * reads during apply look in the batch first (kv_batch_lookup) and then in the store, so a
 * command sees its own writes and those of earlier commands of the same group. When a command
 * fails half-way the core rolls the batch back to the savepoint taken before it
 * (kv_batch_mark / kv_batch_rollback), so a failed command changes nothing. The whole batch is
 * then handed to kv_store_ops_t.write, which applies it atomically.
 *
 * Implementation: an append-only log of operations (keys and values copied into one arena)
 * indexed by a chained hash table whose chains are pushed at the head, so the newest entry for a
 * key is found first and rollback is a LIFO pop. An entry overwritten by a later one for the
 * same key is "shadowed"; kv_batch_next skips shadowed entries, so a store sees each key once,
 * with its final value, in the order of those final writes.
 * Pure: libc only. Not thread-safe (one batch per core). */
#ifndef KV_BATCH_H
#define KV_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kv_batch kv_batch_t;

/* One live operation, as kv_batch_next yields it. Pointers are borrowed from the batch and
 * valid until the next change to it. */
typedef struct {
  const uint8_t *key;
  size_t klen;
  const uint8_t *val; /* NULL for a delete */
  size_t vlen;
  bool del;
} kv_batch_op_t;

/* What kv_batch_lookup found. */
typedef enum {
  KV_BATCH_ABSENT = 0, /* the batch does not touch this key: read the store */
  KV_BATCH_PUT = 1,    /* the batch sets it; *val and *vlen hold the value */
  KV_BATCH_DEL = 2     /* the batch deletes it */
} kv_batch_found_t;

/* A new empty batch (caller owns; kv_batch_destroy), or NULL when out of memory. */
kv_batch_t *kv_batch_new(void);
/* Frees the batch and nulls *b; safe on NULL and twice. */
void kv_batch_destroy(kv_batch_t **b);

/* Forgets every operation (keeps allocations for reuse). */
void kv_batch_clear(kv_batch_t *b);

/* Records a put or a delete; keys and values are copied. Returns 0 or RV_ENOMEM (the batch is
 * then unchanged). klen must be > 0. */
int kv_batch_put(kv_batch_t *b, const void *key, size_t klen, const void *val, size_t vlen);
int kv_batch_del(kv_batch_t *b, const void *key, size_t klen);

/* The newest operation on key. For KV_BATCH_PUT, *val and *vlen (when non-NULL) point into the
 * batch, valid until its next change. */
kv_batch_found_t kv_batch_lookup(const kv_batch_t *b, const void *key, size_t klen,
                                 const uint8_t **val, size_t *vlen);

/* A savepoint: the current number of entries. kv_batch_rollback(b, m) undoes every operation
 * recorded after mark m was taken (m must not exceed the current count). */
size_t kv_batch_mark(const kv_batch_t *b);
void kv_batch_rollback(kv_batch_t *b, size_t mark);

/* Iteration over live operations in the order of their (final) writes: start with *cursor = 0;
 * returns false at the end. */
bool kv_batch_next(const kv_batch_t *b, size_t *cursor, kv_batch_op_t *op);

/* Entries recorded (shadowed ones included), live entries, and arena bytes: for limits and
 * tests. */
size_t kv_batch_count(const kv_batch_t *b);
size_t kv_batch_live(const kv_batch_t *b);
size_t kv_batch_bytes(const kv_batch_t *b);
static inline bool kv_batch_empty(const kv_batch_t *b) { return kv_batch_count(b) == 0; }

#endif
