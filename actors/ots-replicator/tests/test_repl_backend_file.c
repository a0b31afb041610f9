/* Unit tests of the file backend (repl_backend_file.c) through repl_backend.h:
 *  - a model test: seeded random incremental and base writes, aborted writes, crashes simulated
 *    by leaving temporary and unreferenced files behind, compactions; after every step a paged
 *    scan equals the model (RV_SEED=n replays a run; the seed is printed on failure);
 *  - the fencing rule with two handles: a deposed term's commit and claim fail with RV_EFENCED,
 *    a write whose starting meta moved fails with RV_ESTALE, and of racing commits from the
 *    same meta (two threads) exactly one wins; across epochs (repl_epoch_scenario.h);
 *  - damaged files: a flipped bit or a truncation in a data file, a damaged manifest: RV_ECORRUPT
 *    naming the file;
 *  - ENOSPC (through the fault hook) reported as RV_ENOSPACE naming the path, nothing left
 *    referenced, the next write fine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repl_backend.h"
#include "repl_epoch_scenario.h"
#include "repl_file_seg.h"

static char s_root[256];
static unsigned long long s_seed;

static void s_rm_rf(const char *path) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fail_msg("%s failed", cmd);
}

static int s_setup(void **state) {
  snprintf(s_root, sizeof s_root, "/tmp/test_repl_backend_file.XXXXXX");
  if (!mkdtemp(s_root)) return -1;
  char remote[300];
  snprintf(remote, sizeof remote, "%s/remote", s_root);
  return mkdir(remote, 0755);
}

static int s_teardown(void **state) {
  repl_file_set_fault(NULL, NULL);
  s_rm_rf(s_root);
  return 0;
}

static repl_backend_t *s_open(void) {
  char ep[300];
  snprintf(ep, sizeof ep, "file://%s/remote", s_root);
  repl_backend_cfg_t cfg = {.endpoint = ep, .cluster_id = "c1"};
  rv_err_t err;
  repl_backend_t *b = repl_backend_open(&cfg, &err);
  if (!b) fail_msg("open: %s", err.msg);
  return b;
}

/* ---- the model ------------------------------------------------------------------------------ */

#define NKEYS 300
typedef struct {
  bool present[NKEYS];
  char val[NKEYS][40];
} s_model_t;

static void s_key(int i, char *out) { sprintf(out, "k%05d", i * 7919 % 100000); }

static uint64_t s_rnd(void) {
  s_seed = s_seed * 6364136223846793005ull + 1442695040888963407ull;
  return s_seed >> 33;
}

typedef struct {
  char keys[NKEYS * 2][16];
  char vals[NKEYS * 2][40];
  int n;
} s_scan_t;

static int s_collect(void *arg, const repl_row_t *row) {
  s_scan_t *s = arg;
  assert_true(s->n < NKEYS * 2);
  assert_true(row->klen < 16 && row->vlen < 40);
  memcpy(s->keys[s->n], row->key, row->klen);
  s->keys[s->n][row->klen] = '\0';
  memcpy(s->vals[s->n], row->val, row->vlen);
  s->vals[s->n][row->vlen] = '\0';
  s->n++;
  return 0;
}

static int s_cmpstr(const void *a, const void *b) { return strcmp(a, b); }

/* Scans the whole copy at its meta in pages of page rows and compares with the model. */
static void s_check(repl_backend_t *b, const s_model_t *m, size_t page) {
  repl_meta_t meta;
  rv_err_t err;
  assert_int_equal(repl_backend_read_meta(b, &meta, &err), 0);
  s_scan_t got = {.n = 0};
  uint8_t last[REPL_KEY_MAX];
  size_t llen = 0;
  bool done = false;
  while (!done) {
    uint8_t after[REPL_KEY_MAX];
    size_t alen = llen;
    memcpy(after, last, llen);
    int rc = repl_backend_scan(b, &meta, after, alen, page, s_collect, &got, last, &llen, &done,
                               &err);
    if (rc) fail_msg("seed %llu: scan: %s", s_seed, err.msg);
  }
  char want[NKEYS][16];
  int n = 0;
  for (int i = 0; i < NKEYS; i++)
    if (m->present[i]) s_key(i, want[n++]);
  qsort(want, (size_t)n, sizeof want[0], s_cmpstr);
  if (got.n != n) fail_msg("scan gave %d rows, the model has %d", got.n, n);
  for (int i = 0; i < n; i++) {
    assert_string_equal(got.keys[i], want[i]);
    int k = -1;
    for (int j = 0; j < NKEYS && k < 0; j++) {
      char kk[16];
      s_key(j, kk);
      if (strcmp(kk, want[i]) == 0) k = j;
    }
    assert_string_equal(got.vals[i], m->val[k]);
  }
}

/* Leaves what a writer killed mid-write leaves: a partial temporary data file, a temporary
 * manifest, and a whole data file no manifest names. */
static void s_crash_debris(int round) {
  char path[512];
  snprintf(path, sizeof path, "%s/remote/c1/.tmp-t1-%016x", s_root, round);
  FILE *f = fopen(path, "w");
  fputs("RVSEG001partial", f);
  fclose(f);
  snprintf(path, sizeof path, "%s/remote/c1/.tmp-manifest-%016x", s_root, round);
  f = fopen(path, "w");
  fputs("rv-replica-manifest 1\nseq", f);
  fclose(f);
  /* an orphan run: a committed-looking file with other content */
  repl_seg_writer_t *w;
  rv_err_t err;
  char dir[300], tmp[64], name[64];
  snprintf(dir, sizeof dir, "%s/remote/c1", s_root);
  snprintf(tmp, sizeof tmp, ".tmp-t1-%016xa", round);
  snprintf(name, sizeof name, "g1-t1-%016x.rvs", round);
  assert_int_equal(repl_seg_writer_open(dir, tmp, &w, &err), 0);
  assert_int_equal(repl_seg_writer_add(w, (const uint8_t *)"k00000", 6, (const uint8_t *)"junk", 4,
                                       false, &err), 0);
  uint64_t size, recs;
  assert_int_equal(repl_seg_writer_finish(&w, name, &size, &recs, &err), 0);
}

static void test_model(void **state) {
  const char *env = getenv("RV_SEED");
  unsigned long long seed0 = env ? strtoull(env, NULL, 10) : 20261203ull;
  s_seed = seed0;
  print_message("seed %llu (RV_SEED to replay)\n", seed0);
  repl_backend_t *b = s_open();
  s_model_t model;
  memset(&model, 0, sizeof model);
  rv_err_t err;
  repl_meta_t meta;
  assert_int_equal(repl_backend_read_meta(b, &meta, &err), RV_ENOTFOUND);
  assert_int_equal(repl_backend_claim(b, 1, &meta, &err), 0);
  assert_int_equal(meta.term, 1);
  assert_int_equal(meta.synced_index, 0);
  uint64_t index = 0;
  for (int round = 0; round < 120; round++) {
    int what = (int)(s_rnd() % 10);
    if (what < 6 || what == 9) { /* incremental write, committed (9: abandoned) */
      repl_write_t *w = repl_write_begin(b, 1, false, meta.generation, meta.synced_index, &err);
      assert_non_null(w);
      s_model_t next = model;
      int n = 1 + (int)(s_rnd() % 40);
      for (int i = 0; i < n; i++) {
        int k = (int)(s_rnd() % NKEYS);
        char key[16];
        s_key(k, key);
        repl_row_t row = {(const uint8_t *)key, strlen(key), NULL, 0, s_rnd() % 4 == 0};
        if (!row.deleted) {
          snprintf(next.val[k], sizeof next.val[k], "v%d.%d.%d", round, i, (int)(s_rnd() % 1000));
          row.val = (const uint8_t *)next.val[k];
          row.vlen = strlen(next.val[k]);
        }
        next.present[k] = !row.deleted;
        assert_int_equal(repl_write_put(w, &row, 1, &err), 0);
      }
      if (what == 9) {
        repl_write_abort(&w);
        s_crash_debris(round);
      } else {
        index += 1 + s_rnd() % 5;
        if (repl_write_commit(&w, index, &meta, &err)) fail_msg("seed %llu: %s", seed0, err.msg);
        assert_int_equal(meta.synced_index, index);
        model = next;
      }
    } else if (what < 8) { /* base copy of the model, rows in random order, in two puts */
      repl_write_t *w = repl_write_begin(b, 1, true, meta.generation, 0, &err);
      assert_non_null(w);
      int order[NKEYS];
      for (int i = 0; i < NKEYS; i++) order[i] = i;
      for (int i = NKEYS - 1; i > 0; i--) {
        int j = (int)(s_rnd() % (unsigned)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int i = 0; i < NKEYS; i++) {
        int k = order[i];
        if (!model.present[k]) continue;
        char key[16];
        s_key(k, key);
        repl_row_t row = {(const uint8_t *)key, strlen(key), (const uint8_t *)model.val[k],
                          strlen(model.val[k]), false};
        assert_int_equal(repl_write_put(w, &row, 1, &err), 0);
      }
      uint64_t gen = meta.generation;
      index += 1;
      assert_int_equal(repl_write_commit(&w, index, &meta, &err), 0);
      assert_int_equal(meta.generation, gen + 1);
    } else { /* housekeeping */
      bool more;
      if (repl_backend_tidy(b, 1, &more, &err)) fail_msg("tidy: %s", err.msg);
      assert_int_equal(repl_backend_read_meta(b, &meta, &err), 0);
    }
    s_check(b, &model, 1 + s_rnd() % 50);
  }
  /* tidy leaves only the live files: debris of term 1 goes, the copy is unchanged */
  bool more;
  assert_int_equal(repl_backend_tidy(b, 1, &more, &err), 0);
  s_check(b, &model, 1000);
  char dir[300];
  snprintf(dir, sizeof dir, "%s/remote/c1", s_root);
  DIR *d = opendir(dir);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, ".tmp-t", 6) == 0) fail_msg("left behind: %s", de->d_name);
    /* the orphan runs of s_crash_debris (their names start with zeros; real ones are random) */
    if (strstr(de->d_name, "-t1-0000000000") != NULL) fail_msg("orphan left: %s", de->d_name);
  }
  closedir(d);
  repl_backend_close(&b);
  assert_null(b);
}

/* ---- fencing ------------------------------------------------------------------------------- */

static void s_put1(repl_write_t *w, const char *k, const char *v) {
  repl_row_t row = {(const uint8_t *)k, strlen(k), (const uint8_t *)v, strlen(v), false};
  rv_err_t err;
  assert_int_equal(repl_write_put(w, &row, 1, &err), 0);
}

static void test_fencing_two_handles(void **state) {
  repl_backend_t *a = s_open(), *b = s_open();
  rv_err_t err;
  repl_meta_t ma, mb;
  assert_int_equal(repl_backend_claim(a, 3, &ma, &err), 0);
  repl_write_t *wa = repl_write_begin(a, 3, false, ma.generation, ma.synced_index, &err);
  s_put1(wa, "x", "1");
  assert_int_equal(repl_write_commit(&wa, 10, &ma, &err), 0);
  /* a's next write is under way when b becomes leader in term 4 and claims */
  wa = repl_write_begin(a, 3, false, ma.generation, ma.synced_index, &err);
  s_put1(wa, "x", "late");
  assert_int_equal(repl_backend_claim(b, 4, &mb, &err), 0);
  assert_int_equal(mb.term, 4);
  assert_int_equal(mb.synced_index, 10);
  assert_int_equal(repl_write_commit(&wa, 11, &ma, &err), RV_EFENCED);
  assert_non_null(strstr(err.msg, "term 4"));
  assert_null(wa);
  /* the deposed term can claim nothing, tidy nothing */
  assert_int_equal(repl_backend_claim(a, 3, &ma, &err), RV_EFENCED);
  bool more;
  assert_int_equal(repl_backend_tidy(a, 3, &more, &err), RV_EFENCED);
  /* a base write of the deposed term fails the same way */
  wa = repl_write_begin(a, 3, true, 1, 0, &err);
  s_put1(wa, "y", "old");
  assert_int_equal(repl_write_commit(&wa, 50, &ma, &err), RV_EFENCED);
  /* two writers of term 4 from the same meta: the second one finds it moved */
  repl_write_t *w1 = repl_write_begin(b, 4, false, mb.generation, mb.synced_index, &err);
  repl_write_t *w2 = repl_write_begin(a, 4, false, mb.generation, mb.synced_index, &err);
  s_put1(w1, "x", "2");
  s_put1(w2, "x", "3");
  assert_int_equal(repl_write_commit(&w1, 12, &mb, &err), 0);
  assert_int_equal(repl_write_commit(&w2, 12, &ma, &err), RV_ESTALE);
  assert_non_null(strstr(err.msg, "moved"));
  /* only one write per handle */
  w1 = repl_write_begin(b, 4, false, mb.generation, mb.synced_index, &err);
  assert_null(repl_write_begin(b, 4, false, mb.generation, mb.synced_index, &err));
  assert_int_equal(err.code, RV_EBUSY);
  repl_write_abort(&w1);
  /* what the copy holds: x = 2 at index 12, in term 4 */
  repl_meta_t m;
  assert_int_equal(repl_backend_read_meta(a, &m, &err), 0);
  assert_int_equal(m.synced_index, 12);
  assert_int_equal(m.term, 4);
  s_model_t model;
  memset(&model, 0, sizeof model);
  repl_backend_close(&a);
  repl_backend_close(&b);
}

/* Epochs (repl_epoch_scenario.h, the same steps as rv-repl-ots-drive epoch): epoch 1 term 2
 * fenced by epoch 1 term 3; epoch 2 term 1 passes over epoch 1 term 9 (its base commit goes
 * back to its own index); epoch 1 term 9's late upload is refused after it. */
static void test_epochs(void **state) {
  repl_backend_t *a = s_open(), *b = s_open(), *c = s_open();
  char why[1200];
  if (repl_epoch_scenario(a, b, c, why, sizeof why)) fail_msg("%s", why);
  repl_backend_close(&a);
  repl_backend_close(&b);
  repl_backend_close(&c);
}

typedef struct {
  repl_backend_t *b;
  repl_meta_t from;
  int rc;
  pthread_barrier_t *bar;
  const char *val;
} s_racer_t;

static void *s_race(void *arg) {
  s_racer_t *r = arg;
  rv_err_t err;
  repl_write_t *w = repl_write_begin(r->b, r->from.term, false, r->from.generation,
                                     r->from.synced_index, &err);
  s_put1(w, "race", r->val);
  pthread_barrier_wait(r->bar);
  repl_meta_t m;
  r->rc = repl_write_commit(&w, r->from.synced_index + 1, &m, &err);
  return NULL;
}

static void test_racing_commits_one_wins(void **state) {
  repl_backend_t *a = s_open(), *b = s_open();
  rv_err_t err;
  repl_meta_t meta;
  assert_int_equal(repl_backend_claim(a, 7, &meta, &err), 0);
  pthread_barrier_t bar;
  for (int round = 0; round < 30; round++) {
    pthread_barrier_init(&bar, NULL, 2);
    assert_int_equal(repl_backend_read_meta(a, &meta, &err), 0);
    s_racer_t ra = {a, meta, -1, &bar, "a"}, rb = {b, meta, -1, &bar, "b"};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, s_race, &ra);
    pthread_create(&tb, NULL, s_race, &rb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    if (!((ra.rc == 0) ^ (rb.rc == 0))) fail_msg("round %d: rc %d and %d", round, ra.rc, rb.rc);
    assert_true(ra.rc == 0 || ra.rc == RV_ESTALE);
    assert_true(rb.rc == 0 || rb.rc == RV_ESTALE);
  }
  assert_int_equal(repl_backend_read_meta(a, &meta, &err), 0);
  assert_int_equal(meta.synced_index, 30);
  repl_backend_close(&a);
  repl_backend_close(&b);
}

/* ---- damage and faults --------------------------------------------------------------------- */

static int s_noop(void *arg, const repl_row_t *row) { return 0; }

static int s_scan_all(repl_backend_t *b, rv_err_t *err) {
  repl_meta_t meta;
  int rc = repl_backend_read_meta(b, &meta, err);
  uint8_t last[REPL_KEY_MAX];
  size_t llen;
  bool done;
  if (!rc) rc = repl_backend_scan(b, &meta, NULL, 0, 100000, s_noop, NULL, last, &llen, &done, err);
  return rc;
}

/* The one data file of the copy (after a base write), its path in out. */
static void s_data_file(char *out, size_t len) {
  char dir[300];
  snprintf(dir, sizeof dir, "%s/remote/c1", s_root);
  DIR *d = opendir(dir);
  struct dirent *de;
  out[0] = '\0';
  while ((de = readdir(d)))
    if (strstr(de->d_name, ".rvs")) snprintf(out, len, "%s/%s", dir, de->d_name);
  closedir(d);
  assert_true(out[0]);
}

static void test_corruption_named(void **state) {
  repl_backend_t *b = s_open();
  rv_err_t err;
  repl_meta_t meta;
  assert_int_equal(repl_backend_claim(b, 1, &meta, &err), 0);
  repl_write_t *w = repl_write_begin(b, 1, true, 0, 0, &err);
  char k[16];
  for (int i = 0; i < 500; i++) {
    snprintf(k, sizeof k, "key%04d", i);
    s_put1(w, k, "some value");
  }
  assert_int_equal(repl_write_commit(&w, 5, &meta, &err), 0);
  assert_int_equal(s_scan_all(b, &err), 0);
  char path[600];
  s_data_file(path, sizeof path);
  /* a flipped bit in a record's value */
  int fd = open(path, O_RDWR);
  uint8_t byte;
  assert_int_equal(pread(fd, &byte, 1, 3000), 1);
  byte ^= 1;
  assert_int_equal(pwrite(fd, &byte, 1, 3000), 1);
  assert_int_equal(s_scan_all(b, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, path));
  assert_non_null(strstr(err.msg, "checksum"));
  byte ^= 1;
  assert_int_equal(pwrite(fd, &byte, 1, 3000), 1);
  assert_int_equal(s_scan_all(b, &err), 0);
  /* truncated */
  struct stat st;
  fstat(fd, &st);
  assert_int_equal(ftruncate(fd, st.st_size - 10), 0);
  close(fd);
  assert_int_equal(s_scan_all(b, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, path));
  assert_non_null(strstr(err.msg, "truncated"));
  /* a damaged manifest */
  char mpath[600];
  snprintf(mpath, sizeof mpath, "%s/remote/c1/manifest-%020d", s_root, 2);
  FILE *f = fopen(mpath, "r+");
  assert_non_null(f);
  fseek(f, 30, SEEK_SET);
  fputc('#', f);
  fclose(f);
  assert_int_equal(repl_backend_read_meta(b, &meta, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, mpath));
  repl_backend_close(&b);
}

static int s_enospc_on_write(void *arg, const char *op, const char *path) {
  return strcmp(op, "write") == 0 ? ENOSPC : 0;
}

static void test_enospc(void **state) {
  repl_backend_t *b = s_open();
  rv_err_t err;
  repl_meta_t meta;
  assert_int_equal(repl_backend_claim(b, 1, &meta, &err), 0);
  repl_write_t *w = repl_write_begin(b, 1, false, meta.generation, meta.synced_index, &err);
  s_put1(w, "a", "1");
  repl_file_set_fault(s_enospc_on_write, NULL);
  assert_int_equal(repl_write_commit(&w, 1, &meta, &err), RV_ENOSPACE);
  assert_non_null(strstr(err.msg, "/remote/c1/"));
  assert_non_null(strstr(err.msg, "No space left on device"));
  repl_file_set_fault(NULL, NULL);
  assert_int_equal(repl_backend_read_meta(b, &meta, &err), 0);
  assert_int_equal(meta.synced_index, 0);
  w = repl_write_begin(b, 1, false, meta.generation, meta.synced_index, &err);
  s_put1(w, "a", "2");
  assert_int_equal(repl_write_commit(&w, 1, &meta, &err), 0);
  /* a claim that cannot write its manifest says so too */
  repl_file_set_fault(s_enospc_on_write, NULL);
  assert_int_equal(repl_backend_claim(b, 2, &meta, &err), RV_ENOSPACE);
  repl_file_set_fault(NULL, NULL);
  repl_backend_close(&b);
}

/* A cancel (the replicator stopping) makes a write give up before its next file or commit with
 * RV_ECLOSED; the copy is as before, and a write after the cancel is cleared commits. */
static void test_cancel(void **state) {
  char ep[300];
  snprintf(ep, sizeof ep, "file://%s/remote", s_root);
  atomic_bool cancel;
  atomic_init(&cancel, false);
  repl_backend_cfg_t cfg = {.endpoint = ep, .cluster_id = "c1", .cancel = &cancel};
  rv_err_t err;
  repl_backend_t *b = repl_backend_open(&cfg, &err);
  assert_non_null(b);
  repl_meta_t meta;
  assert_int_equal(repl_backend_claim(b, 1, &meta, &err), 0);
  repl_write_t *w = repl_write_begin(b, 1, false, meta.generation, meta.synced_index, &err);
  s_put1(w, "a", "1");
  atomic_store(&cancel, true);
  assert_int_equal(repl_write_commit(&w, 5, &meta, &err), RV_ECLOSED);
  assert_non_null(strstr(err.msg, "cancelled"));
  atomic_store(&cancel, false);
  assert_int_equal(repl_backend_read_meta(b, &meta, &err), 0);
  assert_int_equal(meta.synced_index, 0);
  w = repl_write_begin(b, 1, false, meta.generation, meta.synced_index, &err);
  s_put1(w, "a", "2");
  assert_int_equal(repl_write_commit(&w, 5, &meta, &err), 0);
  assert_int_equal(meta.synced_index, 5);
  repl_backend_close(&b);
}

/* Many small incremental commits over a big base: tidy merges the segments alone into one
 * segment (the base file is kept as it is), deletions of base rows still hide them, and the
 * copy equals the model. */
static void test_compact_segments_only(void **state) {
  repl_backend_t *b = s_open();
  rv_err_t err;
  repl_meta_t meta;
  s_model_t m = {0};
  assert_int_equal(repl_backend_claim(b, 1, &meta, &err), 0);
  repl_write_t *w = repl_write_begin(b, 1, true, meta.generation, meta.synced_index, &err);
  for (int i = 0; i < NKEYS; i++) {
    char k[16];
    s_key(i, k);
    snprintf(m.val[i], sizeof m.val[i], "base-%d-%s", i, "padding-padding-pad");
    m.present[i] = true;
    s_put1(w, k, m.val[i]);
  }
  assert_int_equal(repl_write_commit(&w, 10, &meta, &err), 0);
  for (int c = 0; c < 20; c++) { /* 20 segments of 2 rows: a put and a deletion */
    w = repl_write_begin(b, 1, false, meta.generation, meta.synced_index, &err);
    int p = c * 3 % NKEYS, d = (c * 5 + 1) % NKEYS;
    char kp[16], kd[16];
    s_key(p, kp);
    s_key(d, kd);
    snprintf(m.val[p], sizeof m.val[p], "seg-%d", c);
    m.present[p] = true;
    s_put1(w, kp, m.val[p]);
    repl_row_t del = {(const uint8_t *)kd, strlen(kd), NULL, 0, true};
    assert_int_equal(repl_write_put(w, &del, 1, &err), 0);
    m.present[d] = false;
    assert_int_equal(repl_write_commit(&w, meta.synced_index + 1, &meta, &err), 0);
  }
  char path[400];
  snprintf(path, sizeof path, "%s/remote/c1", s_root);
  bool more = false;
  assert_int_equal(repl_backend_tidy(b, 1, &more, &err), 0);
  s_check(b, &m, 7);
  /* the latest manifest names one base file and one segment */
  DIR *d = opendir(path);
  assert_non_null(d);
  struct dirent *de;
  char latest[300] = "";
  while ((de = readdir(d)))
    if (strncmp(de->d_name, "manifest-", 9) == 0 && strcmp(de->d_name, latest) > 0)
      snprintf(latest, sizeof latest, "%s", de->d_name);
  closedir(d);
  char mpath[800], line[512];
  snprintf(mpath, sizeof mpath, "%s/%s", path, latest);
  FILE *f = fopen(mpath, "r");
  assert_non_null(f);
  int rvs = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, ".rvs")) rvs++;
  fclose(f);
  assert_int_equal(rvs, 2);
  repl_backend_close(&b);
}

static void test_bad_endpoints(void **state) {
  rv_err_t err;
  repl_backend_cfg_t cfg = {.endpoint = "file://relative/dir", .cluster_id = "c1"};
  assert_null(repl_backend_open(&cfg, &err));
  assert_int_equal(err.code, RV_EINVAL);
  assert_non_null(strstr(err.msg, "file:///absolute/dir"));
  cfg.endpoint = "ftp://x";
  assert_null(repl_backend_open(&cfg, &err));
  assert_non_null(strstr(err.msg, "ftp://x"));
  /* the shared directory itself is never created: a missing mount is retried, not replaced */
  char ep[300];
  snprintf(ep, sizeof ep, "file://%s/not-mounted", s_root);
  cfg.endpoint = ep;
  assert_null(repl_backend_open(&cfg, &err));
  assert_int_equal(err.code, RV_EUNAVAIL);
  assert_non_null(strstr(err.msg, "is the shared directory mounted?"));
  cfg.endpoint = "file:///tmp/x";
  cfg.cluster_id = "../up";
  assert_null(repl_backend_open(&cfg, &err));
  assert_non_null(strstr(err.msg, "cannot name a directory"));
}

static void test_incremental_bound(void **state) {
  repl_backend_t *b = s_open();
  rv_err_t err;
  repl_meta_t meta;
  assert_int_equal(repl_backend_claim(b, 1, &meta, &err), 0);
  repl_write_t *w = repl_write_begin(b, 1, false, 0, 0, &err);
  static uint8_t big[1 << 20];
  repl_row_t row = {(const uint8_t *)"k", 1, big, sizeof big, false};
  int rc = 0;
  for (int i = 0; i < 100 && !rc; i++) rc = repl_write_put(w, &row, 1, &err);
  assert_int_equal(rc, RV_ETOOBIG);
  repl_write_abort(&w);
  repl_backend_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_model, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_fencing_two_handles, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_epochs, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_racing_commits_one_wins, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_corruption_named, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_enospc, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_bad_endpoints, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_cancel, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_compact_segments_only, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_incremental_bound, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
