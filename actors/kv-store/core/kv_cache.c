/* kv_cache: a 4-way set-associative cache of small store values (see kv_cache.h). Pure. */
#include "kv_cache.h"

#include <stdlib.h>
#include <string.h>

#define S_WAYS 4

typedef struct {
  uint8_t *blob; /* key then value, one allocation; NULL = empty slot */
  uint32_t cap;  /* bytes allocated at blob: kept when the slot is reused (no realloc per set) */
  uint32_t klen;
  uint32_t vlen;
  uint32_t hash;
  uint64_t used; /* tick of the last use, for LRU within the set */
  bool absent;   /* the store does not hold the key */
} s_slot_t;

struct kv_cache {
  s_slot_t *slots; /* nsets * S_WAYS */
  size_t nsets;    /* a power of two */
  uint64_t tick;
  uint64_t hits, misses;
};

static uint32_t s_hash(const uint8_t *key, size_t klen) { return (uint32_t)kv_hash64(key, klen); }

kv_cache_t *kv_cache_new(size_t entries) {
  if (entries == 0) return NULL;
  size_t nsets = 1;
  while (nsets * S_WAYS < entries) nsets *= 2;
  kv_cache_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->slots = calloc(nsets * S_WAYS, sizeof *c->slots);
  if (!c->slots) {
    free(c);
    return NULL;
  }
  c->nsets = nsets;
  return c;
}

void kv_cache_clear(kv_cache_t *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nsets * S_WAYS; i++) {
    free(c->slots[i].blob);
    memset(&c->slots[i], 0, sizeof c->slots[i]);
  }
}

void kv_cache_destroy(kv_cache_t **cp) {
  if (!cp || !*cp) return;
  kv_cache_clear(*cp);
  free((*cp)->slots);
  free(*cp);
  *cp = NULL;
}

/* The slot holding key in its set, or NULL; *set is the set's first slot. */
static s_slot_t *s_find(kv_cache_t *c, const uint8_t *key, size_t klen, uint32_t h,
                        s_slot_t **set) {
  *set = &c->slots[(h & (c->nsets - 1)) * S_WAYS];
  for (int w = 0; w < S_WAYS; w++) {
    s_slot_t *s = &(*set)[w];
    if (s->blob && s->hash == h && s->klen == klen && memcmp(s->blob, key, klen) == 0) return s;
  }
  return NULL;
}

kv_cache_found_t kv_cache_get(kv_cache_t *c, const uint8_t *key, size_t klen, kv_buf_t *val) {
  if (!c) return KV_CACHE_MISS;
  s_slot_t *set, *s = s_find(c, key, klen, s_hash(key, klen), &set);
  if (!s) {
    c->misses++;
    return KV_CACHE_MISS;
  }
  c->hits++;
  s->used = ++c->tick;
  if (s->absent) return KV_CACHE_ABSENT;
  kv_buf_reset(val);
  kv_buf_put(val, s->blob + s->klen, s->vlen);
  return kv_buf_ok(val) ? KV_CACHE_HIT : KV_CACHE_MISS;
}

static void s_set(kv_cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val,
                  size_t vlen, bool absent, bool only_held) {
  if (!c) return;
  uint32_t h = s_hash(key, klen);
  s_slot_t *set, *s = s_find(c, key, klen, h, &set);
  if (!s && only_held) return;
  if (absent) vlen = 0;
  if (klen > KV_CACHE_VALUE_MAX || vlen > KV_CACHE_VALUE_MAX) {
    if (s) { /* a stale copy must not survive */
      free(s->blob);
      memset(s, 0, sizeof *s);
    }
    return;
  }
  if (!s) {
    s = &set[0];
    for (int w = 1; w < S_WAYS && s->blob; w++) {
      if (!set[w].blob || set[w].used < s->used) s = &set[w];
    }
  }
  size_t need = klen + vlen ? klen + vlen : 1;
  uint8_t *blob = s->blob;
  uint32_t cap = s->cap;
  if (need > cap) {
    cap = need < 128 ? 128 : (uint32_t)need;
    if (!(blob = realloc(s->blob, cap))) {
      free(s->blob);
      memset(s, 0, sizeof *s);
      return;
    }
  }
  memcpy(blob, key, klen);
  if (vlen) memcpy(blob + klen, val, vlen);
  *s = (s_slot_t){.blob = blob,
                  .cap = cap,
                  .klen = (uint32_t)klen,
                  .vlen = (uint32_t)vlen,
                  .hash = h,
                  .used = ++c->tick,
                  .absent = absent};
}

void kv_cache_set(kv_cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                  bool absent) {
  s_set(c, key, klen, val, vlen, absent, false);
}

void kv_cache_refresh(kv_cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val,
                      size_t vlen, bool absent) {
  s_set(c, key, klen, val, vlen, absent, true);
}

void kv_cache_stats(const kv_cache_t *c, uint64_t *hits, uint64_t *misses) {
  *hits = c ? c->hits : 0;
  *misses = c ? c->misses : 0;
}
