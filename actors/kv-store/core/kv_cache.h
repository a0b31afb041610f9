/* kv_cache: a bounded read cache of store keys, kept write-through by the core.
 *
 * Path resolution and the subtree-total updates read the same few keys over and over (the
 * root's and the hot directories' attributes and dentries, the active clients' sessions). The
 * cache holds recent values, and recent absences, of small keys. It is only ever a copy of what
 * the store holds: filled after a store read, and updated with every operation of a batch once
 * that batch is written. So it changes how fast the core is, never what it answers; and it
 * requires the core to be the store's only writer while it is open (it is: the actor owns its
 * database).
 *
 * Set-associative (4 ways per set; the least recently used way is replaced), fixed size,
 * values over KV_CACHE_VALUE_MAX bytes never cached. Pure: libc only. */
#ifndef KV_CACHE_H
#define KV_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_codec.h"

#define KV_CACHE_VALUE_MAX 512 /* larger values (file contents) are not cached */

typedef struct kv_cache kv_cache_t;

typedef enum {
  KV_CACHE_MISS = 0,  /* unknown: read the store */
  KV_CACHE_HIT = 1,   /* the value is in *val */
  KV_CACHE_ABSENT = 2 /* the store does not hold the key */
} kv_cache_found_t;

/* A cache of about entries keys (rounded up to a power of two, at least 4); 0 entries gives
 * NULL (no cache), which every function accepts. Caller owns; kv_cache_destroy. */
kv_cache_t *kv_cache_new(size_t entries);
void kv_cache_destroy(kv_cache_t **c);

/* Looks key up; on a hit its value replaces val's contents. */
kv_cache_found_t kv_cache_get(kv_cache_t *c, const uint8_t *key, size_t klen, kv_buf_t *val);

/* Records that the store holds val for key (val NULL: holds nothing). Values too large are
 * dropped from the cache instead. Allocation failure just leaves the key uncached. */
void kv_cache_set(kv_cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                  bool absent);

/* kv_cache_set for a key the cache holds (a value or an absence); a key it does not hold stays
 * out. What a written batch does to the cache: every key the cache holds must follow the store,
 * but a key nobody read (a new file's attributes) need not take a slot, which would evict a hot
 * one (a directory's attributes, a session) in a stream of creates. */
void kv_cache_refresh(kv_cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val,
                      size_t vlen, bool absent);

/* Forgets everything. */
void kv_cache_clear(kv_cache_t *c);

/* Hits and misses since creation, for benches. */
void kv_cache_stats(const kv_cache_t *c, uint64_t *hits, uint64_t *misses);

#endif
