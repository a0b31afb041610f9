/* Unit tests of kv_recovery (rebuilding a new cluster from the remote copy, through the log):
 * the namespace is read-only with exactly RV_ERECOVERY_MSG while RUNNING and FINISH, BEGIN is
 * refused on a namespace that holds data, ROWS apply exactly once (duplicates, lost and
 * out-of-order batches change nothing), the result equals the source (namespace digest, fsck,
 * counts), a replaced source generation restarts cleanly, the state survives a restart and a
 * snapshot copy, LEAVE makes the namespace writable with inodes that never collide; the
 * cluster's epoch (source term's epoch + 1) is set by BEGIN, carried, never lowered, and out
 * of the namespace digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"

/* The namespace rows of a store, in key order (what the remote copy holds): owned copies. */
typedef struct {
  kv_recovery_row_t *rows;
  size_t n, cap;
  uint64_t bytes;
} rows_t;

static int s_collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  rows_t *r = arg;
  if (!kv_chlog_in_scope(k, kl)) return 0;
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 64;
    r->rows = realloc(r->rows, r->cap * sizeof *r->rows);
    assert_non_null(r->rows);
  }
  uint8_t *kc = malloc(kl), *vc = malloc(vl ? vl : 1);
  memcpy(kc, k, kl);
  if (vl) memcpy(vc, v, vl);
  r->rows[r->n++] = (kv_recovery_row_t){{kc, kl}, {vc, vl}};
  r->bytes += kl + vl;
  return 0;
}

static rows_t s_rows_of(kv_t_env_t *e) {
  rows_t r = {0};
  rv_err_t err;
  assert_int_equal(kv_store_scan(e->store, (const uint8_t *)"", 0, s_collect, &r, &err), 0);
  return r;
}

static void s_rows_free(rows_t *r) {
  for (size_t i = 0; i < r->n; i++) {
    free((void *)r->rows[i].key.p);
    free((void *)r->rows[i].val.p);
  }
  free(r->rows);
  memset(r, 0, sizeof *r);
}

static kv_t_env_t *s_source(int files);
static kv_t_env_t *s_namespace_of(int files) { return s_source(files); }

/* A source namespace with some depth, contents and attributes. */
static kv_t_env_t *s_source(int files) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  e->now = 1700000000000;
  assert_int_equal(kv_t_mkdir(e, "/data/logs", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_mkdir(e, "/home/alice", KV_F_PARENTS), RV_OK);
  char p[64], d[32];
  for (int i = 0; i < files; i++) {
    snprintf(p, sizeof p, "/data/logs/f%03d", i);
    snprintf(d, sizeof d, "content %d", i);
    assert_int_equal(kv_t_put(e, p, i % 3 ? d : "", 0), RV_OK);
  }
  assert_int_equal(kv_t_rm(e, "/data/logs/f000", 0), RV_OK);
  assert_int_equal(kv_t_mv(e, "/data/logs/f001", "/home/alice/moved"), RV_OK);
  return e;
}

static int s_apply_enc(kv_t_env_t *e, kv_buf_t *b) {
  int rc = kv_t_apply_raw(e, b->data, b->len);
  kv_buf_reset(b);
  return rc;
}

static int s_begin(kv_t_env_t *e, const char *cluster, uint64_t gen, const rows_t *src) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  kv_recovery_begin_t bg = {.cluster = cluster, .generation = gen, .synced_index = 40 + gen,
                            .rows_total = src->n, .bytes_total = src->bytes};
  assert_int_equal(kv_recovery_encode_begin(&bg, e->now, &b, &err), RV_OK);
  int rc = s_apply_enc(e, &b);
  kv_buf_close(&b);
  return rc;
}

/* ROWS of rows[from, from + n) after the key of rows[from - 1] (or the start). */
static int s_rows_at(kv_t_env_t *e, const rows_t *src, size_t from, size_t n) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  const uint8_t *after = from ? src->rows[from - 1].key.p : NULL;
  size_t alen = from ? src->rows[from - 1].key.len : 0;
  assert_int_equal(kv_recovery_encode_rows(after, alen, src->rows + from, n, e->now, &b, &err),
                   RV_OK);
  int rc = s_apply_enc(e, &b);
  kv_buf_close(&b);
  return rc;
}

static int s_finish(kv_t_env_t *e, const rows_t *src, size_t after_rows) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  const kv_recovery_row_t *last = after_rows ? &src->rows[after_rows - 1] : NULL;
  assert_int_equal(kv_recovery_encode_finish(last ? last->key.p : NULL, last ? last->key.len : 0,
                                             e->now, &b, &err),
                   RV_OK);
  int rc = s_apply_enc(e, &b);
  kv_buf_close(&b);
  return rc;
}

static int s_leave(kv_t_env_t *e) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  assert_int_equal(kv_recovery_encode_leave(e->now, &b, &err), RV_OK);
  int rc = s_apply_enc(e, &b);
  kv_buf_close(&b);
  return rc;
}

static void s_load_all(kv_t_env_t *e, const rows_t *src, size_t chunk) {
  for (size_t i = 0; i < src->n; i += chunk)
    assert_int_equal(s_rows_at(e, src, i, i + chunk > src->n ? src->n - i : chunk), RV_OK);
}

static kv_recovery_t s_state(kv_t_env_t *e) {
  kv_recovery_t st;
  kv_core_recovery(e->core, &st);
  return st;
}

static void test_full_recovery_read_only_then_leave(void **state) {
  kv_t_env_t *src = s_source(50);
  rows_t rows = s_rows_of(src);
  kv_t_env_t *e = kv_t_env_new(NULL);
  e->now = 1800000000000;
  assert_false(kv_core_read_only(e->core));
  assert_int_equal(s_begin(e, "prod-a", 3, &rows), RV_OK);
  assert_true(kv_core_read_only(e->core));
  kv_recovery_t st = s_state(e);
  assert_int_equal(st.phase, KV_RECOVERY_RUNNING);
  assert_string_equal(kv_recovery_phase_name(st.phase), "RUNNING");
  assert_string_equal(st.source_cluster, "prod-a");
  assert_int_equal(st.rows_total, rows.n);

  /* every write is refused with exactly the published line, recorded in its session */
  e->client = 77;
  assert_int_equal(kv_t_mkdir(e, "/x", 0), RV_ERECOVERY);
  assert_string_equal(e->res.msg, RV_ERECOVERY_MSG);
  assert_string_equal(e->res.msg,
                      "ErrorCode : 25021 , ErrorMsg: Namespace is under recovery mode, and is "
                      "read-only.");
  e->seq--; /* the same seq again: a client's retry answers the recorded refusal */
  assert_int_equal(kv_t_mkdir(e, "/x", 0), RV_ERECOVERY);
  assert_true(e->res.skipped);
  e->client = 0;
  assert_int_equal(kv_t_put(e, "/f", "x", 0), RV_ERECOVERY);
  assert_int_equal(kv_t_touchz(e, "/g"), RV_ERECOVERY);
  assert_int_equal(kv_t_rm(e, "/", KV_F_RECURSIVE), RV_ERECOVERY);
  assert_int_equal(kv_t_mv(e, "/a", "/b"), RV_ERECOVERY);

  /* half the rows; reads answer with what is loaded so far */
  size_t half = rows.n / 2;
  s_load_all(e, &(rows_t){rows.rows, half, 0, 0}, 7);
  st = s_state(e);
  assert_int_equal(st.rows, half);
  assert_int_equal(kv_t_put(e, "/f", "x", 0), RV_ERECOVERY);
  assert_int_equal(s_leave(e), RV_EBUSY); /* a partial namespace never becomes writable */
  assert_non_null(strstr(e->res.msg, "RUNNING"));
  assert_true(kv_core_read_only(e->core));
  for (size_t i = half; i < rows.n; i += 5)
    assert_int_equal(s_rows_at(e, &rows, i, i + 5 > rows.n ? rows.n - i : 5), RV_OK);
  assert_int_equal(s_finish(e, &rows, rows.n), RV_OK);
  st = s_state(e);
  assert_int_equal(st.phase, KV_RECOVERY_FINISH);
  assert_int_equal(st.rows, rows.n);
  assert_int_equal(st.bytes, rows.bytes);

  /* FINISH: the same namespace as the source, still read-only */
  assert_int_equal(kv_t_digest(e, KV_DIGEST_NAMESPACE), kv_t_digest(src, KV_DIGEST_NAMESPACE));
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_count_t a, b;
  assert_int_equal(kv_t_count(e, "/", &a), RV_OK);
  assert_int_equal(kv_t_count(src, "/", &b), RV_OK);
  assert_memory_equal(&a, &b, sizeof a);
  assert_int_equal(kv_t_mkdir(e, "/after", 0), RV_ERECOVERY);
  assert_string_equal(e->res.msg, RV_ERECOVERY_MSG);
  assert_int_equal(s_finish(e, &rows, rows.n), RV_OK); /* repeated: a no-op */
  assert_true(e->res.skipped);

  /* LEAVE: writable, and new inodes are above every inode loaded (fsck finds no clash) */
  assert_int_equal(s_leave(e), RV_OK);
  assert_false(kv_core_read_only(e->core));
  assert_int_equal(s_state(e).phase, KV_RECOVERY_LEFT);
  assert_int_equal(s_leave(e), RV_OK); /* repeated: a no-op */
  assert_true(e->res.skipped);
  assert_int_equal(kv_t_mkdir(e, "/after/x", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(e, "/after/x/new", "new", 0), RV_OK);
  assert_int_equal(kv_t_put(src, "/after/x/new", "y", KV_F_PARENTS), RV_OK);
  kv_stat_t s1, s2;
  assert_int_equal(kv_t_stat(e, "/after/x/new", &s1), RV_OK);
  assert_int_equal(kv_t_stat(src, "/after/x/new", &s2), RV_OK);
  assert_true(s1.inode >= s2.inode); /* the source's next inode carried over */
  assert_int_equal(kv_t_check(e), RV_OK);
  s_rows_free(&rows);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&src);
}

static void test_rows_exactly_once(void **state) {
  kv_t_env_t *src = s_source(30);
  rows_t rows = s_rows_of(src);
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_rows_at(e, &rows, 0, 4), RV_ENOTRUNNING); /* no BEGIN yet */
  assert_int_equal(s_begin(e, "c", 1, &rows), RV_OK);
  assert_int_equal(s_begin(e, "c", 1, &rows), RV_OK); /* a new leader re-proposing it */
  assert_true(e->res.skipped);
  assert_int_equal(s_rows_at(e, &rows, 0, 4), RV_OK);
  uint64_t d1 = kv_t_digest(e, KV_DIGEST_NAMESPACE);
  /* the same batch again (re-proposed across a leader change): not applied */
  assert_int_equal(s_rows_at(e, &rows, 0, 4), RV_ESTALE);
  assert_non_null(strstr(e->res.msg, "recovery cursor"));
  /* a batch after a lost one: not applied */
  assert_int_equal(s_rows_at(e, &rows, 8, 4), RV_ESTALE);
  /* an overlapping one: not applied */
  assert_int_equal(s_rows_at(e, &rows, 2, 4), RV_ESTALE);
  /* FINISH too early: refused, nothing changes */
  assert_int_equal(s_finish(e, &rows, rows.n), RV_ESTALE);
  assert_true(kv_t_digest(e, KV_DIGEST_NAMESPACE) == d1);
  assert_int_equal(s_state(e).rows, 4);
  /* a restart resumes from the replicated cursor */
  kv_t_env_reopen(e);
  assert_int_equal(s_state(e).rows, 4);
  assert_int_equal(s_rows_at(e, &rows, 4, rows.n - 4), RV_OK);
  /* a snapshot of the store (everything but the change log) carries the state */
  kv_memstore_t *snap = kv_t_copy_no_chlog(e->store);
  kv_t_env_t *f = kv_t_env_new_on(kv_memstore_store(snap), NULL);
  f->index = e->index;
  assert_int_equal(s_state(f).phase, KV_RECOVERY_RUNNING);
  assert_int_equal(s_finish(f, &rows, rows.n), RV_OK);
  assert_int_equal(kv_t_digest(f, KV_DIGEST_NAMESPACE), kv_t_digest(src, KV_DIGEST_NAMESPACE));
  kv_t_env_destroy(&f);
  kv_memstore_destroy(&snap);
  s_rows_free(&rows);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&src);
}

static void test_begin_refused_on_data(void **state) {
  kv_t_env_t *src = s_source(3);
  rows_t rows = s_rows_of(src);
  uint64_t before = kv_t_digest(src, KV_DIGEST_NAMESPACE);
  assert_int_equal(s_begin(src, "other", 1, &rows), RV_ENOTEMPTY);
  assert_non_null(strstr(src->res.msg, "not empty"));
  assert_non_null(strstr(src->res.msg, "new, empty cluster"));
  assert_false(kv_core_read_only(src->core));
  assert_int_equal(kv_t_digest(src, KV_DIGEST_NAMESPACE), before);
  assert_int_equal(kv_t_mkdir(src, "/still-writable", 0), RV_OK);
  s_rows_free(&rows);
  kv_t_env_destroy(&src);
}

static void test_generation_replaced_restarts_cleanly(void **state) {
  kv_t_env_t *a = s_source(40);
  kv_t_env_t *b = kv_t_env_new(NULL); /* another namespace, fewer and other keys */
  assert_int_equal(kv_t_mkdir(b, "/other/tree", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(b, "/other/tree/only", "b", 0), RV_OK);
  rows_t ra = s_rows_of(a), rb = s_rows_of(b);
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_begin(e, "c", 1, &ra), RV_OK);
  s_load_all(e, &(rows_t){ra.rows, ra.n - 3, 0, 0}, 6); /* all but the last rows of gen 1 */
  /* the remote copy was replaced by generation 2: the loader starts again from scratch */
  assert_int_equal(s_begin(e, "c", 2, &rb), RV_OK);
  assert_int_equal(e->res.n, 1);
  kv_recovery_t st = s_state(e);
  assert_int_equal(st.rows, 0);
  assert_int_equal(st.cursor_len, 0);
  assert_int_equal(st.source_generation, 2);
  s_load_all(e, &rb, 2);
  assert_int_equal(s_finish(e, &rb, rb.n), RV_OK);
  /* nothing of generation 1 is left */
  assert_int_equal(kv_t_digest(e, KV_DIGEST_NAMESPACE), kv_t_digest(b, KV_DIGEST_NAMESPACE));
  assert_int_equal(kv_t_check(e), RV_OK);
  /* another generation after FINISH is refused: leave first */
  assert_int_equal(s_begin(e, "c", 3, &ra), RV_EBUSY);
  assert_int_equal(s_state(e).source_generation, 2);
  /* and once left, BEGIN is refused as on any cluster holding data */
  assert_int_equal(s_leave(e), RV_OK);
  assert_int_equal(s_begin(e, "c", 3, &ra), RV_ENOTEMPTY);
  assert_false(kv_core_read_only(e->core));
  s_rows_free(&ra);
  s_rows_free(&rb);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&a);
  kv_t_env_destroy(&b);
}

static void test_bad_rows_refused(void **state) {
  kv_t_env_t *src = s_source(5);
  rows_t rows = s_rows_of(src);
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_begin(e, "c", 1, &rows), RV_OK);
  uint64_t before = kv_t_digest(e, KV_DIGEST_NAMESPACE);
  /* a key outside the namespace (a session) */
  uint8_t sk[9] = {'S', 0, 0, 0, 0, 0, 0, 0, 1};
  kv_recovery_row_t bad[2] = {rows.rows[0], {{sk, sizeof sk}, {(const uint8_t *)"x", 1}}};
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, bad, 2, 0, &b, &err), RV_OK);
  assert_int_equal(s_apply_enc(e, &b), RV_ECORRUPT);
  assert_non_null(strstr(e->res.msg, "row 1, key S\\x00"));
  assert_non_null(strstr(e->res.msg, "not a namespace key"));
  /* out of order */
  kv_recovery_row_t rev[2] = {rows.rows[1], rows.rows[0]};
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, rev, 2, 0, &b, &err), RV_OK);
  assert_int_equal(s_apply_enc(e, &b), RV_ECORRUPT);
  assert_non_null(strstr(e->res.msg, "increasing key order"));
  /* malformed attributes */
  size_t ai = 0;
  while (rows.rows[ai].key.p[0] != KV_T_ATTR) ai++;
  kv_recovery_row_t ba = {rows.rows[ai].key, {(const uint8_t *)"zz", 2}};
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, &ba, 1, 0, &b, &err), RV_OK);
  assert_int_equal(s_apply_enc(e, &b), RV_ECORRUPT);
  assert_non_null(strstr(e->res.msg, "malformed attributes"));
  assert_int_equal(kv_t_digest(e, KV_DIGEST_NAMESPACE), before);
  assert_int_equal(s_state(e).rows, 0);
  /* a truncated command is refused by the decoder */
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, rows.rows, 2, 0, &b, &err), RV_OK);
  assert_int_equal(kv_t_apply_raw(e, b.data, b.len - 1), RV_EDECODE);
  kv_buf_reset(&b);
  /* encoder limits */
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, rows.rows, 0, 0, &b, &err), RV_EINVAL);
  assert_int_equal(kv_recovery_encode_begin(&(kv_recovery_begin_t){.cluster =
                       "0123456789012345678901234567890123456789012345678901234567890123456789"
                       "0123456789012345678901234567890123456789012345678901234567890123456789"},
                                            0, &b, &err),
                   RV_EINVAL);
  assert_int_equal(s_state(e).rows, 0);
  kv_buf_close(&b);
  s_rows_free(&rows);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&src);
}

/* Grouped applies (kv_core_apply_batch, as the actor applies an ApplyBatch) give the same
 * namespace as one write per command, a restart from scratch inside the group included: rows of
 * generation 1, BEGIN of generation 2, its rows and FINISH, all in one group. */
static void test_grouped_apply_with_restart(void **state) {
  kv_t_env_t *a = s_namespace_of(40);
  kv_t_env_t *b = kv_t_env_new(NULL);
  assert_int_equal(kv_t_mkdir(b, "/only/in/b", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(b, "/only/in/b/f", "b", 0), RV_OK);
  rows_t ra = s_rows_of(a), rb = s_rows_of(b);
  kv_buf_t cmds[8];
  size_t n = 0;
  rv_err_t err;
  for (size_t i = 0; i < 8; i++) kv_buf_init(&cmds[i]);
  kv_recovery_begin_t b1 = {"c", 1, 9, ra.n, ra.bytes, 0}, b2 = {"c", 2, 9, rb.n, rb.bytes, 0};
  assert_int_equal(kv_recovery_encode_begin(&b1, 0, &cmds[n++], &err), RV_OK);
  size_t half = ra.n / 2;
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, ra.rows, half, 0, &cmds[n++], &err), RV_OK);
  assert_int_equal(kv_recovery_encode_rows(ra.rows[half - 1].key.p, ra.rows[half - 1].key.len,
                                           ra.rows + half, ra.n - half - 2, 0, &cmds[n++], &err),
                   RV_OK);
  assert_int_equal(kv_recovery_encode_begin(&b2, 0, &cmds[n++], &err), RV_OK);
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, rb.rows, 2, 0, &cmds[n++], &err), RV_OK);
  assert_int_equal(kv_recovery_encode_rows(rb.rows[1].key.p, rb.rows[1].key.len, rb.rows + 2,
                                           rb.n - 2, 0, &cmds[n++], &err),
                   RV_OK);
  const kv_recovery_row_t *last = &rb.rows[rb.n - 1];
  assert_int_equal(kv_recovery_encode_finish(last->key.p, last->key.len, 0, &cmds[n++], &err),
                   RV_OK);
  kv_t_env_t *one = kv_t_env_new(NULL), *grouped = kv_t_env_new(NULL);
  kv_entry_t ents[8];
  kv_result_t res[8];
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(kv_t_apply_raw(one, cmds[i].data, cmds[i].len), RV_OK);
    ents[i] = (kv_entry_t){.index = i + 1, .data = cmds[i].data, .len = cmds[i].len};
  }
  assert_int_equal(kv_core_apply_batch(grouped->core, ents, n, res, &err), RV_OK);
  for (size_t i = 0; i < n; i++) assert_int_equal(res[i].code, RV_OK);
  uint64_t want = kv_t_digest(b, KV_DIGEST_NAMESPACE);
  assert_true(kv_t_digest(one, KV_DIGEST_NAMESPACE) == want);
  assert_true(kv_t_digest(grouped, KV_DIGEST_NAMESPACE) == want);
  assert_int_equal(kv_t_check(grouped), RV_OK);
  for (size_t i = 0; i < 8; i++) kv_buf_close(&cmds[i]);
  s_rows_free(&ra);
  s_rows_free(&rb);
  kv_t_env_destroy(&one);
  kv_t_env_destroy(&grouped);
  kv_t_env_destroy(&a);
  kv_t_env_destroy(&b);
}

/* The cluster's epoch (kv_recovery.h): BEGIN sets it to the source term's epoch + 1; FINISH and
 * LEAVE keep it; a restart and a snapshot carry it; it is in the replica digest, not in the
 * namespace digest; a BEGIN without a source term (entries of before epochs) means epoch 1; a
 * second recovery of an emptied cluster never lowers it. */
static void s_recover_with_term(kv_t_env_t *e, const rows_t *rows, uint64_t source_term) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  kv_recovery_begin_t bg = {.cluster = "old", .generation = 4, .synced_index = 5000,
                            .rows_total = rows->n, .bytes_total = rows->bytes,
                            .source_term = source_term};
  assert_int_equal(kv_recovery_encode_begin(&bg, e->now, &b, &err), RV_OK);
  assert_int_equal(s_apply_enc(e, &b), RV_OK);
  kv_buf_close(&b);
  s_load_all(e, rows, 9);
  assert_int_equal(s_finish(e, rows, rows->n), RV_OK);
  assert_int_equal(s_leave(e), RV_OK);
}

static void test_epoch(void **state) {
  kv_t_env_t *src = s_source(20);
  rows_t rows = s_rows_of(src);
  uint64_t e1t9 = 1ull << 32 | 9;
  kv_t_env_t *e = kv_t_env_new(NULL), *old = kv_t_env_new(NULL);
  e->now = old->now = 1800000000000;
  assert_int_equal(s_state(e).epoch, 0); /* never recovered */
  s_recover_with_term(e, &rows, e1t9);  /* from a copy of epoch 1: epoch 2 */
  s_recover_with_term(old, &rows, 12);  /* from a copy of epoch 0 (term 12): epoch 1 */
  assert_int_equal(s_state(e).phase, KV_RECOVERY_LEFT);
  assert_int_equal(s_state(e).epoch, 2);
  assert_int_equal(s_state(old).epoch, 1);
  /* the namespace digest is the source's in both; the replica digest sees the epoch */
  assert_int_equal(kv_t_digest(e, KV_DIGEST_NAMESPACE), kv_t_digest(src, KV_DIGEST_NAMESPACE));
  assert_int_equal(kv_t_digest(e, KV_DIGEST_NAMESPACE), kv_t_digest(old, KV_DIGEST_NAMESPACE));
  assert_int_not_equal(kv_t_digest(e, KV_DIGEST_ALL), kv_t_digest(old, KV_DIGEST_ALL));
  /* a restart and a snapshot carry it */
  kv_t_env_reopen(e);
  assert_int_equal(s_state(e).epoch, 2);
  kv_memstore_t *snap = kv_t_copy_no_chlog(e->store);
  kv_t_env_t *f = kv_t_env_new_on(kv_memstore_store(snap), NULL);
  assert_int_equal(s_state(f).epoch, 2);
  assert_int_equal(s_state(f).phase, KV_RECOVERY_LEFT);
  kv_t_env_destroy(&f);
  kv_memstore_destroy(&snap);
  /* emptied and recovered again from a copy of epoch 0: the epoch stays 2 */
  assert_int_equal(kv_t_rm(e, "/data", KV_F_RECURSIVE), RV_OK);
  assert_int_equal(kv_t_rm(e, "/home", KV_F_RECURSIVE), RV_OK);
  s_recover_with_term(e, &rows, 3);
  assert_int_equal(s_state(e).epoch, 2);
  /* a source term of epoch 0 is not encoded: the BEGIN's bytes are those of before epochs */
  kv_buf_t b0, b1;
  kv_buf_init(&b0);
  kv_buf_init(&b1);
  rv_err_t err;
  kv_recovery_begin_t bg = {.cluster = "c", .generation = 1, .synced_index = 2};
  assert_int_equal(kv_recovery_encode_begin(&bg, 5, &b0, &err), RV_OK);
  bg.source_term = 7;
  assert_int_equal(kv_recovery_encode_begin(&bg, 5, &b1, &err), RV_OK);
  assert_int_equal(b0.len, b1.len);
  assert_memory_equal(b0.data, b1.data, b0.len);
  bg.source_term = e1t9;
  kv_buf_reset(&b1);
  assert_int_equal(kv_recovery_encode_begin(&bg, 5, &b1, &err), RV_OK);
  assert_int_equal(b1.len, b0.len + 8);
  kv_buf_close(&b0);
  kv_buf_close(&b1);
  s_rows_free(&rows);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&old);
  kv_t_env_destroy(&src);
}

static void test_state_codec(void **state) {
  kv_recovery_t st;
  memset(&st, 0, sizeof st);
  st.phase = KV_RECOVERY_FINISH;
  st.source_generation = 9;
  st.rows = 5;
  st.cursor_len = 3;
  memcpy(st.cursor, "D\x01\x02", 3);
  snprintf(st.source_cluster, sizeof st.source_cluster, "prod");
  kv_buf_t b;
  kv_buf_init(&b);
  kv_recovery_state_encode(&st, &b);
  kv_recovery_t out;
  assert_int_equal(kv_recovery_state_decode(b.data, b.len, &out), RV_OK);
  assert_memory_equal(&st, &out, sizeof st);
  for (size_t cut = 0; cut < b.len; cut++)
    assert_int_equal(kv_recovery_state_decode(b.data, cut, &out), RV_ECORRUPT);
  b.data[1] = 7; /* unknown phase */
  assert_int_equal(kv_recovery_state_decode(b.data, b.len, &out), RV_ECORRUPT);
  /* epoch 1 keeps the bytes of version 1 (before epochs), which read as epoch 1; other epochs
   * are version 2 */
  st.epoch = 1;
  kv_buf_reset(&b);
  kv_recovery_state_encode(&st, &b);
  assert_int_equal(b.data[0], 1);
  assert_int_equal(kv_recovery_state_decode(b.data, b.len, &out), RV_OK);
  assert_int_equal(out.epoch, 1);
  assert_memory_equal(&st, &out, sizeof st);
  st.epoch = 3;
  kv_buf_reset(&b);
  kv_recovery_state_encode(&st, &b);
  assert_int_equal(b.data[0], 2);
  assert_int_equal(kv_recovery_state_decode(b.data, b.len, &out), RV_OK);
  assert_int_equal(out.epoch, 3);
  for (size_t cut = 0; cut < b.len; cut++)
    assert_int_equal(kv_recovery_state_decode(b.data, cut, &out), RV_ECORRUPT);
  b.data[0] = 3; /* unknown version */
  assert_int_equal(kv_recovery_state_decode(b.data, b.len, &out), RV_ECORRUPT);
  kv_buf_close(&b);
}


/* Applies the ROWS of rows[from, from + n) with kv_core_apply_part, parts of `part` rows;
 * stops after `stop_after` parts (0: never) with the entry incomplete. Returns the number of
 * parts written, the result in e->res once complete. */
static size_t s_rows_in_parts(kv_t_env_t *e, const rows_t *src, size_t from, size_t n,
                              size_t part, size_t stop_after) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  const uint8_t *after = from ? src->rows[from - 1].key.p : NULL;
  size_t alen = from ? src->rows[from - 1].key.len : 0;
  assert_int_equal(kv_recovery_encode_rows(after, alen, src->rows + from, n, e->now, &b, &err),
                   RV_OK);
  kv_entry_t ent = {.index = e->index + 1, .data = b.data, .len = b.len};
  size_t parts = 0;
  bool complete = false;
  while (!complete) {
    assert_int_equal(kv_core_apply_part(e->core, &ent, part, &e->res, &complete, &err), RV_OK);
    parts++;
    if (!complete) {
      /* a part moves neither the applied index nor the cursor */
      assert_int_equal(kv_core_applied(e->core), e->index);
      assert_true(s_state(e).partial);
      if (stop_after && parts == stop_after) break;
    }
  }
  if (complete) e->index++;
  kv_buf_close(&b);
  return parts;
}

static void test_rows_applied_in_parts(void **state) {
  kv_t_env_t *src = s_source(60);
  rows_t rows = s_rows_of(src);
  /* whole, for comparison */
  kv_t_env_t *w = kv_t_env_new(NULL);
  assert_int_equal(s_begin(w, "c", 1, &rows), RV_OK);
  assert_int_equal(s_rows_at(w, &rows, 0, rows.n), RV_OK);

  /* in parts of 7 rows: the same store at the end, the cursor and index moved once */
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_begin(e, "c", 1, &rows), RV_OK);
  size_t parts = s_rows_in_parts(e, &rows, 0, rows.n, 7, 0);
  assert_int_equal(parts, (rows.n + 6) / 7);
  assert_int_equal(e->res.code, RV_OK);
  assert_int_equal(e->res.n, rows.n);
  kv_recovery_t st = s_state(e);
  assert_false(st.partial);
  assert_int_equal(st.rows, rows.n);
  assert_int_equal(kv_core_applied(e->core), kv_core_applied(w->core));
  assert_int_equal(kv_t_digest(e, KV_DIGEST_ALL), kv_t_digest(w, KV_DIGEST_ALL));
  assert_int_equal(s_finish(e, &rows, rows.n), RV_OK);
  assert_int_equal(kv_t_digest(e, KV_DIGEST_NAMESPACE), kv_t_digest(src, KV_DIGEST_NAMESPACE));

  /* a crash after two parts: the store holds rows beyond the cursor and `partial`; the entry
   * applies again from its first row after the restart (whole, or in parts again) */
  for (int whole = 0; whole < 2; whole++) {
    kv_t_env_t *f = kv_t_env_new(NULL);
    assert_int_equal(s_begin(f, "c", 1, &rows), RV_OK);
    assert_int_equal(s_rows_at(f, &rows, 0, 5), RV_OK);
    assert_int_equal(s_rows_in_parts(f, &rows, 5, rows.n - 5, 6, 2), 2);
    kv_t_env_reopen(f);
    st = s_state(f);
    assert_true(st.partial);
    assert_int_equal(st.rows, 5);
    if (whole)
      assert_int_equal(s_rows_at(f, &rows, 5, rows.n - 5), RV_OK);
    else
      s_rows_in_parts(f, &rows, 5, rows.n - 5, 9, 0);
    assert_false(s_state(f).partial);
    assert_int_equal(s_finish(f, &rows, rows.n), RV_OK);
    assert_int_equal(kv_t_digest(f, KV_DIGEST_NAMESPACE), kv_t_digest(src, KV_DIGEST_NAMESPACE));
    assert_int_equal(kv_t_check(f), RV_OK);
    kv_t_env_destroy(&f);
  }

  /* a crash after a part, then the source replaced: the restart counts the part's rows as
   * leftovers, and the new source's load removes them */
  kv_t_env_t *g = kv_t_env_new(NULL);
  assert_int_equal(s_begin(g, "c", 1, &rows), RV_OK);
  assert_int_equal(s_rows_in_parts(g, &rows, 0, rows.n, 10, 1), 1);
  kv_t_env_reopen(g);
  kv_t_env_t *src2 = s_source(20);
  rows_t rows2 = s_rows_of(src2);
  assert_int_equal(s_begin(g, "c", 2, &rows2), RV_OK);
  assert_true(s_state(g).leftovers);
  s_load_all(g, &rows2, 4);
  assert_int_equal(s_finish(g, &rows2, rows2.n), RV_OK);
  assert_int_equal(kv_t_digest(g, KV_DIGEST_NAMESPACE), kv_t_digest(src2, KV_DIGEST_NAMESPACE));
  kv_t_env_destroy(&g);
  s_rows_free(&rows2);
  kv_t_env_destroy(&src2);

  /* the state codec keeps the flag */
  kv_recovery_t in = {.phase = KV_RECOVERY_RUNNING, .partial = true, .leftovers = true}, out;
  kv_buf_t b;
  kv_buf_init(&b);
  kv_recovery_state_encode(&in, &b);
  assert_int_equal(kv_recovery_state_decode(b.data, b.len, &out), RV_OK);
  assert_true(out.partial);
  assert_true(out.leftovers);
  kv_buf_close(&b);
  s_rows_free(&rows);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&w);
  kv_t_env_destroy(&src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_recovery_read_only_then_leave),
      cmocka_unit_test(test_rows_exactly_once),
      cmocka_unit_test(test_rows_applied_in_parts),
      cmocka_unit_test(test_begin_refused_on_data),
      cmocka_unit_test(test_generation_replaced_restarts_cleanly),
      cmocka_unit_test(test_bad_rows_refused),
      cmocka_unit_test(test_grouped_apply_with_restart),
      cmocka_unit_test(test_epoch),
      cmocka_unit_test(test_state_codec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
