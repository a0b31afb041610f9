/* rv_inflight: per-connection counts of requests in flight, capped. Pure (libc only): a chained
 * hash table of the connections that hold a slot, keyed by routing id. See the header. */
#include "rv_inflight.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_entry {
  struct s_entry *next;
  unsigned held;  /* >= 1: an entry at 0 is freed */
  uint8_t len;
  uint8_t id[];
} s_entry_t;

struct rv_inflight {
  s_entry_t **buckets;
  size_t nbuckets;  /* a power of two */
  size_t nconns;    /* entries */
  uint64_t total;   /* sum of held */
  uint64_t refused;
  unsigned cap;
};

/* FNV-1a over the id. */
static size_t s_hash(const uint8_t *id, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) h = (h ^ id[i]) * 1099511628211ull;
  return (size_t)(h ^ (h >> 32));
}

static s_entry_t **s_slot(const rv_inflight_t *t, const uint8_t *id, size_t len) {
  s_entry_t **p = &t->buckets[s_hash(id, len) & (t->nbuckets - 1)];
  while (*p && ((*p)->len != len || memcmp((*p)->id, id, len) != 0)) p = &(*p)->next;
  return p;
}

rv_inflight_t *rv_inflight_new(unsigned cap) {
  assert(cap >= 1);
  rv_inflight_t *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->nbuckets = 64;
  t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
  if (!t->buckets) {
    free(t);
    return NULL;
  }
  t->cap = cap;
  return t;
}

void rv_inflight_destroy(rv_inflight_t **tp) {
  if (!tp || !*tp) return;
  rv_inflight_t *t = *tp;
  for (size_t b = 0; b < t->nbuckets; b++)
    for (s_entry_t *e = t->buckets[b], *n; e; e = n) {
      n = e->next;
      free(e);
    }
  free(t->buckets);
  free(t);
  *tp = NULL;
}

/* Doubles the buckets once there are more entries than buckets (a failed allocation keeps the
 * table as it is: only slower). */
static void s_grow(rv_inflight_t *t) {
  if (t->nconns <= t->nbuckets) return;
  size_t n = 2 * t->nbuckets;
  s_entry_t **b = calloc(n, sizeof *b);
  if (!b) return;
  for (size_t i = 0; i < t->nbuckets; i++)
    for (s_entry_t *e = t->buckets[i], *next; e; e = next) {
      next = e->next;
      s_entry_t **to = &b[s_hash(e->id, e->len) & (n - 1)];
      e->next = *to;
      *to = e;
    }
  free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
}

int rv_inflight_take(rv_inflight_t *t, const uint8_t *id, size_t len) {
  assert(len >= 1 && len <= 255);
  s_entry_t **p = s_slot(t, id, len);
  if (*p) {
    if ((*p)->held >= t->cap) {
      t->refused++;
      return RV_EBUSY;
    }
    (*p)->held++;
    t->total++;
    return RV_OK;
  }
  s_entry_t *e = malloc(sizeof *e + len);
  if (!e) return RV_ENOMEM;
  e->next = NULL;
  e->held = 1;
  e->len = (uint8_t)len;
  memcpy(e->id, id, len);
  *p = e;
  t->nconns++;
  t->total++;
  s_grow(t);
  return RV_OK;
}

void rv_inflight_give(rv_inflight_t *t, const uint8_t *id, size_t len) {
  s_entry_t **p = s_slot(t, id, len);
  assert(*p && (*p)->held >= 1); /* a give without its take */
  if (!*p) return;
  t->total--;
  if (--(*p)->held == 0) {
    s_entry_t *e = *p;
    *p = e->next;
    free(e);
    t->nconns--;
  }
}

unsigned rv_inflight_held(const rv_inflight_t *t, const uint8_t *id, size_t len) {
  if (!t || len < 1 || len > 255) return 0;
  s_entry_t *const *p = s_slot(t, id, len);
  return *p ? (*p)->held : 0;
}

uint64_t rv_inflight_total(const rv_inflight_t *t) { return t ? t->total : 0; }
size_t rv_inflight_conns(const rv_inflight_t *t) { return t ? t->nconns : 0; }
uint64_t rv_inflight_refused(const rv_inflight_t *t) { return t ? t->refused : 0; }
unsigned rv_inflight_cap(const rv_inflight_t *t) { return t ? t->cap : 0; }
