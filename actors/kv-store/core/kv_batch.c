/* kv_batch: an operation log with a hash index, for read-your-writes and rollback during apply.
 * Pure (libc only). See kv_batch.h for the design. */
#include "kv_batch.h"

#include <stdlib.h>
#include <string.h>

#include "kv_codec.h"
#include "rv_error.h"

#define S_NONE SIZE_MAX

typedef struct {
  size_t koff; /* key bytes in the arena */
  size_t voff; /* value bytes in the arena (puts) */
  uint32_t klen;
  uint32_t vlen;
  uint32_t hash;
  bool del;
  bool shadowed; /* a later entry has the same key */
  size_t prev;   /* the entry this one shadows, or S_NONE */
  size_t bnext;  /* next (older) entry in the same hash chain, or S_NONE */
} s_entry_t;

struct kv_batch {
  kv_buf_t arena;
  s_entry_t *entries;
  size_t n, cap;
  size_t live;     /* entries not shadowed */
  size_t *buckets; /* heads of the chains, newest first; S_NONE when empty */
  size_t nbuckets; /* a power of two */
};

static uint32_t s_hash(const void *key, size_t klen) { return (uint32_t)kv_hash64(key, klen); }

static bool s_rehash(kv_batch_t *b, size_t nbuckets) {
  size_t *bk = malloc(nbuckets * sizeof *bk);
  if (!bk) return false;
  for (size_t i = 0; i < nbuckets; i++) bk[i] = S_NONE;
  for (size_t i = 0; i < b->n; i++) {
    size_t h = b->entries[i].hash & (nbuckets - 1);
    b->entries[i].bnext = bk[h];
    bk[h] = i;
  }
  free(b->buckets);
  b->buckets = bk;
  b->nbuckets = nbuckets;
  return true;
}

kv_batch_t *kv_batch_new(void) {
  kv_batch_t *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  kv_buf_init(&b->arena);
  if (!s_rehash(b, 64)) {
    free(b);
    return NULL;
  }
  return b;
}

void kv_batch_destroy(kv_batch_t **bp) {
  if (!bp || !*bp) return;
  kv_batch_t *b = *bp;
  kv_buf_close(&b->arena);
  free(b->entries);
  free(b->buckets);
  free(b);
  *bp = NULL;
}

void kv_batch_clear(kv_batch_t *b) {
  for (size_t i = 0; i < b->nbuckets; i++) b->buckets[i] = S_NONE;
  b->n = 0;
  b->live = 0;
  kv_buf_reset(&b->arena);
}

static size_t s_find(const kv_batch_t *b, const void *key, size_t klen, uint32_t hash) {
  for (size_t i = b->buckets[hash & (b->nbuckets - 1)]; i != S_NONE; i = b->entries[i].bnext) {
    const s_entry_t *e = &b->entries[i];
    if (e->hash == hash && e->klen == klen && memcmp(b->arena.data + e->koff, key, klen) == 0)
      return i;
  }
  return S_NONE;
}

static int s_add(kv_batch_t *b, const void *key, size_t klen, const void *val, size_t vlen,
                 bool del) {
  if (klen == 0 || klen > UINT32_MAX || vlen > UINT32_MAX) return RV_EINVAL;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    s_entry_t *e = realloc(b->entries, cap * sizeof *e);
    if (!e) return RV_ENOMEM;
    b->entries = e;
    b->cap = cap;
  }
  if (b->n + 1 > b->nbuckets && !s_rehash(b, b->nbuckets * 2)) return RV_ENOMEM;
  size_t before = b->arena.len;
  kv_buf_put(&b->arena, key, klen);
  kv_buf_put(&b->arena, val, vlen);
  if (!kv_buf_ok(&b->arena)) {
    b->arena.failed = false;
    kv_buf_truncate(&b->arena, before);
    return RV_ENOMEM;
  }
  uint32_t hash = s_hash(key, klen);
  size_t prev = s_find(b, key, klen, hash);
  s_entry_t *e = &b->entries[b->n];
  *e = (s_entry_t){.koff = before,
                   .voff = before + klen,
                   .klen = (uint32_t)klen,
                   .vlen = (uint32_t)vlen,
                   .hash = hash,
                   .del = del,
                   .prev = prev};
  if (prev != S_NONE) {
    b->entries[prev].shadowed = true;
    b->live--;
  }
  size_t h = hash & (b->nbuckets - 1);
  e->bnext = b->buckets[h];
  b->buckets[h] = b->n;
  b->n++;
  b->live++;
  return RV_OK;
}

int kv_batch_put(kv_batch_t *b, const void *key, size_t klen, const void *val, size_t vlen) {
  return s_add(b, key, klen, val, vlen, false);
}

int kv_batch_del(kv_batch_t *b, const void *key, size_t klen) {
  return s_add(b, key, klen, NULL, 0, true);
}

kv_batch_found_t kv_batch_lookup(const kv_batch_t *b, const void *key, size_t klen,
                                 const uint8_t **val, size_t *vlen) {
  size_t i = s_find(b, key, klen, s_hash(key, klen));
  if (i == S_NONE) return KV_BATCH_ABSENT;
  const s_entry_t *e = &b->entries[i];
  if (e->del) return KV_BATCH_DEL;
  if (val) *val = b->arena.data + e->voff;
  if (vlen) *vlen = e->vlen;
  return KV_BATCH_PUT;
}

size_t kv_batch_mark(const kv_batch_t *b) { return b->n; }

void kv_batch_rollback(kv_batch_t *b, size_t mark) {
  while (b->n > mark) {
    s_entry_t *e = &b->entries[b->n - 1];
    size_t h = e->hash & (b->nbuckets - 1);
    /* LIFO: the newest entry heads its chain. */
    b->buckets[h] = e->bnext;
    if (e->prev != S_NONE) {
      b->entries[e->prev].shadowed = false;
      b->live++;
    }
    kv_buf_truncate(&b->arena, e->koff);
    b->n--;
    b->live--;
  }
}

bool kv_batch_next(const kv_batch_t *b, size_t *cursor, kv_batch_op_t *op) {
  while (*cursor < b->n) {
    const s_entry_t *e = &b->entries[(*cursor)++];
    if (e->shadowed) continue;
    op->key = b->arena.data + e->koff;
    op->klen = e->klen;
    op->del = e->del;
    op->val = e->del ? NULL : b->arena.data + e->voff;
    op->vlen = e->del ? 0 : e->vlen;
    return true;
  }
  return false;
}

size_t kv_batch_count(const kv_batch_t *b) { return b->n; }
size_t kv_batch_live(const kv_batch_t *b) { return b->live; }
size_t kv_batch_bytes(const kv_batch_t *b) { return b->arena.len; }
