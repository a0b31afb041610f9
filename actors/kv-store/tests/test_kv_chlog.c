/* Tests of kv_chlog (the replica's change log) against a model, on the in-memory store.
 *
 * The model run applies random commands (alone and in grouped writes), random trims, bounded
 * deletions, restarts (reopen of the core over the same store) and Raft snapshot installs (a
 * copy without the log), with a small cap so the log overflows often. After every step it keeps
 * the namespace at the applied index, and checks:
 *  - the log's floor and base_needed are what the model expects (overflows are observed: the
 *    floor then lands inside the step's indexes and base_needed is set);
 *  - for sampled after_index A: A below the floor gives RV_ESTALE (a base copy), else the rows
 *    served (in random pages) applied to the namespace at A give exactly the namespace at the
 *    applied index, each key once per page (no gap, no duplicate), whatever order a batched
 *    read answers its keys in;
 *  - a base copy (random pages) equals the namespace;
 *  - the live bytes never exceed the cap and equal the sizes of the entries above the floor.
 * Seeds: KV_TEST_SEED replays one; KV_CHLOG_STEPS lengthens the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_chlog.h"
#include "kv_testutil.h"

static kv_chlog_info_t s_info(kv_t_env_t *e) {
  kv_chlog_info_t i;
  kv_core_chlog_info(e->core, &i);
  return i;
}

/* Sums the entries in the store: those above the floor (live), and checks none is past the
 * applied index. */
typedef struct {
  uint64_t floor, applied, live, all;
  size_t below;
} s_sum_t;

static int s_sum_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_sum_t *s = arg;
  if (kl == 0 || k[0] != KV_T_CHLOG) return KV_SCAN_STOP;
  assert_int_equal(kl, KV_CHLOG_KEY_LEN);
  uint64_t p = kv_be64_get(k + 1);
  if (p == 0) return 0;
  assert_true(p <= s->applied);
  s->all += kl + vl;
  if (p > s->floor)
    s->live += kl + vl;
  else
    s->below++;
  return 0;
}

static s_sum_t s_sum(kv_t_env_t *e) {
  kv_chlog_info_t i = s_info(e);
  s_sum_t s = {.floor = i.floor, .applied = i.applied};
  rv_err_t err;
  uint8_t from = KV_T_CHLOG;
  assert_int_equal(kv_store_scan(e->store, &from, 1, s_sum_one, &s, &err), RV_OK);
  return s;
}

static const char *s_paths[] = {"/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/f", "/b/g", "/c"};
#define NPATHS (sizeof s_paths / sizeof *s_paths)

static void s_random_cmd(kv_t_rng_t *r, kv_cmd_t *c, char *data, size_t cap) {
  static const uint8_t ops[] = {KV_OP_MKDIR, KV_OP_PUT, KV_OP_PUT, KV_OP_TOUCHZ, KV_OP_RM,
                                KV_OP_MV};
  uint8_t op = ops[kv_t_rng_below(r, sizeof ops)];
  kv_t_cmd(c, op, s_paths[kv_t_rng_below(r, NPATHS)]);
  if (op == KV_OP_MKDIR) c->flags = KV_F_PARENTS;
  if (op == KV_OP_RM && kv_t_rng_below(r, 2)) c->flags = KV_F_RECURSIVE;
  if (op == KV_OP_PUT) {
    size_t n = (size_t)kv_t_rng_below(r, cap);
    for (size_t i = 0; i < n; i++) data[i] = (char)('a' + kv_t_rng_below(r, 26));
    c->data.p = (const uint8_t *)data;
    c->data.len = n;
    c->flags = KV_F_OVERWRITE | KV_F_PARENTS;
  }
  if (op == KV_OP_MV) {
    c->path2.p = (const uint8_t *)s_paths[kv_t_rng_below(r, NPATHS)];
    c->path2.len = strlen((const char *)c->path2.p);
  }
}

typedef struct s_history s_history_t;
static void s_keep(s_history_t *h, kv_t_env_t *e);

/* Applies k random commands in one kv_core_apply_batch (one write, unless a command scans) to
 * e, and one by one to shadow (no log), keeping the namespace at every index: a replica may sit
 * at an index inside one of this node's grouped writes (another leader grouped differently). */
static void s_apply_group(kv_t_env_t *e, kv_t_env_t *shadow, s_history_t *h, kv_t_rng_t *r,
                          size_t k) {
  kv_buf_t bufs[8];
  kv_entry_t ents[8];
  kv_result_t res[8];
  char data[8][64];
  for (size_t i = 0; i < k; i++) {
    kv_cmd_t c;
    s_random_cmd(r, &c, data[i], sizeof data[i]);
    c.time_ms = e->now;
    kv_buf_init(&bufs[i]);
    kv_t_encode(&c, &bufs[i]);
    ents[i] = (kv_entry_t){.index = e->index + 1 + i, .data = bufs[i].data, .len = bufs[i].len};
  }
  rv_err_t err;
  assert_int_equal(kv_core_apply_batch(e->core, ents, k, res, &err), RV_OK);
  e->index += k;
  for (size_t i = 0; i < k; i++) {
    assert_int_equal(kv_t_apply_raw(shadow, bufs[i].data, bufs[i].len), res[i].code);
    s_keep(h, shadow);
    kv_buf_close(&bufs[i]);
  }
}

/* The namespace at every applied index so far (NULL where not kept). */
struct s_history {
  kv_memstore_t **at;
  size_t cap;
};

static void s_keep(s_history_t *h, kv_t_env_t *e) {
  while (e->index >= h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 256;
    h->at = realloc(h->at, cap * sizeof *h->at);
    assert_non_null(h->at);
    memset(h->at + h->cap, 0, (cap - h->cap) * sizeof *h->at);
    h->cap = cap;
  }
  if (!h->at[e->index]) h->at[e->index] = kv_t_ns_copy(e->store);
}

static void s_history_free(s_history_t *h) {
  for (size_t i = 0; i < h->cap; i++) kv_memstore_destroy(&h->at[i]);
  free(h->at);
}

/* A read-only store over another whose multi_get answers its keys in a random order (what the
 * kv_store.h contract allows: RocksDB's answers need not come in the order asked), and counts
 * the largest batch it was asked for. */
typedef struct {
  kv_store_t base;
  kv_store_t *in;
  kv_t_rng_t rng;
  size_t max_batch;
} s_shuffled_t;

static int s_sh_get(kv_store_t *s, const uint8_t *k, size_t kl, kv_buf_t *v, rv_err_t *err) {
  return kv_store_get(((s_shuffled_t *)s)->in, k, kl, v, err);
}

static int s_sh_scan(kv_store_t *s, const uint8_t *from, size_t flen, kv_scan_fn fn, void *arg,
                     rv_err_t *err) {
  return kv_store_scan(((s_shuffled_t *)s)->in, from, flen, fn, arg, err);
}

static int s_sh_write(kv_store_t *s, const kv_batch_t *b, rv_err_t *err) {
  return rv_err_set(err, RV_EINVAL, "read-only");
}

static int s_sh_multi(kv_store_t *s, const kv_bytes_t *keys, size_t n, kv_multi_fn fn, void *arg,
                      rv_err_t *err) {
  s_shuffled_t *sh = (s_shuffled_t *)s;
  if (n > sh->max_batch) sh->max_batch = n;
  size_t *order = malloc((n ? n : 1) * sizeof *order);
  assert_non_null(order);
  for (size_t i = 0; i < n; i++) order[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)kv_t_rng_below(&sh->rng, i), t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
  kv_buf_t v;
  kv_buf_init(&v);
  int rc = RV_OK;
  for (size_t k = 0; k < n && rc == RV_OK; k++) {
    size_t i = order[k];
    rc = kv_store_get(sh->in, keys[i].p, keys[i].len, &v, err);
    if (rc == RV_OK || rc == RV_ENOTFOUND) rc = fn(arg, i, rc ? NULL : v.data, rc ? 0 : v.len);
  }
  kv_buf_close(&v);
  free(order);
  return rc;
}

static const kv_store_ops_t s_shuffled_ops = {.name = "shuffled",
                                              .get = s_sh_get,
                                              .scan = s_sh_scan,
                                              .write = s_sh_write,
                                              .multi_get = s_sh_multi};

static kv_store_t *s_shuffled(s_shuffled_t *sh, kv_store_t *in, uint64_t seed) {
  *sh = (s_shuffled_t){.base.ops = &s_shuffled_ops, .in = in};
  kv_t_rng_init(&sh->rng, seed);
  return &sh->base;
}

/* The checks of one after_index A (read through a store that answers batched reads in a random
 * order, half the time). */
static void s_check_from(kv_t_env_t *e, s_history_t *h, uint64_t a, uint64_t floor,
                         kv_t_rng_t *r) {
  if (a >= h->cap || !h->at[a]) return; /* not kept (a restart of history) */
  kv_memstore_t *replica = kv_t_ns_copy(kv_memstore_store(h->at[a]));
  uint64_t to = 0;
  size_t rows = 1 + (size_t)kv_t_rng_below(r, 6), bytes = 1 + (size_t)kv_t_rng_below(r, 300);
  s_shuffled_t sh;
  kv_store_t *view =
      kv_t_rng_below(r, 2) ? s_shuffled(&sh, e->store, kv_t_rng_next(r)) : e->store;
  int rc = kv_t_chlog_catch_up(view, replica, a, rows, bytes, &to);
  if (a < floor) {
    assert_int_equal(rc, RV_ESTALE);
  } else {
    assert_int_equal(rc, RV_OK);
    assert_int_equal(to, e->index);
    if (kv_t_ns_digest(kv_memstore_store(replica)) != kv_t_ns_digest(e->store))
      fail_msg("changes after %llu do not give the namespace at %llu (floor %llu)",
               (unsigned long long)a, (unsigned long long)e->index, (unsigned long long)floor);
  }
  kv_memstore_destroy(&replica);
}

/* Replaces the store by a copy without the log, as a Raft snapshot install does. */
static void s_install(kv_t_env_t *e) {
  kv_memstore_t *ms = kv_t_copy_no_chlog(e->store);
  kv_core_destroy(&e->core);
  kv_memstore_destroy(&e->ms);
  e->ms = ms;
  e->store = kv_memstore_store(ms);
  kv_t_env_reopen(e);
}

static void test_against_a_model(void **state) {
  kv_t_rng_t r;
  kv_t_rng_init(&r, kv_t_seed("test_kv_chlog", 20261203));
  const char *env = getenv("KV_CHLOG_STEPS");
  int steps = env && atoi(env) > 0 ? atoi(env) : 3000;
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 1500 + kv_t_rng_below(&r, 3000);
  kv_t_env_t *e = kv_t_env_new(&cfg);
  kv_core_config_t scfg;
  kv_core_config_default(&scfg);
  kv_t_env_t *shadow = kv_t_env_new(&scfg);
  s_history_t h = {0};
  s_keep(&h, shadow);
  /* a new store starts its log at 0 and needs a base copy (the root exists at index 0) */
  uint64_t floor = 0, overflows = 0, dropped = 0, trims = 0, installs = 0, restarts = 0, bases = 0;
  bool base = true;
  kv_chlog_info_t i = s_info(e);
  assert_true(i.enabled);
  assert_int_equal(i.floor, 0);
  assert_true(i.base_needed);
  for (int step = 0; step < steps; step++) {
    uint64_t before = e->index;
    uint64_t what = kv_t_rng_below(&r, 100);
    if (what < 60) {
      kv_cmd_t c;
      char data[64];
      s_random_cmd(&r, &c, data, sizeof data);
      int code = kv_t_apply(e, &c);
      assert_int_equal(kv_t_apply_raw(shadow, e->enc.data, e->enc.len), code);
      s_keep(&h, shadow);
    } else if (what < 80) {
      s_apply_group(e, shadow, &h, &r, 2 + kv_t_rng_below(&r, 6));
    } else if (what < 88) {
      uint64_t t = kv_t_rng_below(&r, e->index + 4);
      rv_err_t err;
      assert_int_equal(kv_core_chlog_trim(e->core, t, &err), RV_OK);
      if (base && t >= floor) base = false;
      uint64_t nf = t < e->index ? t : e->index;
      if (nf > floor) floor = nf;
      trims++;
    } else if (what < 93) {
      size_t n;
      rv_err_t err;
      assert_int_equal(kv_core_chlog_tidy(e->core, 1 + kv_t_rng_below(&r, 4), &n, &err), RV_OK);
    } else if (what < 97) {
      kv_t_env_reopen(e);
      restarts++;
    } else {
      s_install(e);
      floor = e->index;
      base = true;
      overflows = 0; /* a new log */
      installs++;
    }
    i = s_info(e);
    if (i.overflows != overflows) {
      /* the cap dropped the log at one of this step's writes */
      assert_true(i.floor > before && i.floor <= e->index);
      assert_true(i.base_needed);
      overflows = i.overflows;
      dropped++;
      floor = i.floor;
      base = true;
    }
    assert_int_equal(i.applied, e->index);
    assert_int_equal(i.floor, floor);
    assert_int_equal(i.oldest, floor + 1);
    assert_true(i.base_needed == base);
    assert_true(i.live_bytes <= cfg.chlog_max_bytes);
    s_sum_t sum = s_sum(e);
    assert_int_equal(sum.live, i.live_bytes);
    assert_true(i.stored_bytes >= i.live_bytes);
    if (!kv_core_chlog_tidy_due(e->core)) {
      assert_int_equal(sum.below, 0);
      assert_int_equal(i.stored_bytes, i.live_bytes);
    }
    assert_int_equal(shadow->index, e->index);
    /* some replicas: at the floor, at the applied index, just below the floor, and random */
    s_check_from(e, &h, floor, floor, &r);
    s_check_from(e, &h, e->index, floor, &r);
    if (floor > 0) s_check_from(e, &h, floor - 1, floor, &r);
    for (int k = 0; k < 3; k++) s_check_from(e, &h, kv_t_rng_below(&r, e->index + 1), floor, &r);
    if (kv_t_rng_below(&r, 20) == 0) {
      uint64_t idx;
      kv_memstore_t *copy = kv_t_chlog_base_copy(e->store, 1 + kv_t_rng_below(&r, 9),
                                                 1 + kv_t_rng_below(&r, 500), &idx);
      assert_int_equal(idx, e->index);
      assert_true(kv_t_ns_digest(kv_memstore_store(copy)) == kv_t_ns_digest(e->store));
      kv_memstore_destroy(&copy);
      bases++;
    }
  }
  fprintf(stderr, "overflows %llu trims %llu installs %llu restarts %llu base copies %llu\n",
          (unsigned long long)dropped, (unsigned long long)trims, (unsigned long long)installs,
          (unsigned long long)restarts, (unsigned long long)bases);
  /* the run went through every kind of event */
  assert_true(dropped > 0 && trims > 0 && installs > 0 && restarts > 0 && bases > 0);
  /* a replica past the floor clears base_needed; below it does not */
  if (base && floor > 0) {
    rv_err_t err;
    assert_int_equal(kv_core_chlog_trim(e->core, floor - 1, &err), RV_OK);
    assert_true(s_info(e).base_needed);
    assert_int_equal(kv_core_chlog_trim(e->core, floor, &err), RV_OK);
    assert_false(s_info(e).base_needed);
  }
  s_history_free(&h);
  kv_t_env_destroy(&shadow);
  kv_t_env_destroy(&e);
}

/* A write that fails changes neither the namespace nor the log; the next one records. */
static void test_failed_write_leaves_the_log(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 1 << 20;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  rv_err_t err;
  assert_int_equal(kv_core_chlog_trim(e->core, 0, &err), RV_OK);
  assert_int_equal(kv_t_mkdir(e, "/a", 0), RV_OK);
  kv_chlog_info_t before = s_info(e);
  kv_memstore_t *at1 = kv_t_ns_copy(e->store);
  kv_memstore_fail_after(e->ms, 0, RV_EIO);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/b");
  kv_t_encode(&c, &e->enc);
  kv_result_t res;
  assert_int_equal(kv_core_apply(e->core, e->index + 1, e->enc.data, e->enc.len, &res, &err),
                   RV_EIO);
  kv_chlog_info_t after = s_info(e);
  assert_int_equal(after.applied, before.applied);
  assert_int_equal(after.live_bytes, before.live_bytes);
  assert_int_equal(after.stored_bytes, before.stored_bytes);
  assert_int_equal(after.floor, before.floor);
  kv_memstore_fail_after(e->ms, -1, 0);
  assert_int_equal(kv_t_mkdir(e, "/b", 0), RV_OK);
  assert_true(s_info(e).live_bytes > before.live_bytes);
  uint64_t to;
  assert_int_equal(kv_t_chlog_catch_up(e->store, at1, 1, 100, 1 << 20, &to), RV_OK);
  assert_int_equal(to, 2);
  assert_true(kv_t_ns_digest(kv_memstore_store(at1)) == kv_t_ns_digest(e->store));
  kv_memstore_destroy(&at1);
  kv_t_env_destroy(&e);
}

/* Off: nothing recorded, and an old log is deleted, so a later enable starts afresh with a base
 * copy (it missed the changes made while off). */
static void test_off_deletes_and_reenable_starts_afresh(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 1 << 20;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  rv_err_t err;
  for (int i = 0; i < 20; i++) {
    char p[16];
    snprintf(p, sizeof p, "/d%d", i);
    assert_int_equal(kv_t_mkdir(e, p, 0), RV_OK);
  }
  assert_int_equal(kv_core_chlog_trim(e->core, 0, &err), RV_OK);
  assert_false(s_info(e).base_needed);
  e->cfg.chlog_max_bytes = 0;
  kv_t_env_reopen(e);
  assert_false(s_info(e).enabled);
  /* a write while off, then on again before any deletion ran: the log must not claim it */
  assert_int_equal(kv_t_mkdir(e, "/while-off", 0), RV_OK);
  e->cfg.chlog_max_bytes = 1 << 20;
  kv_t_env_reopen(e);
  assert_true(s_info(e).base_needed);
  assert_int_equal(s_info(e).floor, e->index);
  e->cfg.chlog_max_bytes = 0;
  kv_t_env_reopen(e);
  assert_false(s_info(e).enabled);
  assert_true(kv_core_chlog_tidy_due(e->core));
  size_t n, total = 0;
  do {
    assert_int_equal(kv_core_chlog_tidy(e->core, 7, &n, &err), RV_OK);
    total += n;
  } while (n > 0);
  assert_false(kv_core_chlog_tidy_due(e->core));
  assert_int_equal(total, 20); /* the 20 entries (the state key went at open) */
  assert_int_equal(kv_core_chlog_trim(e->core, 5, &err), RV_ENOTFOUND);
  size_t keys = kv_memstore_count(e->ms);
  assert_int_equal(kv_t_mkdir(e, "/off", 0), RV_OK);
  assert_int_equal(kv_memstore_count(e->ms), keys + 2); /* dentry and attributes: no log */
  e->cfg.chlog_max_bytes = 1 << 20;
  kv_t_env_reopen(e);
  kv_chlog_info_t i = s_info(e);
  assert_true(i.enabled && i.base_needed);
  assert_int_equal(i.floor, e->index);
  kv_memstore_t *old = kv_t_ns_copy(e->store);
  uint64_t to;
  assert_int_equal(kv_t_chlog_catch_up(e->store, old, e->index - 1, 10, 1000, &to), RV_ESTALE);
  kv_memstore_destroy(&old);
  kv_t_env_destroy(&e);
}

/* An rm -r whose entry alone exceeds the cap drops the log; the replica must base-copy, and the
 * base copy is the namespace at the view's index; a trim there resumes the log. */
static void test_overflow_forces_a_base_copy(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 1024;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  rv_err_t err;
  for (int i = 0; i < 30; i++) {
    char p[32];
    snprintf(p, sizeof p, "/big/f%d", i);
    assert_int_equal(kv_t_put(e, p, "x", KV_F_PARENTS), RV_OK);
    /* a replica that keeps up: the log holds one entry at a time */
    assert_int_equal(kv_core_chlog_trim(e->core, e->index, &err), RV_OK);
  }
  kv_chlog_info_t i = s_info(e);
  assert_int_equal(i.overflows, 0);
  assert_false(i.base_needed);
  kv_memstore_t *before = kv_t_ns_copy(e->store);
  uint64_t at = e->index;
  /* one rm -r of 30 files names ~93 keys: its entry alone is past the cap */
  assert_int_equal(kv_t_rm(e, "/big", KV_F_RECURSIVE), RV_OK);
  i = s_info(e);
  assert_int_equal(i.overflows, 1);
  assert_int_equal(i.floor, e->index);
  assert_int_equal(i.live_bytes, 0);
  assert_true(i.base_needed);
  uint64_t to;
  assert_int_equal(kv_t_chlog_catch_up(e->store, before, at, 10, 1000, &to), RV_ESTALE);
  uint64_t idx;
  kv_memstore_t *copy = kv_t_chlog_base_copy(e->store, 3, 100, &idx);
  assert_int_equal(idx, e->index);
  assert_true(kv_t_ns_digest(kv_memstore_store(copy)) == kv_t_ns_digest(e->store));
  assert_int_equal(kv_core_chlog_trim(e->core, idx, &err), RV_OK);
  assert_false(s_info(e).base_needed);
  assert_int_equal(kv_t_mkdir(e, "/after", 0), RV_OK);
  assert_int_equal(kv_t_chlog_catch_up(e->store, copy, idx, 10, 1000, &to), RV_OK);
  assert_true(kv_t_ns_digest(kv_memstore_store(copy)) == kv_t_ns_digest(e->store));
  /* the dropped entries go in bounded steps */
  assert_true(kv_core_chlog_tidy_due(e->core));
  size_t n;
  assert_int_equal(kv_core_chlog_tidy(e->core, 5, &n, &err), RV_OK);
  assert_int_equal(n, 5);
  while (kv_core_chlog_tidy_due(e->core))
    assert_int_equal(kv_core_chlog_tidy(e->core, 5, &n, &err), RV_OK);
  assert_int_equal(s_sum(e).below, 0);
  kv_memstore_destroy(&copy);
  kv_memstore_destroy(&before);
  kv_t_env_destroy(&e);
}

/* A replica ahead of this node waits (EAGAIN); the digest and fsck ignore the log. */
static void test_ahead_and_digests(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  kv_t_env_t *off = kv_t_env_new(&cfg);
  cfg.chlog_max_bytes = 1 << 20;
  kv_t_env_t *on = kv_t_env_new(&cfg);
  assert_int_equal(kv_t_mkdir(on, "/a/b", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_mkdir(off, "/a/b", KV_F_PARENTS), RV_OK);
  assert_true(kv_t_digest(on, KV_DIGEST_ALL) == kv_t_digest(off, KV_DIGEST_ALL));
  assert_int_equal(kv_t_check(on), RV_OK);
  kv_memstore_t *r = kv_t_ns_copy(on->store);
  uint64_t to;
  assert_int_equal(kv_t_chlog_catch_up(on->store, r, on->index + 1, 10, 100, &to), RV_EAGAIN);
  assert_int_equal(kv_t_chlog_catch_up(off->store, r, 0, 10, 100, &to), RV_ENOTFOUND);
  kv_memstore_destroy(&r);
  kv_t_env_destroy(&on);
  kv_t_env_destroy(&off);
}

/* Pages of many rows: the post-images are read in batches of KV_CHLOG_READ_BATCH, and a page
 * that fills (its rows, or its bytes anywhere inside a batch) ends at the first key it did not
 * serve; the next page starts there. Every way of cutting gives the namespace, and the batches
 * really are that big. */
static void test_pages_read_in_batches(void **state) {
  kv_t_rng_t r;
  kv_t_rng_init(&r, kv_t_seed("test_kv_chlog batches", 7));
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 64u << 20;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(kv_t_mkdir(e, "/d", KV_F_PARENTS), RV_OK);
  uint64_t a = e->index;
  kv_memstore_t *at_a = kv_t_ns_copy(e->store);
  char p[64], data[48];
  for (int i = 0; i < 1500; i++) { /* new files, and files written again, removed, moved */
    snprintf(p, sizeof p, "/d/f%d", (int)kv_t_rng_below(&r, 1200));
    snprintf(data, sizeof data, "v%d-%llu", i, (unsigned long long)kv_t_rng_next(&r));
    uint64_t what = kv_t_rng_below(&r, 10);
    if (what < 7)
      kv_t_put(e, p, data, KV_F_OVERWRITE);
    else if (what < 9)
      kv_t_rm(e, p, 0);
    else
      kv_t_touchz(e, p);
  }
  size_t max_batch = 0;
  for (int k = 0; k < 12; k++) {
    kv_memstore_t *replica = kv_t_ns_copy(kv_memstore_store(at_a));
    s_shuffled_t sh;
    kv_store_t *view = s_shuffled(&sh, e->store, kv_t_rng_next(&r));
    size_t rows = k < 4 ? 10000 : 1 + (size_t)kv_t_rng_below(&r, 900);
    size_t bytes = k % 2 ? 1u << 20 : 1 + (size_t)kv_t_rng_below(&r, 30000);
    uint64_t to;
    assert_int_equal(kv_t_chlog_catch_up(view, replica, a, rows, bytes, &to), RV_OK);
    assert_int_equal(to, e->index);
    if (kv_t_ns_digest(kv_memstore_store(replica)) != kv_t_ns_digest(e->store))
      fail_msg("pages of %zu rows, %zu bytes: not the namespace", rows, bytes);
    if (sh.max_batch > max_batch) max_batch = sh.max_batch;
    kv_memstore_destroy(&replica);
  }
  assert_int_equal(max_batch, KV_CHLOG_READ_BATCH);
  kv_memstore_destroy(&at_a);
  kv_t_env_destroy(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_against_a_model),
      cmocka_unit_test(test_failed_write_leaves_the_log),
      cmocka_unit_test(test_off_deletes_and_reenable_starts_afresh),
      cmocka_unit_test(test_overflow_forces_a_base_copy),
      cmocka_unit_test(test_ahead_and_digests),
      cmocka_unit_test(test_pages_read_in_batches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
