/* Unit tests of repl_upload (the replicator's pure upload state machine) against a fake kv-store
 * (a namespace with a change log, served in small pages) and a fake backend (an in-memory remote
 * copy with the fencing rule), on a virtual clock:
 *  - a follower only reads the meta row and trims;
 *  - a leader claims, uploads in pages, commits, trims; idle when caught up;
 *  - base copy when the log does not reach the copy's index, and on RV_ETOOBIG;
 *  - RV_EFENCED stops uploads until a newer term; RV_ESTALE re-reads the meta row;
 *  - results of an operation started before a role change are dropped;
 *  - an error is logged once, not per attempt, and its end once;
 *  - epochs (the token is epoch << 32 | term): no claim before the epoch is known; a recovered
 *    cluster replaces the copy of the cluster it came from with a base copy whose commit claims
 *    (never reading changes after, nor trimming below, the other cluster's index), also when
 *    its first leader dies mid-way; the old cluster's late upload is fenced; an epoch that
 *    arrives late claims again; a term past 2^32 makes no token;
 *  - a seeded simulation (writes, failures, leader changes with another uploader claiming):
 *    after every step the remote copy is exactly the namespace at its synced_index (no gap, no
 *    double effect), and at the end it holds everything (RV_SEED=n replays). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl_upload.h"

/* ---- the fake world ------------------------------------------------------------------------ */

#define NK 24          /* keys k00..k23 */
#define MAXIDX 4000
#define PAGE_ROWS 3

typedef struct {
  int val[NK]; /* 0: absent */
} s_ns_t;

typedef struct {
  /* kv-store */
  s_ns_t hist[MAXIDX + 1]; /* the namespace at each index */
  uint64_t applied;
  uint64_t floor;          /* the change log serves after >= floor */
  bool base_needed;
  /* the stream kv-store serves (one at a time, as the core asks) */
  uint64_t stream, to, after;
  int served[NK + 1];
  int nserved, next_row;
  /* backend */
  s_ns_t remote;
  repl_meta_t meta;
  bool has_meta;
  bool write_open, write_base;
  uint64_t w_term, w_gen, w_from;
  s_ns_t w_rows;
  bool w_touched[NK];
  int w_count;
  int fail_next;           /* the next backend op fails with this code */
  uint64_t epoch;          /* this cluster's epoch (the copy of a lower one is another's) */
  uint64_t foreign_index;  /* the other cluster's synced_index: never asked for changes after */
  int kv_changes;          /* change streams asked for */
  int too_big_over;        /* an incremental write of more rows than this: RV_ETOOBIG (0 off) */
  /* what the core asked */
  repl_op_t op;            /* the op in flight (kind NONE: none) */
  int trims;
  uint64_t last_trim;
  int logs;
  char last_log[512];
  int64_t now;
} s_world_t;

static s_world_t W;

static void s_world_init(void) {
  memset(&W, 0, sizeof W);
  W.now = 1000;
}

/* kv-store applies a write at the next index. */
static void s_write(int key, int val) {
  W.applied++;
  W.hist[W.applied] = W.hist[W.applied - 1];
  W.hist[W.applied].val[key] = val;
}

static void s_take(const repl_update_t *u) {
  if (u->log_level) {
    W.logs++;
    snprintf(W.last_log, sizeof W.last_log, "%s", u->log);
  }
  if (u->trim) {
    W.trims++;
    W.last_trim = u->trim_below;
  }
  if (u->op.kind != REPL_OP_NONE) {
    assert_int_equal(W.op.kind, REPL_OP_NONE); /* one op at a time */
    W.op = u->op;
  }
}

/* Serves a kv page for W.op into p (rows kept in W.served). */
static void s_kv_page(repl_kv_page_t *p) {
  const repl_op_t *op = &W.op;
  memset(p, 0, sizeof *p);
  p->stream = op->stream;
  p->page = op->page;
  if (op->kind == REPL_OP_KV_CHANGES && W.foreign_index && op->after_index == W.foreign_index)
    fail_msg("changes asked after %llu, an index of another cluster's log",
             (unsigned long long)op->after_index);
  if (op->kind == REPL_OP_KV_CHANGES && op->page == 0) W.kv_changes++;
  if (op->page == 0) {
    W.stream = op->stream;
    W.to = W.applied;
    W.after = op->after_index;
    W.nserved = 0;
    W.next_row = 0;
    if (op->kind == REPL_OP_KV_CHANGES && (op->after_index < W.floor)) {
      p->code = RV_ESTALE;
      p->base_copy_needed = true;
      p->message = "below the floor";
      return;
    }
    if (op->kind == REPL_OP_KV_CHANGES && op->after_index > W.applied) {
      p->code = RV_EAGAIN;
      p->message = "not applied yet";
      return;
    }
    /* rows: keys changed in (after, to] (changes), or every present key (base) */
    for (int k = 0; k < NK; k++) {
      bool take;
      if (op->kind == REPL_OP_KV_BASE) take = W.hist[W.to].val[k] != 0;
      else {
        take = false;
        for (uint64_t i = op->after_index + 1; i <= W.to; i++)
          if (W.hist[i].val[k] != W.hist[i - 1].val[k]) take = true;
      }
      if (take) W.served[W.nserved++] = k;
    }
  }
  assert_int_equal(op->stream, W.stream);
  int n = W.nserved - W.next_row < PAGE_ROWS ? W.nserved - W.next_row : PAGE_ROWS;
  p->nrows = (size_t)n;
  p->to_index = W.to;
  p->from_index = W.after;
  p->last = W.next_row + n == W.nserved;
  p->rows_sent = (uint64_t)(W.next_row + n);
  p->keys_estimate = (uint64_t)W.nserved;
  /* the rows of this page stay at W.served[next_row .. next_row + n) for the PUT */
}

static void s_backend(repl_backend_result_t *r) {
  const repl_op_t *op = &W.op;
  memset(r, 0, sizeof *r);
  r->id = op->id;
  r->message = "";
  if (W.fail_next) {
    r->rc = W.fail_next;
    r->message = "injected";
    W.fail_next = 0;
    if (op->kind == REPL_OP_COMMIT) W.write_open = false;
    return;
  }
  switch (op->kind) {
    case REPL_OP_READ_META:
      r->rc = W.has_meta ? 0 : RV_ENOTFOUND;
      r->meta = W.meta;
      break;
    case REPL_OP_CLAIM:
      if (W.has_meta && W.meta.term > op->term) {
        r->rc = RV_EFENCED;
        break;
      }
      W.has_meta = true;
      W.meta.term = op->term;
      r->meta = W.meta;
      break;
    case REPL_OP_PUT: {
      if (op->begin) {
        W.write_open = true;
        W.write_base = op->base;
        W.w_term = op->term;
        W.w_gen = op->generation;
        W.w_from = op->from_index;
        memset(&W.w_rows, 0, sizeof W.w_rows);
        memset(W.w_touched, 0, sizeof W.w_touched);
        W.w_count = 0;
      }
      assert_true(W.write_open);
      for (int i = 0; i < PAGE_ROWS && W.next_row < W.nserved; i++) {
        int k = W.served[W.next_row++];
        W.w_rows.val[k] = W.hist[W.to].val[k];
        W.w_touched[k] = true;
        W.w_count++;
      }
      if (!W.write_base && W.too_big_over && W.w_count > W.too_big_over) r->rc = RV_ETOOBIG;
      break;
    }
    case REPL_OP_COMMIT:
      assert_true(W.write_open);
      W.write_open = false;
      if (W.meta.term > W.w_term) {
        r->rc = RV_EFENCED;
        break;
      }
      if (!W.write_base && (W.meta.generation != W.w_gen || W.meta.synced_index != W.w_from)) {
        r->rc = RV_ESTALE;
        r->message = "moved";
        break;
      }
      if (W.write_base && op->to_index < W.meta.synced_index &&
          repl_token_epoch(W.meta.term) >= repl_token_epoch(W.w_term)) {
        r->rc = RV_ESTALE; /* the copy never goes back within an epoch */
        r->message = "past this base copy's index";
        break;
      }
      if (W.write_base) {
        W.remote = W.w_rows;
        W.meta.generation++;
      } else {
        for (int k = 0; k < NK; k++)
          if (W.w_touched[k]) W.remote.val[k] = W.w_rows.val[k];
      }
      W.meta.synced_index = op->to_index;
      W.meta.term = W.w_term;
      W.has_meta = true;
      r->meta = W.meta;
      break;
    case REPL_OP_TIDY: break;
    default: fail_msg("not a backend op: %d", op->kind);
  }
}

/* Runs the op in flight (one step). Returns false when none. */
static bool s_step(repl_upload_t *u) {
  if (W.op.kind == REPL_OP_NONE) return false;
  repl_update_t out;
  if (W.op.kind == REPL_OP_KV_CHANGES || W.op.kind == REPL_OP_KV_BASE) {
    repl_kv_page_t p;
    s_kv_page(&p);
    bool base = W.op.kind == REPL_OP_KV_BASE;
    W.op.kind = REPL_OP_NONE;
    repl_upload_kv_page(u, base, &p, W.now, &out);
  } else {
    repl_backend_result_t r;
    s_backend(&r);
    W.op.kind = REPL_OP_NONE;
    repl_upload_backend_done(u, &r, W.now, W.now, &out);
  }
  s_take(&out);
  return true;
}

static void s_tick(repl_upload_t *u) {
  repl_update_t out;
  repl_upload_tick(u, W.now, &out);
  s_take(&out);
}

/* Runs steps and ticks until nothing is in flight and the core waits for time; advances the
 * clock to its next deadline up to ms. */
static void s_run(repl_upload_t *u, int64_t ms) {
  int64_t end = W.now + ms;
  for (int guard = 0; guard < 100000 && W.now <= end; guard++) {
    if (s_step(u)) continue;
    int64_t next = repl_upload_next_ms(u);
    if (next > end) break;
    if (next > W.now) W.now = next;
    s_tick(u);
  }
  W.now = end;
}

/* A core as the actor makes one: kv-store's recovery state says epoch 0 (never recovered). */
static void s_init(repl_upload_t *u) {
  repl_upload_init(u, 7, W.now);
  repl_update_t out;
  repl_upload_epoch(u, 0, W.now, &out);
  s_take(&out);
}

/* A core that knows its epoch (the output of that step dropped, as before the role is known),
 * then told its role and term. */
static void s_core_at(repl_upload_t *u, uint64_t first_stream, uint64_t epoch, bool leader,
                      uint64_t term) {
  repl_upload_init(u, first_stream, W.now);
  repl_update_t out;
  repl_upload_epoch(u, epoch, W.now, &out);
  repl_upload_role(u, leader, term, W.now, &out);
  s_take(&out);
}

static uint64_t s_tok(uint64_t epoch, uint64_t term) {
  uint64_t t;
  assert_int_equal(repl_token(epoch, term, &t), 0);
  return t;
}

static void s_assert_consistent(void) {
  if (!W.has_meta) return;
  if (repl_token_epoch(W.meta.term) < W.epoch) return; /* the copy of the cluster we came from */
  const s_ns_t *want = &W.hist[W.meta.synced_index];
  for (int k = 0; k < NK; k++)
    if (W.remote.val[k] != want->val[k])
      fail_msg("remote k%02d = %d, the namespace at %llu has %d", k, W.remote.val[k],
               (unsigned long long)W.meta.synced_index, want->val[k]);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_follower_reads_meta_and_trims(void **state) {
  s_world_init();
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, false, 3, W.now, &out);
  s_take(&out);
  s_tick(&u);
  assert_int_equal(W.op.kind, REPL_OP_READ_META);
  W.has_meta = true;
  W.meta.synced_index = 42;
  s_step(&u);
  assert_int_equal(W.last_trim, 42);
  s_run(&u, 5000);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_false(st.active);
  assert_string_equal(st.state, "standby");
  assert_true(W.trims >= 5); /* about every second */
  assert_true(W.trims <= 7);
}

static void test_leader_uploads_in_pages(void **state) {
  s_world_init();
  for (int i = 0; i < 20; i++) s_write(i % NK, i + 1);
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 2, W.now, &out);
  s_take(&out);
  assert_int_equal(W.op.kind, REPL_OP_CLAIM);
  assert_int_equal(W.op.term, 2);
  s_run(&u, 2000);
  assert_int_equal(W.meta.synced_index, 20);
  assert_int_equal(W.meta.term, 2);
  s_assert_consistent();
  assert_int_equal(W.last_trim, 20);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_true(st.active);
  assert_string_equal(st.state, "idle");
  assert_int_equal(st.uploads, 1);
  /* more writes: uploaded at the next poll */
  s_write(3, 99);
  s_write(4, 0);
  s_run(&u, 500);
  assert_int_equal(W.meta.synced_index, 22);
  s_assert_consistent();
}

static void test_base_copy_when_log_too_short(void **state) {
  s_world_init();
  for (int i = 0; i < 30; i++) s_write(i % NK, i + 1);
  W.floor = 25; /* enabled on existing data: the log starts at 25 */
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 1, W.now, &out);
  s_take(&out);
  W.logs = 0;
  s_run(&u, 3000);
  assert_int_equal(W.meta.synced_index, 30);
  assert_int_equal(W.meta.generation, 1);
  s_assert_consistent();
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_int_equal(st.base_copies, 1);
  assert_int_equal(st.base_rows_done, 24);
  /* then incremental again */
  s_write(1, 1000);
  s_run(&u, 500);
  assert_int_equal(W.meta.synced_index, 31);
  assert_int_equal(W.meta.generation, 1);
  s_assert_consistent();
}

static void test_too_big_becomes_base_copy(void **state) {
  s_world_init();
  for (int i = 0; i < 24; i++) s_write(i, i + 1);
  W.too_big_over = 5;
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 1, W.now, &out);
  s_take(&out);
  s_run(&u, 3000);
  assert_int_equal(W.meta.synced_index, 24);
  assert_int_equal(W.meta.generation, 1);
  s_assert_consistent();
}

/* Writes go on during a base copy that the backlog made necessary: the copy folds in what changed
 * meanwhile and commits close to the present, and uploads are incremental again after it (one
 * base copy, not one after another). The copy is consistent after every step. */
static void test_base_copy_folds_in_changes_made_meanwhile(void **state) {
  s_world_init();
  for (int i = 0; i < NK; i++) s_write(i, i + 1);
  W.too_big_over = 5; /* the 24 changes do not fit in one atomic write */
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 1, W.now, &out);
  s_take(&out);
  bool saw_fold = false;
  for (int i = 0; i < 400; i++) { /* a write every other step, for as long as it takes */
    if (i % 2 == 0) s_write((i / 2) % NK, 100 + i);
    if (!s_step(&u)) {
      W.now = repl_upload_next_ms(&u);
      s_tick(&u);
    }
    repl_upload_status_t st;
    repl_upload_status(&u, &st);
    if (st.folding) {
      saw_fold = true;
      assert_string_equal(st.state, "base-copy");
      assert_true(st.fold_index >= W.meta.synced_index);
    }
    s_assert_consistent();
  }
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  if (st.base_copies != 1) fail_msg("%llu base copies while writes went on (1 expected)",
                                    (unsigned long long)st.base_copies);
  assert_true(st.uploads > 10); /* incremental after the base copy */
  assert_true(saw_fold);
  s_run(&u, 5000);
  assert_int_equal(W.meta.synced_index, W.applied);
  s_assert_consistent();
}

static void test_fenced_until_newer_term(void **state) {
  s_world_init();
  for (int i = 0; i < 5; i++) s_write(i, 1);
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 4, W.now, &out);
  s_take(&out);
  s_run(&u, 1000);
  assert_int_equal(W.meta.synced_index, 5);
  /* a newer leader (term 5) claims while this one still thinks it leads */
  W.meta.term = 5;
  s_write(6, 1);
  W.logs = 0;
  s_run(&u, 1000);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_string_equal(st.state, "fenced");
  assert_false(st.active);
  assert_int_equal(W.meta.synced_index, 5); /* its late commit changed nothing */
  assert_int_equal(W.logs, 1);
  assert_non_null(strstr(W.last_log, "fenced in term 4"));
  s_run(&u, 3000); /* fenced: reads the meta row like a follower, uploads nothing */
  assert_int_equal(W.meta.synced_index, 5);
  assert_int_equal(W.logs, 1);
  /* leads again in term 6: claims and catches up */
  repl_upload_role(&u, true, 6, W.now, &out);
  s_take(&out);
  s_run(&u, 2000);
  assert_int_equal(W.meta.term, 6);
  assert_int_equal(W.meta.synced_index, 6);
  s_assert_consistent();
}

static void test_stale_meta_is_read_again(void **state) {
  s_world_init();
  for (int i = 0; i < 5; i++) s_write(i, 1);
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 1, W.now, &out);
  s_take(&out);
  s_run(&u, 1000);
  /* someone of the same term moved the copy on (to 7) behind this uploader's back */
  s_write(5, 1);
  s_write(6, 1);
  s_write(7, 1);
  W.remote = W.hist[7];
  W.meta.synced_index = 7;
  s_run(&u, 2000);
  assert_int_equal(W.meta.synced_index, 8);
  s_assert_consistent();
}

static void test_result_after_role_change_dropped(void **state) {
  s_world_init();
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 1, W.now, &out);
  s_take(&out);
  assert_int_equal(W.op.kind, REPL_OP_CLAIM);
  repl_op_t stale = W.op;
  W.op.kind = REPL_OP_NONE;
  repl_upload_role(&u, false, 2, W.now, &out); /* lost leadership while claiming */
  s_take(&out);
  repl_backend_result_t r = {.id = stale.id, .rc = 0, .message = ""};
  repl_upload_backend_done(&u, &r, W.now, W.now, &out);
  assert_int_equal(out.op.kind, REPL_OP_NONE);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_false(st.active);
  assert_string_equal(st.state, "standby");
}

static void test_error_logged_once(void **state) {
  s_world_init();
  s_write(1, 1);
  repl_upload_t u;
  s_init(&u);
  repl_update_t out;
  repl_upload_role(&u, true, 1, W.now, &out);
  s_take(&out);
  W.logs = 0;
  int64_t gap = 0;
  for (int i = 0; i < 6; i++) { /* the claim fails six times in a row */
    W.fail_next = RV_EUNAVAIL;
    s_step(&u);
    repl_upload_status_t st;
    repl_upload_status(&u, &st);
    assert_string_equal(st.state, "error");
    assert_non_null(strstr(st.last_error, "injected"));
    int64_t failed_at = W.now;
    s_tick(&u);
    assert_int_equal(W.op.kind, REPL_OP_NONE); /* no retry at once */
    for (int k = 0; k < 100 && W.op.kind == REPL_OP_NONE; k++) {
      W.now = repl_upload_next_ms(&u);
      s_tick(&u);
    }
    assert_int_equal(W.op.kind, REPL_OP_CLAIM);
    assert_true(W.now - failed_at > gap); /* the backoff grows */
    gap = W.now - failed_at;
  }
  assert_int_equal(W.logs, 1);
  s_run(&u, 30000);
  assert_int_equal(W.meta.synced_index, 1);
  assert_non_null(strstr(W.last_log, "") );
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_string_equal(st.last_error, "");
  assert_int_equal(st.errors, 6);
}


/* ---- epochs: the fencing token is epoch << 32 | Raft term ----------------------------------- */

/* No claim before kv-store's recovery state gave the epoch: a recovered cluster would claim
 * epoch 0 and be fenced until the next election. */
static void test_claim_waits_for_the_epoch(void **state) {
  s_world_init();
  s_write(1, 1);
  repl_upload_t u;
  repl_upload_init(&u, 7, W.now);
  repl_update_t out;
  repl_upload_role(&u, true, 2, W.now, &out);
  s_take(&out);
  assert_int_equal(W.op.kind, REPL_OP_NONE);
  s_run(&u, 3000);
  assert_false(W.has_meta); /* nothing claimed, nothing written */
  assert_int_equal(W.last_trim, 0);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_string_equal(st.state, "claiming");
  assert_false(st.active);
  repl_upload_epoch(&u, 0, W.now, &out); /* never recovered: the token is the term */
  s_take(&out);
  assert_int_equal(W.op.kind, REPL_OP_CLAIM);
  assert_int_equal(W.op.term, 2);
  s_run(&u, 1000);
  assert_int_equal(W.meta.term, 2);
  assert_int_equal(W.meta.synced_index, 1);
}

/* The old cluster's copy (epoch 1, term 9, its index 3000, its namespace) is replaced by a base
 * copy of the recovered cluster (epoch 2, Raft term 1) whose commit claims the token: no change
 * is ever asked after 3000, no trim names it; then uploads go on incrementally; a late upload
 * of the old cluster (epoch 1, term 9) is refused, and within epoch 1 term 2 is fenced by 3. */
static void test_recovered_cluster_takes_over(void **state) {
  s_world_init();
  /* epoch 1, term 2 fenced by epoch 1, term 3 (leaders of one cluster, as today) */
  W.has_meta = true;
  W.meta.term = s_tok(1, 3);
  W.epoch = 1;
  repl_upload_t old;
  s_core_at(&old, 7, 1, true, 2);
  s_run(&old, 1000);
  repl_upload_status_t st;
  repl_upload_status(&old, &st);
  assert_string_equal(st.state, "fenced");
  assert_int_equal(W.meta.term, s_tok(1, 3));
  assert_non_null(strstr(W.last_log, "fenced in term 2 of epoch 1"));

  /* the old cluster (epoch 1) at term 9 holds the copy at its index 3000 */
  W.meta.term = s_tok(1, 9);
  W.meta.synced_index = W.foreign_index = 3000;
  W.meta.generation = 4;
  for (int k = 0; k < NK; k++) W.remote.val[k] = 100 + k; /* its namespace */
  /* the recovered cluster, epoch 2: Raft term 1, 30 entries (the loaded rows, then writes) */
  W.epoch = 2;
  for (int i = 0; i < 30; i++) s_write(i % NK, i + 1);
  W.floor = 0; /* even a change log from index 0 must not be read after another's index */
  repl_upload_t u;
  s_core_at(&u, 9, 2, true, 1);
  assert_int_equal(W.op.kind, REPL_OP_READ_META); /* epoch > 0: the row first */
  W.trims = 0;
  s_run(&u, 3000);
  assert_int_equal(W.meta.term, s_tok(2, 1)); /* epoch 2 term 1 passed over epoch 1 term 9 */
  assert_int_equal(W.meta.synced_index, 30);   /* back from 3000: another cluster's index */
  assert_int_equal(W.meta.generation, 5);
  s_assert_consistent();
  repl_upload_status(&u, &st);
  assert_true(st.active);
  assert_int_equal(st.base_copies, 1);
  assert_true(st.meta_ours);
  assert_int_equal(W.last_trim, 30);
  /* incremental from its own index now */
  s_write(3, 77);
  s_write(5, 0);
  s_run(&u, 1000);
  assert_int_equal(W.meta.synced_index, 32);
  assert_int_equal(W.meta.generation, 5);
  s_assert_consistent();
  assert_true(W.kv_changes >= 1);
  /* a late upload of the old cluster's leader (epoch 1, term 9): refused */
  repl_upload_t late;
  s_core_at(&late, 11, 1, true, 9);
  s_run(&late, 2000);
  repl_upload_status(&late, &st);
  assert_string_equal(st.state, "fenced");
  assert_false(st.meta_ours); /* a follower of epoch 1 would not trim after epoch 2's index */
  assert_int_equal(W.meta.term, s_tok(2, 1));
  assert_int_equal(W.meta.synced_index, 32);
  s_assert_consistent();
}

/* Nothing is trimmed below another cluster's index, before the base copy: a follower of the
 * recovered cluster reading the old copy's row reports without trimming. */
static void test_no_trim_below_another_epochs_index(void **state) {
  s_world_init();
  W.has_meta = true;
  W.meta.term = s_tok(0, 12);
  W.meta.synced_index = 9000;
  repl_upload_t u;
  s_core_at(&u, 7, 1, false, 1);
  s_run(&u, 3000);
  assert_true(W.trims >= 2);
  assert_int_equal(W.last_trim, 0);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_true(st.meta_known);
  assert_false(st.meta_ours);
}

/* A leader that dies mid-way through the base copy that replaces the old epoch's copy leaves the
 * old row as it was: its successor (a newer term) replaces it again, never reads changes after
 * the old index. */
static void test_takeover_interrupted(void **state) {
  s_world_init();
  W.has_meta = true;
  W.meta.term = s_tok(0, 5);
  W.meta.synced_index = W.foreign_index = 500;
  W.meta.generation = 2;
  W.epoch = 1;
  for (int i = 0; i < 20; i++) s_write(i % NK, i + 1);
  repl_upload_t u;
  repl_update_t out;
  s_core_at(&u, 7, 1, true, 1);
  /* run until the base copy's commit is asked for, then fail it */
  for (int guard = 0; guard < 100 && W.op.kind != REPL_OP_COMMIT; guard++) s_step(&u);
  assert_int_equal(W.op.kind, REPL_OP_COMMIT);
  W.fail_next = RV_EUNAVAIL;
  s_step(&u);
  assert_int_equal(W.meta.term, s_tok(0, 5)); /* the old row stays */
  /* the next leader (term 2): the row is still the old epoch's: a base copy again */
  repl_upload_role(&u, false, 2, W.now, &out);
  s_take(&out);
  repl_upload_role(&u, true, 3, W.now, &out);
  s_step(&u); /* whatever was in flight: dropped */
  s_take(&out);
  s_run(&u, 5000);
  assert_int_equal(W.meta.term, s_tok(1, 3));
  assert_int_equal(W.meta.synced_index, 20);
  s_assert_consistent();
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_true(st.active);
}

/* A leader whose kv-store had not applied the recovery yet claims epoch 0 and is fenced by its
 * own cluster's epoch-1 row; when the epoch arrives, the new token claims again and uploads. */
static void test_epoch_arrives_late(void **state) {
  s_world_init();
  for (int i = 0; i < 10; i++) s_write(i, 1);
  W.has_meta = true;
  W.meta.term = s_tok(1, 4); /* this cluster's earlier leader */
  W.meta.synced_index = 8;
  W.remote = W.hist[8];
  W.epoch = 1;
  repl_upload_t u;
  repl_update_t out;
  s_core_at(&u, 7, 0, true, 5);
  s_run(&u, 2000);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_string_equal(st.state, "fenced");
  repl_upload_epoch(&u, 1, W.now, &out);
  s_take(&out);
  assert_int_equal(W.op.kind, REPL_OP_READ_META);
  s_run(&u, 2000);
  assert_int_equal(W.meta.term, s_tok(1, 5));
  assert_int_equal(W.meta.synced_index, 10);
  s_assert_consistent();
  repl_upload_status(&u, &st);
  assert_int_equal(st.base_copies, 0); /* its own epoch's index: incremental */
}

/* Terms of 2^32 and more make no token once the epoch is not 0: an error, said, nothing claimed. */
static void test_token_out_of_range(void **state) {
  s_world_init();
  repl_upload_t u;
  s_core_at(&u, 7, 1, true, 1ull << 32);
  s_run(&u, 2000);
  assert_false(W.has_meta);
  repl_upload_status_t st;
  repl_upload_status(&u, &st);
  assert_string_equal(st.state, "error");
  assert_non_null(strstr(st.last_error, "makes no fencing token"));
}

static uint64_t s_rng;
static uint64_t s_rnd(void) {
  s_rng = s_rng * 6364136223846793005ull + 1442695040888963407ull;
  return s_rng >> 33;
}

static void test_simulation(void **state) {
  const char *env = getenv("RV_SEED");
  unsigned long long seed = env ? strtoull(env, NULL, 10) : 99ull;
  print_message("seed %llu (RV_SEED to replay)\n", seed);
  for (int run = 0; run < 20; run++) {
    s_rng = seed + (uint64_t)run;
    s_world_init();
    repl_upload_t u;
    s_init(&u);
    repl_update_t out;
    uint64_t term = 1;
    bool leader = true;
    repl_upload_role(&u, true, term, W.now, &out);
    s_take(&out);
    for (int step = 0; step < 600; step++) {
      int what = (int)(s_rnd() % 100);
      if (what < 40 && W.applied < MAXIDX) {
        s_write((int)(s_rnd() % NK), (int)(s_rnd() % 4)); /* 0: a deletion */
      } else if (what < 45) {
        W.fail_next = s_rnd() % 2 ? RV_EUNAVAIL : RV_EIO;
      } else if (what < 48) { /* leadership moves: another node's uploader claims a newer term */
        term += 1 + s_rnd() % 2;
        leader = s_rnd() % 2;
        if (!leader) W.meta.term = term; /* the new leader elsewhere claims */
        repl_upload_role(&u, leader, term, W.now, &out);
        /* the op in flight finishes first (its result is dropped), as the shell's worker does */
        s_step(&u);
        s_take(&out);
      } else if (what < 50) {
        W.floor = W.applied; /* the log overflowed its cap */
      } else if (what < 75) {
        s_step(&u);
      } else {
        W.now += (int64_t)(s_rnd() % 300);
        s_tick(&u);
      }
      s_assert_consistent();
      assert_true(W.meta.synced_index <= W.applied);
    }
    /* the end: this node leads, no faults: the copy catches up */
    W.fail_next = 0;
    term++;
    repl_upload_role(&u, true, term, W.now, &out);
    s_step(&u);
    s_take(&out);
    s_run(&u, 60000);
    s_assert_consistent();
    if (W.meta.synced_index != W.applied)
      fail_msg("seed %llu run %d: synced %llu, applied %llu", seed, run,
               (unsigned long long)W.meta.synced_index, (unsigned long long)W.applied);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_follower_reads_meta_and_trims),
      cmocka_unit_test(test_leader_uploads_in_pages),
      cmocka_unit_test(test_base_copy_when_log_too_short),
      cmocka_unit_test(test_too_big_becomes_base_copy),
      cmocka_unit_test(test_base_copy_folds_in_changes_made_meanwhile),
      cmocka_unit_test(test_fenced_until_newer_term),
      cmocka_unit_test(test_stale_meta_is_read_again),
      cmocka_unit_test(test_result_after_role_change_dropped),
      cmocka_unit_test(test_error_logged_once),
      cmocka_unit_test(test_claim_waits_for_the_epoch),
      cmocka_unit_test(test_recovered_cluster_takes_over),
      cmocka_unit_test(test_no_trim_below_another_epochs_index),
      cmocka_unit_test(test_takeover_interrupted),
      cmocka_unit_test(test_epoch_arrives_late),
      cmocka_unit_test(test_token_out_of_range),
      cmocka_unit_test(test_simulation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
