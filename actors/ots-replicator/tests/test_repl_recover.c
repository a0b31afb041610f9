/* Unit tests of the recovery loader (core/repl_recover_core.h with shell/repl_recover_scan.h)
 * against a fake remote copy (repl_backend_fake.h) and a real kv_core standing for the
 * cluster's kv-store (its commands applied as the log would apply them), on a virtual clock:
 * a full load equals the source (namespace digest, fsck); lost answers, duplicated commands,
 * loader crashes and injected backend failures in a seeded random schedule change nothing of
 * the outcome; a generation replaced mid-way restarts from scratch cleanly; the state machine
 * refuses a non-empty cluster, leaves only a FINISHed recovery, and reports rate and ETA.
 * The seed is printed; KV_TEST_SEED=n replays one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"
#include "repl_backend_fake.h"
#include "repl_recover_core.h"
#include "repl_recover_scan.h"

/* ---- the world: source namespace, fake remote copy, target cluster ------------------------ */

typedef struct {
  int kind; /* 1 meta, 2 state, 3 page, 4 answer */
  uint64_t ticket;
  int rc;
  rr_source_t src;
  rr_state_t st;
  bool has_st;
  char why[RV_ERR_MSG_MAX];
  rr_chunk_t chunks[RR_QUEUE_MAX];
  size_t nchunks;
  bool done;
} ev_t;

#define HELD_MAX 256
typedef struct {
  repl_backend_t *remote;
  kv_t_env_t *target;
  rr_t rr;
  int64_t now;
  ev_t *evq; /* events to deliver, in order */
  size_t nev, capev;
  repl_chunk_t *held[HELD_MAX];
  size_t nheld;
  kv_t_rng_t rng;
  unsigned p_drop, p_dup, p_crash, p_fail; /* per mille */
  uint64_t drops, dups, crashes, fails, steps;
  size_t chunk_bytes, chunk_rows;
} world_t;

static void s_rows_of(kv_t_env_t *e, repl_row_t **rows, size_t *n);

static void s_remote_from(world_t *w, kv_t_env_t *src, const char *cluster, uint64_t gen) {
  repl_row_t *rows;
  size_t n;
  s_rows_of(src, &rows, &n);
  repl_fake_set(w->remote, cluster, gen, kv_core_applied(src->core), rows, n);
  for (size_t i = 0; i < n; i++) {
    free((void *)rows[i].key);
    free((void *)rows[i].val);
  }
  free(rows);
}

typedef struct {
  repl_row_t *rows;
  size_t n, cap;
} s_coll_t;

static int s_collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_coll_t *c = arg;
  if (!kv_chlog_in_scope(k, kl)) return 0;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 64;
    c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
  }
  uint8_t *kc = malloc(kl), *vc = malloc(vl ? vl : 1);
  memcpy(kc, k, kl);
  if (vl) memcpy(vc, v, vl);
  c->rows[c->n++] = (repl_row_t){kc, kl, vc, vl, false};
  return 0;
}

static void s_rows_of(kv_t_env_t *e, repl_row_t **rows, size_t *n) {
  s_coll_t c = {0};
  rv_err_t err;
  assert_int_equal(kv_store_scan(e->store, (const uint8_t *)"", 0, s_collect, &c, &err), 0);
  *rows = c.rows;
  *n = c.n;
}

static kv_t_env_t *s_namespace(const char *top, int files, int content_every) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  e->now = 1700000000000;
  char p[128], d[64];
  for (int i = 0; i < files; i++) {
    snprintf(p, sizeof p, "/%s/d%02d/f%04d", top, i % 13, i);
    snprintf(d, sizeof d, "data of %d", i);
    assert_int_equal(kv_t_put(e, p, i % content_every ? "" : d, KV_F_PARENTS), RV_OK);
  }
  return e;
}

static ev_t *s_ev(world_t *w, int kind, uint64_t ticket) {
  if (w->nev == w->capev) {
    w->capev = w->capev ? 2 * w->capev : 16;
    w->evq = realloc(w->evq, w->capev * sizeof *w->evq);
  }
  ev_t *e = &w->evq[w->nev++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->ticket = ticket;
  return e;
}

static bool s_chance(world_t *w, unsigned per_mille) {
  return per_mille && kv_t_rng_below(&w->rng, 1000) < per_mille;
}

static void s_target_state(world_t *w, rr_state_t *st) {
  kv_recovery_t k;
  kv_core_recovery(w->target->core, &k);
  memset(st, 0, sizeof *st);
  st->phase = k.phase;
  snprintf(st->source.cluster, sizeof st->source.cluster, "%s", k.source_cluster);
  st->source.generation = k.source_generation;
  st->source.synced_index = k.source_synced_index;
  st->source.rows = k.rows_total;
  st->source.bytes = k.bytes_total;
  st->rows = k.rows;
  st->bytes = k.bytes;
  memcpy(st->cursor.b, k.cursor, k.cursor_len);
  st->cursor.len = k.cursor_len;
}

static repl_chunk_t *s_held(world_t *w, uint64_t id) {
  for (size_t i = 0; i < w->nheld; i++)
    if (w->held[i]->info.id == id) return w->held[i];
  return NULL;
}

static void s_drop_held(world_t *w) {
  for (size_t i = 0; i < w->nheld; i++) repl_chunk_destroy(&w->held[i]);
  w->nheld = 0;
}

/* Applies one kv command to the target (the log) and queues its answer (unless lost). */
static void s_apply(world_t *w, uint64_t ticket, kv_buf_t *cmd) {
  int rc = kv_t_apply_raw(w->target, cmd->data, cmd->len);
  if (s_chance(w, w->p_dup)) { /* the same entry proposed twice (a retry across a failover) */
    w->dups++;
    kv_result_t first = w->target->res;
    kv_t_apply_raw(w->target, cmd->data, cmd->len);
    w->target->res = first;
  }
  if (s_chance(w, w->p_drop)) { /* the answer is lost (kv-store restarted, say) */
    w->drops++;
    return;
  }
  ev_t *e = s_ev(w, 4, ticket);
  e->rc = rc;
  snprintf(e->why, sizeof e->why, "%s", w->target->res.msg);
  s_target_state(w, &e->st);
  e->has_st = true;
}

static void s_do(world_t *w, const rr_act_t *a) {
  kv_buf_t cmd;
  kv_buf_init(&cmd);
  rv_err_t err;
  switch (a->kind) {
    case RR_ACT_READ_META: {
      repl_meta_t m;
      memset(&m, 0, sizeof m);
      if (s_chance(w, w->p_fail)) {
        w->fails++;
        repl_fake_fail_next(w->remote, RV_EUNAVAIL);
      }
      ev_t *e = s_ev(w, 1, a->ticket);
      e->rc = repl_backend_read_meta(w->remote, &m, &err);
      if (e->rc) snprintf(e->why, sizeof e->why, "%s", err.msg);
      snprintf(e->src.cluster, sizeof e->src.cluster, "%s", m.cluster_id);
      e->src.generation = m.generation;
      e->src.synced_index = m.synced_index;
      e->src.rows = m.rows;
      e->src.bytes = m.bytes;
      break;
    }
    case RR_ACT_ASK_STATE: {
      ev_t *e = s_ev(w, 2, a->ticket);
      s_target_state(w, &e->st);
      break;
    }
    case RR_ACT_SCAN: {
      repl_meta_t m;
      memset(&m, 0, sizeof m);
      snprintf(m.cluster_id, sizeof m.cluster_id, "%.127s", a->source->cluster);
      m.generation = a->source->generation;
      m.synced_index = a->source->synced_index;
      if (s_chance(w, w->p_fail)) {
        w->fails++;
        repl_fake_fail_next(w->remote, RV_ETIMEDOUT);
      }
      repl_chunk_t *got[RR_QUEUE_MAX];
      size_t n;
      bool done;
      ev_t *e = s_ev(w, 3, a->ticket);
      e->rc = repl_recover_scan(w->remote, &m, a->after, a->first_chunk, 3, w->chunk_bytes,
                                w->chunk_rows, got, &n, &done, &err);
      if (e->rc) snprintf(e->why, sizeof e->why, "%s", err.msg);
      for (size_t i = 0; i < n; i++) {
        assert_true(w->nheld < HELD_MAX);
        w->held[w->nheld++] = got[i];
        e->chunks[e->nchunks++] = got[i]->info;
      }
      e->done = done;
      break;
    }
    case RR_ACT_BEGIN: {
      kv_recovery_begin_t b = {a->source->cluster, a->source->generation,
                               a->source->synced_index, a->source->rows, a->source->bytes,
                               a->source->term};
      assert_int_equal(kv_recovery_encode_begin(&b, w->now, &cmd, &err), RV_OK);
      s_apply(w, a->ticket, &cmd);
      break;
    }
    case RR_ACT_ROWS: {
      repl_chunk_t *c = s_held(w, a->chunk);
      assert_non_null(c);
      kv_recovery_row_t *rows = calloc(c->nrows, sizeof *rows);
      for (size_t i = 0; i < c->nrows; i++) {
        rows[i].key = (kv_bytes_t){c->arena + c->rows[i].koff, c->rows[i].klen};
        rows[i].val = (kv_bytes_t){c->arena + c->rows[i].voff, c->rows[i].vlen};
      }
      assert_int_equal(kv_recovery_encode_rows(a->after->b, a->after->len, rows, c->nrows, w->now,
                                               &cmd, &err),
                       RV_OK);
      free(rows);
      s_apply(w, a->ticket, &cmd);
      break;
    }
    case RR_ACT_FINISH:
      assert_int_equal(kv_recovery_encode_finish(a->after->b, a->after->len, w->now, &cmd, &err),
                       RV_OK);
      s_apply(w, a->ticket, &cmd);
      break;
    case RR_ACT_LEAVE:
      assert_int_equal(kv_recovery_encode_leave(w->now, &cmd, &err), RV_OK);
      s_apply(w, a->ticket, &cmd);
      break;
    case RR_ACT_DROP_CHUNKS: s_drop_held(w); break;
  }
  kv_buf_close(&cmd);
}

/* Carries out the core's last actions (copied first: doing them queues events only). */
static void s_run(world_t *w) {
  size_t n = w->rr.nout;
  rr_act_t acts[RR_ACTIONS_MAX];
  memcpy(acts, w->rr.out, n * sizeof *acts);
  for (size_t i = 0; i < n; i++) s_do(w, &acts[i]);
}

static void s_deliver(world_t *w, const ev_t *e) {
  switch (e->kind) {
    case 1: rr_on_meta(&w->rr, e->ticket, e->rc, &e->src, e->why, w->now); break;
    case 2: rr_on_state(&w->rr, e->ticket, e->rc, &e->st, e->why, w->now); break;
    case 3:
      rr_on_page(&w->rr, e->ticket, e->rc, e->chunks, e->nchunks, e->done, e->why, w->now);
      break;
    default:
      rr_on_answer(&w->rr, e->ticket, e->rc, e->has_st ? &e->st : NULL, e->why, w->now);
  }
  s_run(w);
}

static world_t *s_world(kv_t_env_t *target, const rr_config_t *cfg, const char *test) {
  world_t *w = calloc(1, sizeof *w);
  w->remote = repl_fake_new();
  w->target = target;
  w->now = 1000;
  w->chunk_bytes = 700;
  w->chunk_rows = 9;
  kv_t_rng_init(&w->rng, kv_t_seed(test, 42));
  rr_init(&w->rr, cfg);
  return w;
}

static void s_world_free(world_t **wp) {
  world_t *w = *wp;
  s_drop_held(w);
  free(w->evq);
  repl_backend_close(&w->remote);
  free(w);
  *wp = NULL;
}

/* Runs until the phase is `until` (or steps run out): deliver one event (or tick) per step. */
static void s_until(world_t *w, rr_phase_t until, uint64_t max_steps) {
  for (uint64_t i = 0; i < max_steps && w->rr.phase != until; i++) {
    w->steps++;
    w->now += 7;
    if (s_chance(w, w->p_crash)) { /* the replicator restarts: its memory is gone */
      w->crashes++;
      s_drop_held(w);
      w->nev = 0;
      rr_config_t cfg = w->rr.cfg;
      rr_init(&w->rr, &cfg);
      rr_start(&w->rr, w->now);
      s_run(w);
      continue;
    }
    if (w->nev) {
      ev_t e = w->evq[0];
      memmove(w->evq, w->evq + 1, (w->nev - 1) * sizeof *w->evq);
      w->nev--;
      s_deliver(w, &e);
    } else {
      w->now += 500; /* idle: let timeouts and retries come */
      rr_tick(&w->rr, w->now);
      s_run(w);
    }
  }
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_full_load_equals_source(void **state) {
  kv_t_env_t *src = s_namespace("data", 300, 3);
  kv_t_env_t *dst = kv_t_env_new(NULL);
  world_t *w = s_world(dst, NULL, "full_load");
  repl_fake_page_rows(w->remote, 4); /* chunks span several backend pages */
  s_remote_from(w, src, "prod-a", 1);
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_DONE, 100000);
  assert_int_equal(w->rr.phase, RR_DONE);
  kv_recovery_t st;
  kv_core_recovery(dst->core, &st);
  assert_int_equal(st.phase, KV_RECOVERY_FINISH);
  repl_meta_t m;
  rv_err_t err;
  assert_int_equal(repl_backend_read_meta(w->remote, &m, &err), RV_OK);
  assert_int_equal(st.rows, m.rows);
  assert_int_equal(st.bytes, m.bytes);
  assert_true(kv_t_digest(dst, KV_DIGEST_NAMESPACE) == kv_t_digest(src, KV_DIGEST_NAMESPACE));
  assert_int_equal(kv_t_check(dst), RV_OK);
  assert_true(w->rr.commands > m.rows / 9); /* chunks of at most 9 rows */
  assert_int_equal(w->rr.resyncs, 0);
  /* still read-only until left */
  assert_int_equal(kv_t_mkdir(dst, "/x", 0), RV_ERECOVERY);
  s_world_free(&w);
  kv_t_env_destroy(&dst);
  kv_t_env_destroy(&src);
}

static void test_rate_and_eta(void **state) {
  kv_t_env_t *src = s_namespace("r", 200, 2);
  kv_t_env_t *dst = kv_t_env_new(NULL);
  world_t *w = s_world(dst, NULL, "rate");
  s_remote_from(w, src, "c", 1);
  rr_start(&w->rr, w->now);
  s_run(w);
  /* until some rows are loaded, but not all */
  for (int i = 0; i < 100000 && w->rr.state.rows < 100; i++) s_until(w, RR_DONE, 1);
  assert_int_equal(w->rr.phase, RR_LOAD);
  assert_true(w->rr.rate_rows_s > 0);
  assert_true(w->rr.eta_s > 0);
  double expect = (double)(w->rr.state.source.rows - w->rr.state.rows) / w->rr.rate_rows_s;
  assert_true(w->rr.eta_s > expect * 0.99 && w->rr.eta_s < expect * 1.01);
  s_until(w, RR_DONE, 100000);
  assert_int_equal(w->rr.phase, RR_DONE);
  assert_true(w->rr.eta_s == 0);
  s_world_free(&w);
  kv_t_env_destroy(&dst);
  kv_t_env_destroy(&src);
}

/* Lost answers, duplicated commands, loader crashes, backend failures: same result. */
static void test_faults_change_nothing(void **state) {
  kv_t_env_t *src = s_namespace("f", 250, 4);
  uint64_t want = kv_t_digest(src, KV_DIGEST_NAMESPACE);
  for (int round = 0; round < 6; round++) {
    kv_t_env_t *dst = kv_t_env_new(NULL);
    rr_config_t cfg;
    rr_config_default(&cfg);
    cfg.inflight_max = 1 + (unsigned)round % 4;
    cfg.answer_timeout_ms = 3000;
    world_t *w = s_world(dst, &cfg, "faults");
    w->rng.s ^= (uint64_t)round * 0x9e3779b97f4a7c15ull;
    w->p_drop = 40;
    w->p_dup = 60;
    w->p_crash = 5;
    w->p_fail = 30;
    repl_fake_page_rows(w->remote, 1 + (size_t)round);
    s_remote_from(w, src, "prod", 7);
    rr_start(&w->rr, w->now);
    s_run(w);
    s_until(w, RR_DONE, 400000);
    if (w->rr.phase != RR_DONE)
      fail_msg("round %d: phase %s after %llu steps: %s", round, rr_phase_name(w->rr.phase),
               (unsigned long long)w->steps, w->rr.status);
    assert_true(kv_t_digest(dst, KV_DIGEST_NAMESPACE) == want);
    assert_int_equal(kv_t_check(dst), RV_OK);
    kv_recovery_t st;
    kv_core_recovery(dst->core, &st);
    assert_int_equal(st.rows, w->rr.state.source.rows); /* each row counted once */
    assert_true(w->drops + w->dups + w->crashes + w->fails > 0);
    printf("round %d: %llu steps, %llu lost answers, %llu duplicates, %llu crashes, %llu backend "
           "failures, %llu resyncs\n",
           round, (unsigned long long)w->steps, (unsigned long long)w->drops,
           (unsigned long long)w->dups, (unsigned long long)w->crashes,
           (unsigned long long)w->fails, (unsigned long long)w->rr.resyncs);
    s_world_free(&w);
    kv_t_env_destroy(&dst);
  }
  kv_t_env_destroy(&src);
}

static void test_generation_replaced_mid_way(void **state) {
  kv_t_env_t *a = s_namespace("old", 200, 2);
  kv_t_env_t *b = s_namespace("new", 60, 5);
  kv_t_env_t *dst = kv_t_env_new(NULL);
  world_t *w = s_world(dst, NULL, "generation");
  s_remote_from(w, a, "prod", 1);
  rr_start(&w->rr, w->now);
  s_run(w);
  for (int i = 0; i < 100000 && w->rr.state.rows < 150; i++) s_until(w, RR_DONE, 1);
  assert_int_equal(w->rr.phase, RR_LOAD);
  /* the remote copy is replaced by a base copy into generation 2 */
  s_remote_from(w, b, "prod", 2);
  s_until(w, RR_DONE, 100000);
  assert_int_equal(w->rr.phase, RR_DONE);
  assert_true(w->rr.stale >= 1);
  kv_recovery_t st;
  kv_core_recovery(dst->core, &st);
  assert_int_equal(st.source_generation, 2);
  assert_true(kv_t_digest(dst, KV_DIGEST_NAMESPACE) == kv_t_digest(b, KV_DIGEST_NAMESPACE));
  assert_int_equal(kv_t_check(dst), RV_OK);
  s_world_free(&w);
  kv_t_env_destroy(&dst);
  kv_t_env_destroy(&a);
  kv_t_env_destroy(&b);
}

static void test_refusals(void **state) {
  kv_t_env_t *src = s_namespace("s", 20, 2);
  /* a cluster that holds data: FAILED, with kv-store's reason, nothing changed */
  kv_t_env_t *busy = s_namespace("mine", 3, 1);
  uint64_t before = kv_t_digest(busy, KV_DIGEST_NAMESPACE);
  world_t *w = s_world(busy, NULL, "refusals");
  s_remote_from(w, src, "c", 1);
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_FAILED, 1000);
  assert_int_equal(w->rr.phase, RR_FAILED);
  assert_int_equal(w->rr.last_code, RV_ENOTEMPTY);
  assert_non_null(strstr(w->rr.status, "not empty"));
  assert_true(kv_t_digest(busy, KV_DIGEST_NAMESPACE) == before);
  s_world_free(&w);
  /* nothing was ever uploaded: FAILED, says so */
  kv_t_env_t *dst = kv_t_env_new(NULL);
  w = s_world(dst, NULL, "refusals");
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_FAILED, 1000);
  assert_int_equal(w->rr.last_code, RV_ENOTFOUND);
  assert_non_null(strstr(w->rr.status, "no meta row"));
  s_world_free(&w);
  kv_t_env_destroy(&dst);
  kv_t_env_destroy(&busy);
  kv_t_env_destroy(&src);
}

static void test_leave_mode(void **state) {
  kv_t_env_t *src = s_namespace("l", 40, 2);
  kv_t_env_t *dst = kv_t_env_new(NULL);
  world_t *w = s_world(dst, NULL, "leave");
  s_remote_from(w, src, "c", 1);
  rr_start(&w->rr, w->now);
  s_run(w);
  for (int i = 0; i < 100000 && w->rr.state.rows < 20; i++) s_until(w, RR_DONE, 1);
  assert_int_equal(w->rr.phase, RR_LOAD);
  /* recovery-mode turned off while RUNNING: refused, the cluster stays read-only */
  rr_config_t cfg;
  rr_config_default(&cfg);
  cfg.leave = true;
  rr_t keep = w->rr;
  s_drop_held(w);
  w->nev = 0;
  rr_init(&w->rr, &cfg);
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_FAILED, 1000);
  assert_int_equal(w->rr.last_code, RV_EBUSY);
  assert_non_null(strstr(w->rr.status, "RUNNING"));
  assert_non_null(strstr(w->rr.status, "cannot be left"));
  assert_true(kv_core_read_only(dst->core));
  /* back in recovery mode: it finishes */
  rr_init(&w->rr, &keep.cfg);
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_DONE, 100000);
  assert_int_equal(w->rr.phase, RR_DONE);
  assert_true(kv_core_read_only(dst->core));
  /* then off: it leaves, and the cluster is writable */
  rr_init(&w->rr, &cfg);
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_LEFT, 1000);
  assert_int_equal(w->rr.phase, RR_LEFT);
  assert_false(kv_core_read_only(dst->core));
  assert_int_equal(kv_t_mkdir(dst, "/written-after", 0), RV_OK);
  /* off again on a cluster that left long ago: nothing to do */
  rr_init(&w->rr, &cfg);
  rr_start(&w->rr, w->now);
  s_run(w);
  s_until(w, RR_LEFT, 1000);
  assert_int_equal(w->rr.phase, RR_LEFT);
  s_world_free(&w);
  kv_t_env_destroy(&dst);
  kv_t_env_destroy(&src);
}

static void test_stale_tickets_ignored(void **state) {
  rr_t r;
  rr_init(&r, NULL);
  rr_start(&r, 0);
  assert_int_equal(r.nout, 2); /* READ_META, ASK_STATE */
  uint64_t meta_t = r.out[0].ticket, state_t = r.out[1].ticket;
  rr_source_t src = {.cluster = "c", .generation = 1, .synced_index = 5, .rows = 10};
  rr_on_meta(&r, meta_t + 100, RV_OK, &src, NULL, 1); /* not awaited: ignored */
  assert_int_equal(r.nout, 0);
  assert_false(r.have_meta);
  rr_on_meta(&r, meta_t, RV_OK, &src, NULL, 1);
  rr_state_t none = {0};
  rr_on_state(&r, state_t, RV_OK, &none, NULL, 2);
  assert_int_equal(r.phase, RR_BEGIN);
  assert_int_equal(r.nout, 1);
  assert_int_equal(r.out[0].kind, RR_ACT_BEGIN);
  rr_on_state(&r, state_t, RV_OK, &none, NULL, 3); /* a second answer: ignored */
  assert_int_equal(r.phase, RR_BEGIN);
  /* no answer in time: WAIT, then SYNC again */
  rr_tick(&r, 2 + r.cfg.answer_timeout_ms);
  assert_int_equal(r.phase, RR_WAIT);
  assert_non_null(strstr(r.status, "did not answer"));
  rr_tick(&r, 2 + r.cfg.answer_timeout_ms + r.cfg.retry_ms);
  assert_int_equal(r.phase, RR_SYNC);
  rr_stop(&r);
  assert_int_equal(r.phase, RR_OFF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_load_equals_source),
      cmocka_unit_test(test_rate_and_eta),
      cmocka_unit_test(test_faults_change_nothing),
      cmocka_unit_test(test_generation_replaced_mid_way),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_leave_mode),
      cmocka_unit_test(test_stale_tickets_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
