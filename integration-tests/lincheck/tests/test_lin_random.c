/* Randomized tests of the checker, seeded (LIN_TEST_SEED, printed):
 *  - histories generated from a real sequential execution (each operation takes effect at a
 *    random instant inside its interval; some never return and take effect or not) must always
 *    be linearizable, on the register and the namespace model;
 *  - changing one read to a value nobody wrote must always be caught (provably not
 *    linearizable), in the partition of that read; other single-result mutations are usually
 *    caught, and the rate is printed, not asserted (some mutations are still linearizable);
 *  - on small random histories the search agrees with a brute-force enumeration of orders;
 *  - performance: 10,000 operations over 100 paths from 16 clients check well under a second.
 * The sequential reference below is written independently of the models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lin_jsonl.h"
#include "lin_testutil.h"

#define S_STR 32

/* A generated operation and its outcome in the sequential execution. */
typedef struct {
  uint64_t client;
  int op;
  unsigned flags;
  int key;
  char value[S_STR], expect[S_STR], out[S_STR];
  bool has_value, has_expect, has_out;
  int64_t call, lin, ret; /* ret LIN_PENDING: never returned */
  bool effective;         /* takes effect at lin */
  int result;
} s_gop_t;

typedef struct {
  bool ns; /* namespace model, else register */
  int clients, keys, ops;
  int pending_pct; /* operations that never return */
  int64_t gap, latency;
} s_cfg_t;

/* The sequential reference: per key, a kind (0 absent, 1 dir, 2 file / register written) and a
 * value. */
typedef struct {
  int kind;
  char value[S_STR];
} s_ref_t;

static void s_key_name(const s_cfg_t *c, int key, char *buf, size_t cap) {
  snprintf(buf, cap, c->ns ? "/lin/f%d" : "k%d", key);
}

static void s_ref_apply_reg(s_ref_t *r, s_gop_t *g) {
  g->result = RV_OK;
  switch (g->op) {
    case LIN_REG_READ:
      g->has_out = r->kind != 0;
      if (g->has_out) strcpy(g->out, r->value);
      break;
    case LIN_REG_WRITE: r->kind = 2, strcpy(r->value, g->value); break;
    case LIN_REG_CAS:
      if (g->has_expect ? (r->kind && strcmp(r->value, g->expect) == 0) : r->kind == 0)
        r->kind = 2, strcpy(r->value, g->value);
      else
        g->result = RV_ESTALE;
      break;
  }
}

static void s_ref_apply_ns(s_ref_t *r, s_gop_t *g) {
  g->result = RV_OK;
  bool dir = r->kind == 1, file = r->kind == 2, absent = r->kind == 0;
  switch (g->op) {
    case LIN_NS_MKDIR:
      if (absent)
        r->kind = 1;
      else
        g->result = RV_EEXIST;
      break;
    case LIN_NS_PUT:
      if (dir)
        g->result = RV_EISDIR;
      else if (file && !(g->flags & LIN_F_OVERWRITE))
        g->result = RV_EEXIST;
      else
        r->kind = 2, strcpy(r->value, g->value);
      break;
    case LIN_NS_TOUCHZ:
      if (dir)
        g->result = RV_EISDIR;
      else if (file && r->value[0])
        g->result = RV_EEXIST;
      else if (absent)
        r->kind = 2, r->value[0] = '\0';
      break;
    case LIN_NS_RM:
      if (absent)
        g->result = RV_ENOTFOUND;
      else
        r->kind = 0;
      break;
    case LIN_NS_CAT:
      if (absent)
        g->result = RV_ENOTFOUND;
      else if (dir)
        g->result = RV_EISDIR;
      else
        g->has_out = true, strcpy(g->out, r->value);
      break;
    case LIN_NS_STAT:
      if (absent)
        g->result = RV_ENOTFOUND;
      else
        g->has_out = true, strcpy(g->out, dir ? "dir" : "file");
      break;
  }
}

static void s_pick_op(const s_cfg_t *c, lin_t_rng_t *rng, s_gop_t *g, int n) {
  int p = (int)lin_t_below(rng, 100);
  snprintf(g->value, S_STR, "c%llu-%d", (unsigned long long)g->client, n);
  if (!c->ns) {
    g->op = p < 45 ? LIN_REG_READ : p < 85 ? LIN_REG_WRITE : LIN_REG_CAS;
    g->has_value = g->op != LIN_REG_READ;
    if (g->op == LIN_REG_CAS) {
      /* expect a value written earlier (often not the current one), or "never written" */
      int back = (int)lin_t_below(rng, 6);
      g->has_expect = back > 0 && n > back;
      if (g->has_expect)
        snprintf(g->expect, S_STR, "c%llu-%d", (unsigned long long)g->client, n - back);
    }
    return;
  }
  g->op = p < 10   ? LIN_NS_MKDIR
          : p < 35 ? LIN_NS_PUT
          : p < 40 ? LIN_NS_TOUCHZ
          : p < 55 ? LIN_NS_RM
          : p < 85 ? LIN_NS_CAT
                   : LIN_NS_STAT;
  g->has_value = g->op == LIN_NS_PUT;
  if (g->op == LIN_NS_PUT && lin_t_below(rng, 2)) g->flags = LIN_F_OVERWRITE;
}

static int s_by_lin(const void *a, const void *b) {
  const s_gop_t *x = *(const s_gop_t *const *)a, *y = *(const s_gop_t *const *)b;
  if (x->lin != y->lin) return x->lin < y->lin ? -1 : 1;
  return x < y ? -1 : (x > y);
}

/* Generates c->ops operations from c->clients clients, runs the effective ones in order of their
 * instants through the reference, and fills the answers. Caller frees. */
static s_gop_t *s_generate(const s_cfg_t *c, lin_t_rng_t *rng) {
  s_gop_t *g = calloc((size_t)c->ops, sizeof *g);
  int64_t *t = calloc((size_t)c->clients, sizeof *t);
  s_gop_t **order = calloc((size_t)c->ops, sizeof *order);
  s_ref_t *ref = calloc((size_t)c->keys, sizeof *ref);
  assert_non_null(g), assert_non_null(t), assert_non_null(order), assert_non_null(ref);
  int neff = 0;
  for (int i = 0; i < c->ops; i++) {
    int cl = 0; /* the client that is free first goes next */
    for (int k = 1; k < c->clients; k++)
      if (t[k] < t[cl]) cl = k;
    s_gop_t *o = &g[i];
    o->client = (uint64_t)cl;
    o->key = (int)lin_t_below(rng, (uint64_t)c->keys);
    s_pick_op(c, rng, o, i);
    o->call = t[cl] + (int64_t)lin_t_below(rng, (uint64_t)c->gap + 1);
    o->lin = o->call + 1 + (int64_t)lin_t_below(rng, (uint64_t)c->latency);
    o->ret = o->lin + 1 + (int64_t)lin_t_below(rng, (uint64_t)c->latency);
    o->effective = true;
    if ((int)lin_t_below(rng, 100) < c->pending_pct) {
      /* no answer: it takes effect (maybe long after the client gave up) or never */
      o->effective = lin_t_below(rng, 2);
      o->lin = o->call + 1 + (int64_t)lin_t_below(rng, (uint64_t)c->latency * 20);
      t[cl] = o->call + 3 * c->latency; /* the client's timeout */
      o->ret = LIN_PENDING;
    } else {
      t[cl] = o->ret;
    }
    if (o->effective) order[neff++] = o;
  }
  qsort(order, (size_t)neff, sizeof *order, s_by_lin);
  for (int i = 0; i < neff; i++)
    (c->ns ? s_ref_apply_ns : s_ref_apply_reg)(&ref[order[i]->key], order[i]);
  free(t), free(order), free(ref);
  return g;
}

static lin_history_t *s_history(const s_cfg_t *c, const s_gop_t *g) {
  lin_history_t *h = lin_history_new();
  char key[32];
  for (int i = 0; i < c->ops; i++) {
    s_key_name(c, g[i].key, key, sizeof key);
    lin_t_add(h, g[i].client, g[i].op, g[i].flags, key, g[i].has_value ? g[i].value : NULL,
              g[i].has_expect ? g[i].expect : NULL, g[i].call, g[i].ret, g[i].result,
              g[i].has_out ? g[i].out : NULL);
  }
  return h;
}

static const lin_model_t *s_model(const s_cfg_t *c) {
  return c->ns ? &lin_model_ns : &lin_model_reg;
}

/* Writes the history to a file named after the test, for replay with rv-lincheck. */
static void s_dump(const s_cfg_t *c, const lin_history_t *h, const char *name) {
  FILE *f = fopen(name, "w");
  if (!f) return;
  char line[512];
  for (size_t i = 0; i < lin_history_count(h); i++) {
    lin_jsonl_format(lin_history_op(h, i), s_model(c), line, sizeof line);
    fprintf(f, "%s\n", line);
  }
  fclose(f);
  fprintf(stderr, "history written to %s\n", name);
}

static void s_all_linearizable(const s_cfg_t *c, int trials, uint64_t seed) {
  lin_t_rng_t rng = {seed};
  for (int t = 0; t < trials; t++) {
    s_gop_t *g = s_generate(c, &rng);
    lin_history_t *h = s_history(c, g);
    lin_result_t *r;
    if (lin_t_check(h, s_model(c), NULL, &r) != LIN_LINEARIZABLE) {
      fprintf(stderr, "trial %d: %s\n%s", t, r->summary, r->report);
      s_dump(c, h, "test_lin_random.failed.jsonl");
      fail();
    }
    lin_result_destroy(&r);
    lin_history_destroy(&h);
    free(g);
  }
}

static void test_register_executions_are_linearizable(void **state) {
  s_cfg_t c = {.ns = false,
               .clients = 8,
               .keys = 3,
               .ops = 300,
               .pending_pct = 5,
               .gap = 50,
               .latency = 400};
  s_all_linearizable(&c, 200, lin_t_seed("register executions", 1));
}

static void test_namespace_executions_are_linearizable(void **state) {
  s_cfg_t c = {.ns = true,
               .clients = 8,
               .keys = 10,
               .ops = 400,
               .pending_pct = 5,
               .gap = 50,
               .latency = 400};
  s_all_linearizable(&c, 200, lin_t_seed("namespace executions", 2));
}

/* Index of a random completed read that returned ok (cat / read), or -1. */
static int s_pick_read(const s_cfg_t *c, const s_gop_t *g, lin_t_rng_t *rng) {
  int read_op = c->ns ? LIN_NS_CAT : LIN_REG_READ;
  for (int tries = 0; tries < 10 * c->ops; tries++) {
    int i = (int)lin_t_below(rng, (uint64_t)c->ops);
    if (g[i].op == read_op && g[i].ret != LIN_PENDING && g[i].result == RV_OK) return i;
  }
  return -1;
}

/* A read changed to return a value nobody wrote is never linearizable, and the failure is in
 * that read's partition (the others are untouched). */
static void s_never_written_is_caught(const s_cfg_t *c, int trials, uint64_t seed) {
  lin_t_rng_t rng = {seed};
  int checked = 0;
  for (int t = 0; t < trials; t++) {
    s_gop_t *g = s_generate(c, &rng);
    int i = s_pick_read(c, g, &rng);
    if (i >= 0) {
      snprintf(g[i].out, S_STR, "never-written-%d", t);
      g[i].has_out = true;
      lin_history_t *h = s_history(c, g);
      lin_result_t *r;
      char key[32];
      s_key_name(c, g[i].key, key, sizeof key);
      if (lin_t_check(h, s_model(c), NULL, &r) != LIN_NOT_LINEARIZABLE) {
        fprintf(stderr, "trial %d: mutated op %d missed: %s\n", t, i, r->summary);
        s_dump(c, h, "test_lin_random.missed.jsonl");
        fail();
      }
      assert_int_equal(r->n_failed, 1);
      assert_string_equal(r->key, key);
      checked++;
      lin_result_destroy(&r);
      lin_history_destroy(&h);
    }
    free(g);
  }
  assert_true(checked > trials / 2);
}

static void test_read_of_never_written_value_is_caught(void **state) {
  s_cfg_t reg = {.ns = false,
                 .clients = 8,
                 .keys = 3,
                 .ops = 200,
                 .pending_pct = 5,
                 .gap = 50,
                 .latency = 400};
  s_never_written_is_caught(&reg, 200, lin_t_seed("never-written register", 3));
  s_cfg_t ns = {.ns = true,
                .clients = 8,
                .keys = 10,
                .ops = 300,
                .pending_pct = 5,
                .gap = 50,
                .latency = 400};
  s_never_written_is_caught(&ns, 200, lin_t_seed("never-written namespace", 4));
}

/* Another answer the op can give at all (so the history still validates). */
static void s_mutate_result(s_gop_t *g, lin_t_rng_t *rng) {
  switch (g->op) {
    case LIN_NS_MKDIR: g->result = g->result == RV_OK ? RV_EEXIST : RV_OK; break;
    case LIN_NS_RM: g->result = g->result == RV_OK ? RV_ENOTFOUND : RV_OK; break;
    case LIN_NS_PUT:
    case LIN_NS_TOUCHZ: g->result = g->result == RV_OK ? RV_EISDIR : RV_OK; break;
    case LIN_NS_STAT:
      if (g->result != RV_OK)
        g->result = RV_OK, g->has_out = true, strcpy(g->out, "file");
      else if (lin_t_below(rng, 2))
        g->result = RV_ENOTFOUND, g->has_out = false;
      else
        strcpy(g->out, strcmp(g->out, "dir") == 0 ? "file" : "dir");
      break;
    case LIN_NS_CAT:
      if (g->result == RV_OK)
        g->result = RV_ENOTFOUND, g->has_out = false;
      else
        g->result = RV_OK, g->has_out = true, strcpy(g->out, "");
      break;
  }
}

/* Single-result mutations that may or may not stay linearizable: the rate is reported. */
static void test_random_result_mutations_detection_rate(void **state) {
  s_cfg_t c = {.ns = true,
               .clients = 8,
               .keys = 10,
               .ops = 300,
               .pending_pct = 5,
               .gap = 50,
               .latency = 400};
  lin_t_rng_t rng = {lin_t_seed("result mutations", 5)};
  int caught = 0, trials = 300;
  for (int t = 0; t < trials; t++) {
    s_gop_t *g = s_generate(&c, &rng);
    int i;
    do i = (int)lin_t_below(&rng, (uint64_t)c.ops);
    while (g[i].ret == LIN_PENDING);
    s_mutate_result(&g[i], &rng);
    lin_history_t *h = s_history(&c, g);
    caught += lin_t_check(h, &lin_model_ns, NULL, NULL) == LIN_NOT_LINEARIZABLE;
    lin_history_destroy(&h);
    free(g);
  }
  printf("result mutations caught: %d of %d (%.0f%%)\n", caught, trials, 100.0 * caught / trials);
}

/* ---- brute force: every order consistent with real time -------------------------------- */

/* An independent oracle: depth-first over "which operation next", from any operation whose
 * real-time predecessors are placed, never-returned ones optional; failed (placed set, state)
 * pairs are remembered so 12 operations stay cheap. No list, no frontier, no reductions. */
#define S_BRUTE_MAX 12
#define S_SEEN_CAP 65536

typedef struct {
  const lin_history_t *h;
  const lin_model_t *m;
  size_t n;
  struct {
    uint32_t mask;                       /* placed + 1; 0 = empty slot */
    _Alignas(8) unsigned char state[32]; /* models may assume 8-byte alignment */
  } seen[S_SEEN_CAP];
} s_brute_t;

static bool s_seen(s_brute_t *b, uint32_t mask, const unsigned char *state, bool add) {
  size_t i = (size_t)((b->m->hash(state) ^ mask * 0x9e3779b97f4a7c15ull) % S_SEEN_CAP);
  for (; b->seen[i].mask; i = (i + 1) % S_SEEN_CAP)
    if (b->seen[i].mask == mask + 1 && b->m->equal(b->seen[i].state, state)) return true;
  if (add) {
    b->seen[i].mask = mask + 1;
    memcpy(b->seen[i].state, state, b->m->state_size);
  }
  return false;
}

static bool s_brute(s_brute_t *b, uint32_t placed, const unsigned char *state) {
  bool all = true; /* every completed operation placed: the rest never took effect */
  for (size_t i = 0; i < b->n; i++)
    all &= (placed >> i & 1) || lin_history_op(b->h, i)->return_us == LIN_PENDING;
  if (all) return true;
  if (s_seen(b, placed, state, false)) return false;
  _Alignas(8) unsigned char next[32];
  for (size_t i = 0; i < b->n; i++) {
    if (placed >> i & 1) continue;
    const lin_op_t *op = lin_history_op(b->h, i);
    bool ready = true; /* every operation that returned before i was called is placed */
    for (size_t j = 0; j < b->n; j++)
      if (!(placed >> j & 1) && lin_history_op(b->h, j)->return_us < op->call_us) ready = false;
    if (!ready) continue;
    if (!b->m->step(state, &op->in, op->return_us == LIN_PENDING ? NULL : &op->out, next)) continue;
    if (s_brute(b, placed | 1u << i, next)) return true;
  }
  s_seen(b, placed, state, true);
  return false;
}

static const char *const s_vals[] = {"1", "2", "3"};

/* A random register operation with a random (often wrong) answer. */
static void s_random_reg(lin_history_t *h, lin_t_rng_t *rng, uint64_t c, int64_t call,
                         int64_t ret) {
  const char *v = s_vals[lin_t_below(rng, 3)];
  switch (lin_t_below(rng, 3)) {
    case 0: lin_t_readk(h, c, "x", lin_t_below(rng, 5) ? v : NULL, call, ret); break;
    case 1: lin_t_writek(h, c, "x", v, call, ret); break;
    default:
      lin_t_add(h, c, LIN_REG_CAS, 0, "x", s_vals[lin_t_below(rng, 3)],
                lin_t_below(rng, 4) ? v : NULL, call, ret, lin_t_below(rng, 2) ? RV_OK : RV_ESTALE,
                NULL);
  }
}

/* A random namespace operation on one path with an answer from its domain. */
static void s_random_ns(lin_history_t *h, lin_t_rng_t *rng, uint64_t c, int64_t call, int64_t ret) {
  static const int results[][3] = {
      [LIN_NS_MKDIR] = {RV_OK, RV_EEXIST, RV_OK},      [LIN_NS_PUT] = {RV_OK, RV_EEXIST, RV_EISDIR},
      [LIN_NS_TOUCHZ] = {RV_OK, RV_EEXIST, RV_OK},     [LIN_NS_RM] = {RV_OK, RV_ENOTFOUND, RV_OK},
      [LIN_NS_CAT] = {RV_OK, RV_ENOTFOUND, RV_EISDIR}, [LIN_NS_STAT] = {RV_OK, RV_ENOTFOUND, RV_OK},
  };
  int op = 1 + (int)lin_t_below(rng, 6);
  int result = results[op][lin_t_below(rng, 3)];
  unsigned flags = op == LIN_NS_PUT && lin_t_below(rng, 2) ? LIN_F_OVERWRITE : 0;
  if (flags && result == RV_EEXIST) result = RV_OK;
  const char *v = s_vals[lin_t_below(rng, 3)], *out = NULL;
  if (op == LIN_NS_CAT && result == RV_OK) out = lin_t_below(rng, 4) ? v : "";
  if (op == LIN_NS_STAT && result == RV_OK) out = lin_t_below(rng, 2) ? "file" : "dir";
  lin_t_add(h, c, op, flags, "/d/a", op == LIN_NS_PUT ? v : NULL, NULL, call, ret, result, out);
}

static void s_against_brute_force(const lin_model_t *m, uint64_t seed) {
  lin_t_rng_t rng = {seed};
  s_brute_t *b = malloc(sizeof *b);
  assert_non_null(b);
  int verdicts[2] = {0, 0};
  for (int t = 0; t < 4000; t++) {
    lin_history_t *h = lin_history_new();
    size_t n = 1 + lin_t_below(&rng, S_BRUTE_MAX);
    for (size_t i = 0; i < n; i++) { /* each its own client: any overlap is allowed */
      int64_t call = (int64_t)lin_t_below(&rng, 40), ret = call + (int64_t)lin_t_below(&rng, 15);
      if (lin_t_below(&rng, 6) == 0) ret = LIN_PENDING;
      (m == &lin_model_reg ? s_random_reg : s_random_ns)(h, &rng, i, call, ret);
    }
    memset(b->seen, 0, sizeof b->seen);
    b->h = h, b->m = m, b->n = n;
    _Alignas(8) unsigned char init[32];
    m->init(init);
    bool want = s_brute(b, 0, init);
    lin_verdict_t got = lin_t_check(h, m, NULL, NULL);
    if (got != (want ? LIN_LINEARIZABLE : LIN_NOT_LINEARIZABLE)) {
      s_cfg_t c = {.ns = m == &lin_model_ns};
      s_dump(&c, h, "test_lin_random.brute.jsonl");
      fail_msg("trial %d: brute force says %s, the checker %s", t, want ? "linearizable" : "not",
               lin_verdict_name(got));
    }
    verdicts[want]++;
    lin_history_destroy(&h);
  }
  free(b);
  printf("brute force, %s model: %d linearizable, %d not\n", m->name, verdicts[1], verdicts[0]);
  assert_true(verdicts[0] > 400 && verdicts[1] > 400); /* both answers exercised */
}

/* Histories from real executions (one key, 4 clients, timeouts), half of them with one answer
 * changed: they sit on the boundary, where a wrong prune would show. */
static void s_executions_against_brute_force(bool ns, uint64_t seed) {
  lin_t_rng_t rng = {seed};
  s_brute_t *b = malloc(sizeof *b);
  assert_non_null(b);
  const lin_model_t *m = ns ? &lin_model_ns : &lin_model_reg;
  int verdicts[2] = {0, 0};
  for (int t = 0; t < 3000; t++) {
    s_cfg_t c = {.ns = ns,
                 .clients = 4,
                 .keys = 1,
                 .ops = 1 + (int)lin_t_below(&rng, S_BRUTE_MAX),
                 .pending_pct = 15,
                 .gap = 20,
                 .latency = 60};
    s_gop_t *g = s_generate(&c, &rng);
    if (lin_t_below(&rng, 2)) {
      int i = (int)lin_t_below(&rng, (uint64_t)c.ops);
      if (g[i].ret != LIN_PENDING && ns) s_mutate_result(&g[i], &rng);
      if (g[i].ret != LIN_PENDING && !ns && g[i].op == LIN_REG_READ)
        g[i].has_out = !g[i].has_out || lin_t_below(&rng, 2), strcpy(g[i].out, "c0-0");
      if (g[i].ret != LIN_PENDING && !ns && g[i].op == LIN_REG_CAS)
        g[i].result = g[i].result == RV_OK ? RV_ESTALE : RV_OK;
    }
    lin_history_t *h = s_history(&c, g);
    memset(b->seen, 0, sizeof b->seen);
    b->h = h, b->m = m, b->n = (size_t)c.ops;
    _Alignas(8) unsigned char init[32];
    m->init(init);
    bool want = s_brute(b, 0, init);
    lin_verdict_t got = lin_t_check(h, m, NULL, NULL);
    if (got != (want ? LIN_LINEARIZABLE : LIN_NOT_LINEARIZABLE)) {
      s_dump(&c, h, "test_lin_random.brute.jsonl");
      fail_msg("trial %d: brute force says %s, the checker %s", t, want ? "linearizable" : "not",
               lin_verdict_name(got));
    }
    verdicts[want]++;
    lin_history_destroy(&h);
    free(g);
  }
  free(b);
  printf("brute force, %s executions: %d linearizable, %d not\n", m->name, verdicts[1],
         verdicts[0]);
  assert_true(verdicts[0] > 300 && verdicts[1] > 300);
}

static void test_agrees_with_brute_force(void **state) {
  s_against_brute_force(&lin_model_reg, lin_t_seed("brute force register", 6));
  s_against_brute_force(&lin_model_ns, lin_t_seed("brute force namespace", 16));
  s_executions_against_brute_force(false, lin_t_seed("brute force register executions", 26));
  s_executions_against_brute_force(true, lin_t_seed("brute force namespace executions", 36));
}

/* ---- performance ------------------------------------------------------------------------- */

/* The checker's cost, bounded in search steps (deterministic for a seed), not in wall-clock
 * time (which depends on the machine and its load): the time is printed, as a report. A lost
 * memoization or partitioning shows as steps growing far past the bound. */
static void s_perf(const char *what, const s_cfg_t *c, uint64_t max_steps, uint64_t seed) {
  lin_t_rng_t rng = {seed};
  s_gop_t *g = s_generate(c, &rng);
  lin_history_t *h = s_history(c, g);
  lin_result_t *r;
  double t0 = lin_t_now();
  lin_verdict_t v = lin_t_check(h, s_model(c), NULL, &r);
  double dt = lin_t_now() - t0;
  printf(
      "%s: %d ops, %d keys, %d clients: %s in %.1f ms (%llu steps, %zu partitions, largest "
      "cache %zu KiB)\n",
      what, c->ops, c->keys, c->clients, lin_verdict_name(v), dt * 1000.0,
      (unsigned long long)r->steps, r->n_partitions, r->cache_bytes >> 10);
  assert_int_equal(v, LIN_LINEARIZABLE);
  if (r->steps > max_steps)
    fail_msg("%s: %llu search steps, more than the bound of %llu", what,
             (unsigned long long)r->steps, (unsigned long long)max_steps);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
  free(g);
}

static void test_perf_10k_ops_100_paths_16_clients(void **state) {
  s_cfg_t c = {.ns = true,
               .clients = 16,
               .keys = 100,
               .ops = 10000,
               .pending_pct = 1,
               .gap = 100,
               .latency = 2000};
  s_perf("namespace", &c, 100000, lin_t_seed("perf namespace", 7));
}

/* Harder: every client on one of 4 paths, so about 4 operations overlap on each. */
static void test_perf_10k_ops_4_paths_16_clients(void **state) {
  s_cfg_t c = {.ns = true,
               .clients = 16,
               .keys = 4,
               .ops = 10000,
               .pending_pct = 1,
               .gap = 100,
               .latency = 2000};
  s_perf("namespace, hot paths", &c, 200000, lin_t_seed("perf hot paths", 8));
}

/* Hardest: one register, 16 clients all overlapping. */
static void test_perf_10k_ops_1_register_16_clients(void **state) {
  s_cfg_t c = {.ns = false,
               .clients = 16,
               .keys = 1,
               .ops = 10000,
               .pending_pct = 0,
               .gap = 100,
               .latency = 2000};
  s_perf("register", &c, 20000000, lin_t_seed("perf register", 9));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register_executions_are_linearizable),
      cmocka_unit_test(test_namespace_executions_are_linearizable),
      cmocka_unit_test(test_read_of_never_written_value_is_caught),
      cmocka_unit_test(test_random_result_mutations_detection_rate),
      cmocka_unit_test(test_agrees_with_brute_force),
      cmocka_unit_test(test_perf_10k_ops_100_paths_16_clients),
      cmocka_unit_test(test_perf_10k_ops_4_paths_16_clients),
      cmocka_unit_test(test_perf_10k_ops_1_register_16_clients),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
