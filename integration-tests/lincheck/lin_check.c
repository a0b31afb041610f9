/* lin_check: partitioning and the Wing & Gong / Lowe search with its memo cache. Pure.
 *
 * Layout of one partition's search (all arrays sized once for the largest partition and reused):
 *  - nodes[0] is the list head; nodes[1 .. 2n] the call and return entries, linked by index;
 *  - states[d] is the model state after the first d linearized operations (states[0] = init),
 *    so trying a candidate writes states[d + 1] and backtracking costs nothing;
 *  - calls[d] is the call entry lifted at depth d, the stack the search backtracks through;
 *  - bits is the set of linearized operations: the completed ones in the first wc words, by
 *    rank of call time, the never-returned ones from word wc on (slot[] maps an operation to
 *    its bit); zh is the Zobrist hash of the completed part (an XOR of one random word per
 *    operation), updated in O(1) per lift instead of rehashing the set;
 *  - the cache stores records [hash | key | state] in one slab, found through an open-addressing
 *    table of record numbers. The key is the linearized set, compacted: the frontier f (the
 *    first completed operation, by call rank, not linearized: all before it are), then the
 *    bits of the window f .. f + width (no later one can be linearized yet: it would have been
 *    called after f's return, which is still in the list), then the never-returned part. The
 *    width is the most operations called during one operation, so a record costs bytes in
 *    the concurrency, not in the length of the history.
 *  - A record also stands for every node with the same completed set and state that has used
 *    MORE never-returned operations: the recorded node could do all they can (it still has
 *    those operations in hand, and they may also never take effect), so if it failed they
 *    fail. This subsumption is why the hash leaves the never-returned part out; without it,
 *    each never-returned write would double the nodes to explore. */
#include "lin_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lin_report.h"

#define LIN_POLL_MASK 4095u /* poll should_stop every 4096 steps */

/* Outcomes of one partition's search. */
typedef enum {
  LIN_S_OK,      /* linearizable */
  LIN_S_FAIL,    /* not linearizable */
  LIN_S_STEPS,   /* step budget exhausted */
  LIN_S_MEMORY,  /* cache memory budget exhausted */
  LIN_S_STOPPED, /* should_stop said so */
  LIN_S_NOMEM    /* malloc failed */
} lin_outcome_t;

/* Classes of operations, in the order a node tries them (see s_search). */
enum {
  LIN_C_INERT = 0, /* completed, and no_effect: its answer changes no state */
  LIN_C_OTHER = 1  /* may change the state, or never returned */
};

typedef struct {
  int32_t op;         /* partition-local operation index */
  int32_t match;      /* call entry: node of its return; return entry: -1 */
  int32_t prev, next; /* list links; -1 = none */
} lin_node_t;

typedef struct {
  int64_t t;      /* call or return time (LIN_PENDING for a return that never came) */
  int32_t op;     /* partition-local operation index */
  int32_t is_ret; /* 0 call, 1 return: calls first at equal times */
} lin_event_t;

typedef struct {
  const lin_history_t *h;
  const lin_model_t *m;
  const lin_check_opts_t *opts;
  uint64_t steps; /* over the whole check */

  /* the partition being searched */
  const size_t *ops; /* history indices, n of them */
  size_t n, words;   /* words: 64-bit words of the linearized set */
  size_t nc, wc;     /* completed operations, and the words of bits that hold them */
  size_t f;          /* the frontier: the first completed rank not linearized */
  size_t ww, kw;     /* words of a record key's window, and of the whole key */
  size_t ssz;        /* state size rounded up to 8 */

  /* buffers sized for the largest partition (cap operations) */
  size_t cap;
  lin_node_t *nodes;
  lin_event_t *events;
  int32_t *calls;
  uint8_t *cls;       /* per operation: its LIN_C_* class */
  int32_t *slot;      /* per operation: its bit in bits */
  int64_t *rank_call; /* call time of each completed rank */
  unsigned char *states;
  uint64_t *bits;
  uint64_t *key; /* the current node's record key (kw words), built for each lookup */

  /* memo cache */
  unsigned char *slab;
  size_t slab_len, slab_cap, rec_size, nrec;
  uint32_t *table; /* record number + 1; 0 = empty */
  size_t tcap;     /* a power of two */
  size_t cache_peak;

  /* deepest point reached before a backtrack */
  long best_depth; /* -1 = none yet */
  size_t *best_prefix, *best_stuck, n_best_stuck, best_blocking;
} lin_search_t;

static unsigned char *s_state(lin_search_t *s, size_t d) { return s->states + d * s->ssz; }

static uint64_t s_mix(uint64_t x) { /* splitmix64's finalizer */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t s_zobrist(int32_t op) { return s_mix((uint64_t)op * 0x9e3779b97f4a7c15ull + 1); }

/* ---- the entry list ---------------------------------------------------------------------- */

static int s_by_time(const void *a, const void *b) {
  const lin_event_t *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  if (x->is_ret != y->is_ret) return x->is_ret - y->is_ret;
  return x->op < y->op ? -1 : (x->op > y->op);
}

/* Builds the time-ordered list of call and return entries of the partition's operations. */
static void s_build_list(lin_search_t *s) {
  size_t ne = 2 * s->n;
  for (size_t i = 0; i < s->n; i++) {
    const lin_op_t *op = lin_history_op(s->h, s->ops[i]);
    s->events[2 * i] = (lin_event_t){op->call_us, (int32_t)i, 0};
    s->events[2 * i + 1] = (lin_event_t){op->return_us, (int32_t)i, 1};
  }
  qsort(s->events, ne, sizeof *s->events, s_by_time);
  /* node of each operation's return, found in a first pass; calls are linked to it */
  int32_t *ret_node = s->calls; /* borrowed as scratch: the search has not started */
  for (size_t k = 0; k < ne; k++)
    if (s->events[k].is_ret) ret_node[s->events[k].op] = (int32_t)(k + 1);
  s->nodes[0] = (lin_node_t){-1, -1, -1, ne ? 1 : -1};
  for (size_t k = 0; k < ne; k++) {
    const lin_event_t *ev = &s->events[k];
    s->nodes[k + 1] = (lin_node_t){ev->op, ev->is_ret ? -1 : ret_node[ev->op], (int32_t)k,
                                   k + 1 < ne ? (int32_t)(k + 2) : -1};
  }
}

/* Takes a call entry and its return out of the list. */
static void s_lift(lin_search_t *s, int32_t e) {
  lin_node_t *c = &s->nodes[e], *r = &s->nodes[c->match];
  s->nodes[c->prev].next = c->next;
  s->nodes[c->next].prev = c->prev; /* a call is always followed, at least by its return */
  s->nodes[r->prev].next = r->next;
  if (r->next >= 0) s->nodes[r->next].prev = r->prev;
}

/* Puts them back, in the reverse order. */
static void s_unlift(lin_search_t *s, int32_t e) {
  lin_node_t *c = &s->nodes[e], *r = &s->nodes[c->match];
  s->nodes[r->prev].next = c->match;
  if (r->next >= 0) s->nodes[r->next].prev = c->match;
  s->nodes[c->prev].next = e;
  s->nodes[c->next].prev = e;
}

/* ---- the memo cache ---------------------------------------------------------------------- */

static size_t s_cache_bytes(const lin_search_t *s) {
  return s->slab_cap + s->tcap * sizeof *s->table;
}

static bool s_over_budget(const lin_search_t *s, size_t bytes) {
  return s->opts->max_cache_bytes && bytes > s->opts->max_cache_bytes;
}

static void s_cache_reset(lin_search_t *s) {
  s->slab_len = 0;
  s->nrec = 0;
  if (s->table) memset(s->table, 0, s->tcap * sizeof *s->table);
  s->rec_size = sizeof(uint64_t) * (1 + s->kw) + s->ssz;
}

/* Builds the current node's record key: f, the window's bits from f on, the pending words. */
static void s_key_build(lin_search_t *s) {
  uint64_t *k = s->key;
  *k++ = s->f;
  for (size_t i = 0; i < s->ww; i++) {
    size_t pos = s->f + 64 * i, w = pos >> 6, sh = pos & 63;
    uint64_t lo = w < s->wc ? s->bits[w] >> sh : 0;
    uint64_t hi = sh && w + 1 < s->wc ? s->bits[w + 1] << (64 - sh) : 0;
    *k++ = lo | hi;
  }
  memcpy(k, s->bits + s->wc, (s->words - s->wc) * sizeof *k);
}

static bool s_rec_equal(lin_search_t *s, const unsigned char *rec, uint64_t hash,
                        const void *state) {
  uint64_t rh;
  memcpy(&rh, rec, sizeof rh);
  if (rh != hash) return false;
  const unsigned char *key = rec + sizeof(uint64_t);
  size_t exact = 1 + s->ww; /* f and the window: equal; the pending words: a subset */
  if (memcmp(key, s->key, exact * sizeof(uint64_t)) != 0) return false;
  for (size_t w = exact; w < s->kw; w++) {
    uint64_t rw;
    memcpy(&rw, key + w * sizeof rw, sizeof rw);
    if (rw & ~s->key[w]) return false;
  }
  return s->m->equal(key + s->kw * sizeof(uint64_t), state);
}

static lin_outcome_t s_table_grow(lin_search_t *s) {
  size_t ncap = s->tcap ? s->tcap * 2 : 1024;
  if (ncap > UINT32_MAX || s_over_budget(s, s->slab_cap + ncap * sizeof *s->table))
    return LIN_S_MEMORY;
  uint32_t *t = calloc(ncap, sizeof *t);
  if (!t) return LIN_S_NOMEM;
  for (size_t r = 0; r < s->nrec; r++) {
    uint64_t h;
    memcpy(&h, s->slab + r * s->rec_size, sizeof h);
    size_t i = (size_t)h & (ncap - 1);
    while (t[i]) i = (i + 1) & (ncap - 1);
    t[i] = (uint32_t)(r + 1);
  }
  free(s->table);
  s->table = t;
  s->tcap = ncap;
  return LIN_S_OK;
}

/* Adds (s->bits, state) unless a record covers it. *added tells which; LIN_S_OK or a budget
 * outcome. */
static lin_outcome_t s_cache_add(lin_search_t *s, uint64_t zh, const void *state, bool *added) {
  uint64_t hash = s_mix(zh ^ (s->m->hash(state) * 0x9e3779b97f4a7c15ull));
  *added = false;
  s_key_build(s);
  if (s->tcap) {
    for (size_t i = (size_t)hash & (s->tcap - 1); s->table[i]; i = (i + 1) & (s->tcap - 1))
      if (s_rec_equal(s, s->slab + (s->table[i] - 1) * s->rec_size, hash, state)) return LIN_S_OK;
  }
  lin_outcome_t rc;
  if ((s->nrec + 1) * 2 > s->tcap && (rc = s_table_grow(s)) != LIN_S_OK) return rc;
  if (s->slab_len + s->rec_size > s->slab_cap) {
    size_t ncap = s->slab_cap ? s->slab_cap * 2 : 64 * s->rec_size;
    if (s_over_budget(s, ncap + s->tcap * sizeof *s->table)) return LIN_S_MEMORY;
    unsigned char *slab = realloc(s->slab, ncap);
    if (!slab) return LIN_S_NOMEM;
    s->slab = slab;
    s->slab_cap = ncap;
  }
  unsigned char *rec = s->slab + s->slab_len;
  memcpy(rec, &hash, sizeof hash);
  memcpy(rec + sizeof hash, s->key, s->kw * sizeof(uint64_t));
  memcpy(rec + sizeof hash + s->kw * sizeof(uint64_t), state, s->m->state_size);
  s->slab_len += s->rec_size;
  size_t i = (size_t)hash & (s->tcap - 1);
  while (s->table[i]) i = (i + 1) & (s->tcap - 1);
  s->table[i] = (uint32_t)(++s->nrec);
  if (s_cache_bytes(s) > s->cache_peak) s->cache_peak = s_cache_bytes(s);
  *added = true;
  return LIN_S_OK;
}

/* ---- the search -------------------------------------------------------------------------- */

static bool s_bit_get(const uint64_t *bits, size_t i) { return bits[i >> 6] >> (i & 63) & 1; }

/* Marks operation op linearized (on) or not, keeping the frontier. */
static void s_mark(lin_search_t *s, int32_t op, bool on) {
  size_t i = (size_t)s->slot[op];
  uint64_t m = 1ull << (i & 63);
  if (on)
    s->bits[i >> 6] |= m;
  else
    s->bits[i >> 6] &= ~m;
  if (i >= s->nc) return; /* a never-returned one */
  if (on && i == s->f)
    while (s->f < s->nc && s_bit_get(s->bits, s->f)) s->f++;
  if (!on && i < s->f) s->f = i;
}

/* Remembers the point the search reached at depth d, where return entry e stopped it. */
static void s_record_best(lin_search_t *s, size_t d, int32_t e) {
  s->best_depth = (long)d;
  for (size_t i = 0; i < d; i++) s->best_prefix[i] = s->ops[s->nodes[s->calls[i]].op];
  s->n_best_stuck = 0;
  for (int32_t c = s->nodes[0].next; c >= 0 && c != e; c = s->nodes[c].next)
    if (s->nodes[c].match >= 0) s->best_stuck[s->n_best_stuck++] = s->ops[s->nodes[c].op];
  s->best_blocking = s->ops[s->nodes[e].op];
}

static lin_outcome_t s_budget(lin_search_t *s) {
  const lin_check_opts_t *o = s->opts;
  if (o->max_steps && s->steps >= o->max_steps) return LIN_S_STEPS;
  if (o->should_stop && (s->steps & LIN_POLL_MASK) == 0 && o->should_stop(o->stop_ctx))
    return LIN_S_STOPPED;
  return LIN_S_OK;
}

/* Tries to linearize call entry e next: returns LIN_S_OK with *descended true when it was lifted
 * (depth and zh updated), false when the model refused it or the cache knows where it leads
 * (*known tells the latter). */
static lin_outcome_t s_try(lin_search_t *s, int32_t e, size_t *depth, uint64_t *zh, bool *descended,
                           bool *known) {
  const lin_node_t *nd = &s->nodes[e];
  const lin_op_t *op = lin_history_op(s->h, s->ops[nd->op]);
  *descended = *known = false;
  lin_outcome_t rc = s_budget(s);
  if (rc != LIN_S_OK) return rc;
  s->steps++;
  bool pending = op->return_us == LIN_PENDING;
  if (!s->m->step(s_state(s, *depth), &op->in, pending ? NULL : &op->out, s_state(s, *depth + 1)))
    return LIN_S_OK;
  uint64_t z = pending ? *zh : *zh ^ s_zobrist(nd->op);
  s_mark(s, nd->op, true);
  if ((rc = s_cache_add(s, z, s_state(s, *depth + 1), descended)) != LIN_S_OK) return rc;
  if (!*descended) {
    s_mark(s, nd->op, false);
    *known = true;
    return LIN_S_OK;
  }
  *zh = z;
  s->calls[(*depth)++] = e;
  s_lift(s, e);
  return LIN_S_OK;
}

/* Numbers the operations' bits (completed ones by rank of call time), and sizes the record key
 * by the width: the most completed operations called after one and no later than its return. */
static void s_prepare(lin_search_t *s) {
  const lin_model_t *m = s->m;
  s_build_list(s);
  size_t nc = 0, np = 0;
  for (size_t k = 0; k < 2 * s->n; k++) {
    const lin_event_t *ev = &s->events[k];
    if (ev->is_ret) continue;
    const lin_op_t *op = lin_history_op(s->h, s->ops[ev->op]);
    if (op->return_us == LIN_PENDING) continue;
    s->rank_call[nc] = op->call_us;
    s->slot[ev->op] = (int32_t)nc++;
  }
  s->nc = nc;
  s->wc = (nc + 63) / 64;
  size_t width = 0;
  for (size_t i = 0; i < s->n; i++) {
    const lin_op_t *op = lin_history_op(s->h, s->ops[i]);
    bool pending = op->return_us == LIN_PENDING;
    s->cls[i] =
        !pending && m->no_effect && m->no_effect(&op->in, &op->out) ? LIN_C_INERT : LIN_C_OTHER;
    if (pending) {
      s->slot[i] = (int32_t)(s->wc * 64 + np++);
      continue;
    }
    size_t lo = (size_t)s->slot[i], hi = nc; /* first rank called after op returned */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (s->rank_call[mid] <= op->return_us)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo - 1 - (size_t)s->slot[i] > width) width = lo - 1 - (size_t)s->slot[i];
  }
  s->words = s->wc + (np + 63) / 64;
  s->ww = nc ? (width + 1 + 63) / 64 : 0;
  if (s->ww > s->wc) s->ww = s->wc;
  s->kw = 1 + s->ww + (s->words - s->wc);
  s->f = 0;
  memset(s->bits, 0, s->words * sizeof *s->bits);
  s_cache_reset(s);
}

/* Wing & Gong's search with Lowe's cache, plus one reduction.
 *
 * An operation without effect (lin_model_t.no_effect: a read, a failed write) that the model
 * accepts in the current state can be linearized right now: in any linearization of the rest
 * it can be moved here (every operation that must precede it is already linearized, or its
 * call would come after a return in the list; it reads the state it leaves and changes nothing
 * on the way). So a node makes two passes over its candidates: the first tries only no-effect
 * operations and commits to the first that fits (the node then succeeds or fails with that
 * child, and backtracking pops through it); only when none fits does the second pass try the
 * others in list order, skipping the no-effect ones, which the model refused here. On
 * reads-heavy histories this removes most of the branching (a 2,000-operation single register
 * with 16 clients: from 29 million steps to 1 million). Trying never-returned operations last
 * instead of in list order was measured and is slower. */
static lin_outcome_t s_search(lin_search_t *s) {
  const lin_model_t *m = s->m;
  s_prepare(s);
  s->best_depth = -1;
  m->init(s_state(s, 0));
  size_t depth = 0;
  uint64_t zh = 0;
  uint8_t pass = LIN_C_INERT;
  int32_t e = s->nodes[0].next;
  for (;;) {
    if (e < 0) return LIN_S_OK;
    const lin_node_t *nd = &s->nodes[e];
    bool backtrack = false;
    if (nd->match >= 0) { /* a call: a candidate */
      if (s->cls[nd->op] != pass) {
        e = nd->next;
        continue;
      }
      bool descended, known;
      lin_outcome_t rc = s_try(s, e, &depth, &zh, &descended, &known);
      if (rc != LIN_S_OK) return rc;
      if (descended) {
        pass = LIN_C_INERT;
        e = s->nodes[0].next;
        continue;
      }
      /* a no-effect operation that fits but leads where the search failed: so does this node */
      if (!(pass == LIN_C_INERT && known)) {
        e = nd->next;
        continue;
      }
      backtrack = true;
    } else if (lin_history_op(s->h, s->ops[nd->op])->return_us == LIN_PENDING) {
      return LIN_S_OK; /* the first return never comes: every completed operation is placed */
    } else if (pass == LIN_C_INERT) { /* end of the candidates: now the others */
      pass = LIN_C_OTHER;
      e = s->nodes[0].next;
      continue;
    } else { /* a return: its operation should have been linearized by now */
      if ((long)depth > s->best_depth) s_record_best(s, depth, e);
      backtrack = true;
    }
    if (backtrack) { /* pop through committed no-effect operations to the last real choice */
      int32_t o;
      do {
        if (depth == 0) return LIN_S_FAIL;
        e = s->calls[--depth];
        o = s->nodes[e].op;
        s_mark(s, o, false);
        if (lin_history_op(s->h, s->ops[o])->return_us != LIN_PENDING) zh ^= s_zobrist(o);
        s_unlift(s, e);
      } while (s->cls[o] == LIN_C_INERT);
      pass = s->cls[o]; /* resume that node's pass after the operation just undone */
      e = s->nodes[e].next;
    }
  }
}

/* ---- partitioning and the whole check ---------------------------------------------------- */

typedef struct {
  const char *key; /* borrowed */
  size_t first, count, id;
} lin_part_t;

static int s_by_size(const void *a, const void *b) {
  const lin_part_t *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? -1 : 1;
  return x->id < y->id ? -1 : (x->id > y->id);
}

/* Splits the operations the search needs into partitions: parts (caller frees) and order (the
 * history indices grouped by partition; caller frees). Returns RV_OK or RV_ENOMEM. */
static int s_partition(const lin_history_t *h, const lin_model_t *m, lin_part_t **parts_out,
                       size_t *nparts_out, size_t **order_out, size_t *nsearched) {
  size_t n = lin_history_count(h), np = 0, tcap = 64, ns = 0;
  while (tcap < 2 * n) tcap *= 2;
  size_t *tab = malloc(tcap * sizeof *tab);        /* partition index + 1, 0 = empty */
  size_t *pid = malloc((n ? n : 1) * sizeof *pid); /* op -> partition, SIZE_MAX = dropped */
  lin_part_t *parts = malloc((n ? n : 1) * sizeof *parts);
  size_t *order = malloc((n ? n : 1) * sizeof *order);
  if (!tab || !pid || !parts || !order) {
    free(tab), free(pid), free(parts), free(order);
    return RV_ENOMEM;
  }
  memset(tab, 0, tcap * sizeof *tab);
  for (size_t i = 0; i < n; i++) {
    const lin_op_t *op = lin_history_op(h, i);
    pid[i] = SIZE_MAX;
    if (op->return_us == LIN_PENDING && m->no_effect && m->no_effect(&op->in, NULL)) continue;
    const char *key = m->partition ? m->partition(&op->in) : "";
    if (!key) key = "";
    size_t t = (size_t)lin_str_hash(key) & (tcap - 1);
    while (tab[t] && strcmp(parts[tab[t] - 1].key, key) != 0) t = (t + 1) & (tcap - 1);
    if (!tab[t]) {
      parts[np] = (lin_part_t){key, 0, 0, np};
      tab[t] = ++np;
    }
    pid[i] = tab[t] - 1;
    parts[pid[i]].count++;
    ns++;
  }
  size_t at = 0; /* counting sort of the operations by partition, stable */
  for (size_t p = 0; p < np; p++) {
    parts[p].first = at;
    at += parts[p].count;
    parts[p].count = 0;
  }
  for (size_t i = 0; i < n; i++)
    if (pid[i] != SIZE_MAX) order[parts[pid[i]].first + parts[pid[i]].count++] = i;
  qsort(parts, np, sizeof *parts, s_by_size);
  free(tab);
  free(pid);
  *parts_out = parts;
  *nparts_out = np;
  *order_out = order;
  *nsearched = ns;
  return RV_OK;
}

static int s_alloc(lin_search_t *s, size_t cap) {
  size_t c = cap ? cap : 1;
  s->cap = cap;
  s->ssz = (s->m->state_size + 7) & ~(size_t)7;
  s->nodes = malloc((2 * c + 1) * sizeof *s->nodes);
  s->events = malloc(2 * c * sizeof *s->events);
  s->calls = malloc(c * sizeof *s->calls);
  s->cls = malloc(c * sizeof *s->cls);
  s->slot = malloc(c * sizeof *s->slot);
  s->rank_call = malloc(c * sizeof *s->rank_call);
  s->key = malloc(((c + 63) / 64 + 3) * sizeof *s->key);
  s->states = malloc((c + 1) * s->ssz);
  s->bits = malloc(((c + 63) / 64 + 1) * sizeof *s->bits); /* + 1: two parts, each rounded up */
  s->best_prefix = malloc(c * sizeof *s->best_prefix);
  s->best_stuck = malloc(c * sizeof *s->best_stuck);
  if (!s->nodes || !s->events || !s->calls || !s->cls || !s->slot || !s->rank_call || !s->key ||
      !s->states || !s->bits || !s->best_prefix || !s->best_stuck)
    return RV_ENOMEM;
  return RV_OK;
}

static void s_free(lin_search_t *s) {
  free(s->nodes), free(s->events), free(s->calls), free(s->cls), free(s->slot), free(s->rank_call),
      free(s->key), free(s->states), free(s->bits);
  free(s->best_prefix), free(s->best_stuck), free(s->slab), free(s->table);
}

/* Copies the failing partition's best point into r. */
static int s_keep_failure(lin_result_t *r, const lin_search_t *s, const lin_part_t *p) {
  r->key = p->key;
  r->key_ops = p->count;
  r->n_prefix = s->best_depth > 0 ? (size_t)s->best_depth : 0;
  r->n_stuck = s->n_best_stuck;
  r->prefix = malloc((r->n_prefix ? r->n_prefix : 1) * sizeof *r->prefix);
  r->stuck = malloc((r->n_stuck ? r->n_stuck : 1) * sizeof *r->stuck);
  if (!r->prefix || !r->stuck) return RV_ENOMEM;
  memcpy(r->prefix, s->best_prefix, r->n_prefix * sizeof *r->prefix);
  memcpy(r->stuck, s->best_stuck, r->n_stuck * sizeof *r->stuck);
  r->blocking = s->best_blocking;
  return RV_OK;
}

static char *s_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *s_strdupf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!out) return NULL;
  va_start(ap, fmt);
  vsnprintf(out, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return out;
}

static int s_summarize(lin_result_t *r) {
  char key[256];
  size_t kl = 0;
  key[0] = '\0';
  if (r->key) lin_str_quote(key, sizeof key, &kl, r->key);
  switch (r->verdict) {
    case LIN_LINEARIZABLE:
      r->summary = s_strdupf("linearizable: %zu ops in %zu partitions", r->n_ops, r->n_partitions);
      break;
    case LIN_NOT_LINEARIZABLE:
      r->summary = s_strdupf(
          "NOT linearizable: %zu of %zu partitions failed; partition %s "
          "(%zu ops) has no linearization",
          r->n_failed, r->n_partitions, key, r->key_ops);
      break;
    case LIN_UNKNOWN:
      r->summary = s_strdupf(
          "unknown: budget exhausted (%s) after %llu steps in partition %s "
          "(%zu ops); %zu of %zu partitions undecided, none failed",
          r->why_unknown, (unsigned long long)r->steps, key, r->key_ops, r->n_unknown,
          r->n_partitions);
      break;
  }
  return r->summary ? RV_OK : RV_ENOMEM;
}

void lin_result_destroy(lin_result_t **rp) {
  if (!rp || !*rp) return;
  lin_result_t *r = *rp;
  free(r->prefix), free(r->stuck), free(r->summary), free(r->report);
  free(r);
  *rp = NULL;
}

const char *lin_verdict_name(lin_verdict_t v) {
  switch (v) {
    case LIN_LINEARIZABLE: return "linearizable";
    case LIN_NOT_LINEARIZABLE: return "NOT linearizable";
    case LIN_UNKNOWN: return "unknown";
  }
  return "verdict?";
}

static const char *s_why(lin_outcome_t o) {
  switch (o) {
    case LIN_S_STEPS: return "step budget";
    case LIN_S_MEMORY: return "memory budget";
    case LIN_S_STOPPED: return "stopped";
    default: return NULL;
  }
}

/* Searches each partition in turn; fills r's counts and the failure or unknown point. */
static int s_run(lin_search_t *s, const lin_part_t *parts, size_t np, const size_t *order,
                 lin_result_t *r, rv_err_t *err) {
  for (size_t p = 0; p < np; p++) {
    s->ops = order + parts[p].first;
    s->n = parts[p].count;
    lin_outcome_t o = s_search(s);
    if (o == LIN_S_NOMEM) return rv_err_set(err, RV_ENOMEM, "lincheck: out of memory");
    if (o == LIN_S_FAIL && r->n_failed++ == 0 && s_keep_failure(r, s, &parts[p]))
      return rv_err_set(err, RV_ENOMEM, "lincheck: out of memory");
    if (o != LIN_S_OK && o != LIN_S_FAIL) {
      if (r->n_unknown++ == 0) {
        r->why_unknown = s_why(o);
        if (!r->n_failed) r->key = parts[p].key, r->key_ops = parts[p].count;
      }
      /* the memory budget is per partition; steps and the stop test are for the whole check */
      if (o != LIN_S_MEMORY) {
        r->n_unknown += np - p - 1;
        break;
      }
    }
  }
  r->steps = s->steps;
  r->cache_bytes = s->cache_peak;
  r->verdict = r->n_failed ? LIN_NOT_LINEARIZABLE : r->n_unknown ? LIN_UNKNOWN : LIN_LINEARIZABLE;
  return RV_OK;
}

int lin_check(const lin_history_t *h, const lin_model_t *m, const lin_check_opts_t *opts,
              lin_result_t **out, rv_err_t *err) {
  *out = NULL;
  if (!m || !m->init || !m->step || !m->equal || !m->hash || !m->state_size || !m->describe_op ||
      !m->describe_state)
    return rv_err_set(err, RV_EINVAL, "lincheck: the model is incomplete");
  static const lin_check_opts_t no_budget = {0};
  lin_result_t *r = calloc(1, sizeof *r);
  lin_search_t s = {.h = h, .m = m, .opts = opts ? opts : &no_budget};
  lin_part_t *parts = NULL;
  size_t np = 0, *order = NULL;
  int rc = r ? s_partition(h, m, &parts, &np, &order, &r->n_searched) : RV_ENOMEM;
  if (rc) {
    free(r);
    return rv_err_set(err, RV_ENOMEM, "lincheck: out of memory");
  }
  r->n_ops = lin_history_count(h);
  r->n_partitions = np;
  size_t cap = np ? parts[np - 1].count : 0; /* sorted by size: the last is the largest */
  rc = s_alloc(&s, cap) ? rv_err_set(err, RV_ENOMEM, "lincheck: out of memory")
                        : s_run(&s, parts, np, order, r, err);
  if (!rc && (s_summarize(r) || lin_report_format(r, h, m, &r->report)))
    rc = rv_err_set(err, RV_ENOMEM, "lincheck: out of memory");
  s_free(&s);
  free(parts);
  free(order);
  if (rc) {
    lin_result_destroy(&r);
    return rc;
  }
  *out = r;
  return RV_OK;
}
