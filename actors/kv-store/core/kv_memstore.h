/* kv_memstore: an in-memory kv_store_t (a skip list), for unit tests, simulation and benches.
 *
 * Ordered like RocksDB's default comparator. Writes are atomic: a batch is applied completely
 * or, when an injected fault fires, not at all. Fault injection, as SQLite does through its
 * VFS: kv_memstore_fail_after(ms, n, code) lets the next n writes succeed and makes every later
 * one fail with code (until reset with n = -1), so the core's error paths can be tested.
 * Deterministic (fixed random seed for node heights). Pure: libc only. Not thread-safe. */
#ifndef KV_MEMSTORE_H
#define KV_MEMSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "kv_store.h"

typedef struct kv_memstore kv_memstore_t;

/* A new empty store (caller owns; kv_memstore_destroy), or NULL when out of memory. */
kv_memstore_t *kv_memstore_new(void);
/* Frees everything and nulls *ms; safe on NULL and twice. */
void kv_memstore_destroy(kv_memstore_t **ms);

/* The kv_store_t interface of ms (borrowed; valid while ms lives). */
kv_store_t *kv_memstore_store(kv_memstore_t *ms);

/* Number of keys and total bytes of keys and values held. */
size_t kv_memstore_count(const kv_memstore_t *ms);
size_t kv_memstore_bytes(const kv_memstore_t *ms);
/* Number of successful writes so far. */
uint64_t kv_memstore_writes(const kv_memstore_t *ms);

/* Lets n more writes succeed, then fails every write with code (RV_EIO, ...). n < 0 disables
 * fault injection. */
void kv_memstore_fail_after(kv_memstore_t *ms, long n, int code);

/* Copies every key and value of src into dst (which should be empty): a "snapshot" for tests.
 * Returns 0 or RV_ENOMEM. */
int kv_memstore_copy(kv_memstore_t *dst, const kv_memstore_t *src);

#endif
