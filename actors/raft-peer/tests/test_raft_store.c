/* Unit tests of raft-peer's durable log (real segment files in a temporary directory): round
 * trips of every record kind, truncation, roll-over across small segments, recycling after a
 * compaction, a snapshot install dropping the log, identity, a RocksDB log of an older build,
 * the lock, deferred (unsynced) saves, a crash without close, and injected I/O faults (a failed
 * fdatasync, a full disk). Damage and torn tails: test_raft_store_damage.c; the randomized model:
 * test_raft_store_model.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "raft_store_int.h"
#include "raft_store_testlib.h"

static char s_dir[256];

static int s_setup(void **state) {
  rst_dir_new(s_dir, sizeof s_dir);
  return 0;
}

static int s_teardown(void **state) {
  rst_dir_remove(s_dir);
  return 0;
}

static raft_entry_t s_entry(raft_index_t i, raft_term_t t, const char *data) {
  raft_entry_t e = {.term = t, .index = i, .type = RAFT_ENTRY_NORMAL, .data = (uint8_t *)data,
                    .len = data ? strlen(data) : 0};
  return e;
}

static void s_save_entries(raft_store_t *s, raft_entry_t *ents, size_t n, raft_term_t term,
                           raft_index_t commit) {
  raft_update_t u = {0};
  u.entries = ents;
  u.n_entries = n;
  u.has_hard_state = true;
  u.hard = (raft_hard_state_t){.term = term, .vote = 2, .commit = commit};
  u.must_sync = true;
  rv_err_t err;
  assert_int_equal(raft_store_save(s, &u, &err), RV_OK);
}

static raft_store_t *s_open(void) {
  raft_store_t *s;
  rv_err_t err;
  int rc = raft_store_open(s_dir, "c1", 1, NULL, &s, &err);
  if (rc) fprintf(stderr, "%s\n", err.msg);
  assert_int_equal(rc, RV_OK);
  return s;
}

static void s_load(raft_store_t *s, raft_storage_state_t *st) {
  rv_err_t err;
  assert_int_equal(raft_store_load(s, st, &err), RV_OK);
}

/* ---- round trips -------------------------------------------------------------------------- */

static void test_round_trip(void **state) {
  raft_store_t *s = s_open();
  raft_entry_t ents[3] = {s_entry(1, 1, NULL), s_entry(2, 1, "mkdir /a"), s_entry(3, 2, "put /a/b")};
  ents[0].type = RAFT_ENTRY_EMPTY;
  ents[1].type = RAFT_ENTRY_CONF;
  s_save_entries(s, ents, 3, 2, 2);
  assert_int_equal(raft_store_last_index(s), 3);
  raft_store_close(&s);
  assert_null(s);
  raft_store_close(&s); /* safe twice */

  s = s_open();
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.hard.term, 2);
  assert_int_equal(st.hard.vote, 2);
  assert_int_equal(st.hard.commit, 2);
  assert_int_equal(st.n_entries, 3);
  assert_int_equal(st.entries[0].type, RAFT_ENTRY_EMPTY);
  assert_int_equal(st.entries[0].len, 0);
  assert_int_equal(st.entries[1].type, RAFT_ENTRY_CONF);
  assert_memory_equal(st.entries[1].data, "mkdir /a", 8);
  assert_int_equal(st.entries[2].term, 2);
  assert_int_equal(st.entries[2].len, 8);
  assert_memory_equal(st.entries[2].data, "put /a/b", 8);
  assert_int_equal(raft_store_last_index(s), 3);
  raft_store_state_free(&st);
  /* load hands the state over once */
  rv_err_t err;
  assert_int_equal(raft_store_load(s, &st, &err), RV_EINVAL);
  raft_store_close(&s);
}

/* One update holding every operation: a snapshot install, entries after it, a hard state; then
 * a compaction with a configuration of voters and learners. */
static void test_every_operation(void **state) {
  raft_store_t *s = s_open();
  assert_int_equal(rst_save(s, 1, 5, 1, 10, 0, true), RV_OK);
  raft_entry_t after[2] = {s_entry(51, 4, "x"), s_entry(52, 4, "yz")};
  raft_update_t u = {0};
  u.has_snapshot = true;
  u.snapshot = (raft_snapshot_meta_t){.index = 50, .term = 3};
  u.snapshot.conf.n_voters = 2;
  u.snapshot.conf.voters[0] = 1, u.snapshot.conf.voters[1] = 7;
  u.entries = after;
  u.n_entries = 2;
  u.has_hard_state = true;
  u.hard = (raft_hard_state_t){.term = 4, .vote = 7, .commit = 51};
  u.must_sync = true;
  rv_err_t err;
  assert_int_equal(raft_store_save(s, &u, &err), RV_OK);
  raft_snapshot_meta_t m = {.index = 51, .term = 4};
  m.conf.n_voters = 3;
  m.conf.voters[0] = 1, m.conf.voters[1] = 2, m.conf.voters[2] = 3;
  m.conf.n_learners = 2;
  m.conf.learners[0] = 9, m.conf.learners[1] = 10;
  assert_int_equal(raft_store_compact(s, &m, &err), RV_OK);
  assert_int_equal(raft_store_last_index(s), 52);
  raft_store_close(&s);

  s = s_open();
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.snapshot.index, 51);
  assert_int_equal(st.snapshot.term, 4);
  assert_int_equal(st.snapshot.conf.n_voters, 3);
  assert_int_equal(st.snapshot.conf.voters[2], 3);
  assert_int_equal(st.snapshot.conf.n_learners, 2);
  assert_int_equal(st.snapshot.conf.learners[1], 10);
  assert_int_equal(st.hard.term, 4);
  assert_int_equal(st.hard.vote, 7);
  assert_int_equal(st.hard.commit, 51);
  assert_int_equal(st.n_entries, 1);
  assert_int_equal(st.entries[0].index, 52);
  assert_memory_equal(st.entries[0].data, "yz", 2);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static void test_truncation_replaces_suffix(void **state) {
  raft_store_t *s = s_open();
  raft_entry_t a[5] = {s_entry(1, 1, "a"), s_entry(2, 1, "b"), s_entry(3, 1, "c"),
                       s_entry(4, 1, "d"), s_entry(5, 1, "e")};
  s_save_entries(s, a, 5, 1, 1);
  raft_entry_t b[1] = {s_entry(3, 2, "X")}; /* a new leader overwrites from 3 */
  s_save_entries(s, b, 1, 2, 1);
  assert_int_equal(raft_store_last_index(s), 3);
  raft_store_close(&s);
  s = s_open();
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.n_entries, 3); /* 4 and 5 are gone */
  assert_int_equal(st.entries[2].term, 2);
  assert_memory_equal(st.entries[2].data, "X", 1);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* Entries that do not follow the log are refused, and nothing of that update is kept. */
static void test_entries_must_follow(void **state) {
  raft_store_t *s = s_open();
  assert_int_equal(rst_save(s, 1, 3, 1, 4, 0, true), RV_OK);
  assert_int_equal(rst_save(s, 5, 1, 1, 4, 0, true), RV_EINVAL); /* 4 is missing */
  raft_entry_t bad[2] = {s_entry(4, 1, "a"), s_entry(6, 1, "b")};
  raft_update_t u = {.entries = bad, .n_entries = 2, .must_sync = true};
  rv_err_t err;
  assert_int_equal(raft_store_save(s, &u, &err), RV_EINVAL);
  assert_int_equal(raft_store_last_index(s), 3);
  assert_false(raft_store_failed(s));
  assert_int_equal(rst_save(s, 4, 1, 1, 4, 0, true), RV_OK);
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  rst_check_entries(&st, 1, 4, 1, 4);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static void test_compaction_and_snapshot(void **state) {
  raft_store_t *s = s_open();
  raft_entry_t a[6];
  char data[6][8];
  for (int i = 0; i < 6; i++) {
    snprintf(data[i], sizeof data[i], "op%d", i + 1);
    a[i] = s_entry((raft_index_t)i + 1, 1, data[i]);
  }
  s_save_entries(s, a, 6, 1, 6);
  raft_snapshot_meta_t m = {.index = 4, .term = 1};
  m.conf.n_voters = 3;
  m.conf.voters[0] = 1, m.conf.voters[1] = 2, m.conf.voters[2] = 3;
  m.conf.n_learners = 1;
  m.conf.learners[0] = 9;
  rv_err_t err;
  assert_int_equal(raft_store_compact(s, &m, &err), RV_OK);
  raft_snapshot_meta_t older = {.index = 2, .term = 1};
  assert_int_equal(raft_store_compact(s, &older, &err), RV_OK); /* ignored */
  raft_store_close(&s);
  s = s_open();
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.snapshot.index, 4);
  assert_int_equal(st.snapshot.conf.n_voters, 3);
  assert_int_equal(st.snapshot.conf.learners[0], 9);
  assert_int_equal(st.n_entries, 2);
  assert_int_equal(st.entries[0].index, 5);
  raft_store_state_free(&st);

  /* a snapshot installed from the leader drops the whole log */
  raft_update_t u = {0};
  u.has_snapshot = true;
  u.snapshot = (raft_snapshot_meta_t){.index = 100, .term = 3, .conf = m.conf};
  u.has_hard_state = true;
  u.hard = (raft_hard_state_t){.term = 3, .commit = 100};
  u.must_sync = true;
  assert_int_equal(raft_store_save(s, &u, &err), RV_OK);
  raft_entry_t next[1] = {s_entry(101, 3, "after")};
  s_save_entries(s, next, 1, 3, 100);
  raft_store_close(&s);
  s = s_open();
  s_load(s, &st);
  assert_int_equal(st.snapshot.index, 100);
  assert_int_equal(st.n_entries, 1);
  assert_int_equal(st.entries[0].index, 101);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* ---- segments ------------------------------------------------------------------------------ */

/* Saves entries from *next, n per save, until the log has rolled over to segment seq. */
static void s_fill_to(raft_store_t *s, raft_index_t *next, uint64_t seq, size_t n, size_t len) {
  uint64_t at, off;
  for (raft_store_position(s, &at, &off); at < seq; raft_store_position(s, &at, &off)) {
    assert_int_equal(rst_save(s, *next, n, 1, len, *next - 1, true), RV_OK);
    *next += n;
  }
}

static void test_rollover_many_segments(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_fill_to(s, &next, 12, 3, 150);
  raft_store_close(&s);
  assert_true(rst_count(s_dir, "seg-") >= 12);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  rst_check_entries(&st, 1, next - 1, 1, 150);
  assert_int_equal(st.hard.commit, next - 4);
  raft_store_state_free(&st);
  /* appending goes on in the newest segment, and survives another reopen */
  assert_int_equal(rst_save(s, next, 1, 1, 150, next - 1, true), RV_OK);
  raft_store_close(&s);
  s = rst_open(s_dir);
  s_load(s, &st);
  rst_check_entries(&st, 1, next, 1, 150);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* An update larger than a segment gets a segment of its own size. */
static void test_update_larger_than_a_segment(void **state) {
  raft_store_t *s = rst_open(s_dir);
  assert_int_equal(rst_save(s, 1, 2, 1, 10, 0, true), RV_OK);
  assert_int_equal(rst_save(s, 3, 20, 1, 5000, 0, true), RV_OK); /* 100 KB > 64 KiB */
  assert_int_equal(rst_save(s, 23, 1, 1, 5000, 0, true), RV_OK);
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.n_entries, 23);
  assert_int_equal(st.entries[22].len, 5000);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static ino_t s_inode(const char *dir, const char *name) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  return sb.st_ino;
}

/* Compaction recycles the segments it covers: their files are renamed into the pool, and later
 * roll-overs reuse them; what the recycled files held before is never read back. */
static void test_recycling_after_compaction(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_fill_to(s, &next, 7, 4, 200);
  ino_t old[6];
  for (uint64_t q = 1; q <= 6; q++) {
    char name[64];
    snprintf(name, sizeof name, "seg-%016llx.log", (unsigned long long)q);
    old[q - 1] = s_inode(s_dir, name);
  }
  raft_snapshot_meta_t m = {.index = next - 2, .term = 1};
  m.conf.n_voters = 1;
  m.conf.voters[0] = 1;
  rv_err_t err;
  assert_int_equal(raft_store_compact(s, &m, &err), RV_OK);
  assert_int_equal(rst_count(s_dir, "seg-"), 1); /* only the newest is left */
  assert_true(rst_count(s_dir, "spare-") >= 1 && rst_count(s_dir, "spare-") <= 2);
  /* which spares are recycled segments (their files still exist, so no inode reuse confuses) */
  ino_t recycled[2];
  int n_recycled = 0;
  DIR *d = opendir(s_dir);
  struct dirent *de;
  while ((de = readdir(d)))
    if (strncmp(de->d_name, "spare-", 6) == 0)
      for (int i = 0; i < 6; i++)
        if (s_inode(s_dir, de->d_name) == old[i] && n_recycled < 2) recycled[n_recycled++] = old[i];
  closedir(d);
  assert_true(n_recycled >= 1);
  /* the next roll-overs take from the pool: a recycled file comes back as a segment */
  raft_index_t compacted = m.index;
  s_fill_to(s, &next, 9, 4, 200);
  bool reused = false;
  d = opendir(s_dir);
  while ((de = readdir(d)))
    if (strncmp(de->d_name, "seg-", 4) == 0)
      for (int i = 0; i < n_recycled; i++)
        reused = reused || s_inode(s_dir, de->d_name) == recycled[i];
  closedir(d);
  assert_true(reused);
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.snapshot.index, compacted);
  rst_check_entries(&st, compacted + 1, next - 1, 1, 200);
  raft_store_state_free(&st);
  raft_store_close(&s);
  assert_true(rst_count(s_dir, "seg-") + rst_count(s_dir, "spare-") <= 6);
}

static void test_snapshot_install_drops_log(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_fill_to(s, &next, 5, 4, 200);
  raft_update_t u = {0};
  u.has_snapshot = true;
  u.snapshot = (raft_snapshot_meta_t){.index = next + 1000, .term = 5};
  u.snapshot.conf.n_voters = 1;
  u.snapshot.conf.voters[0] = 1;
  u.has_hard_state = true;
  u.hard = (raft_hard_state_t){.term = 5, .vote = 0, .commit = next + 1000};
  u.must_sync = true;
  rv_err_t err;
  assert_int_equal(raft_store_save(s, &u, &err), RV_OK);
  assert_int_equal(raft_store_last_index(s), next + 1000);
  assert_int_equal(rst_count(s_dir, "seg-"), 1);
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.snapshot.index, next + 1000);
  assert_int_equal(st.hard.term, 5);
  assert_int_equal(st.n_entries, 0);
  raft_store_state_free(&st);
  assert_int_equal(rst_save(s, next + 1001, 2, 5, 30, next + 1000, true), RV_OK);
  raft_store_close(&s);
  s = rst_open(s_dir);
  s_load(s, &st);
  rst_check_entries(&st, next + 1001, next + 1002, 5, 30);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* The preparing thread fills the pool once the segment is half full (a condition with a
 * deadline, not a sleep). */
static void test_spare_prepared_in_background(void **state) {
  raft_store_t *s = rst_open(s_dir);
  assert_int_equal(rst_count(s_dir, "spare-"), 0);
  raft_index_t next = 1;
  uint64_t seq, off;
  for (raft_store_position(s, &seq, &off); off < RST_SEG / 2 + 1024;
       raft_store_position(s, &seq, &off)) {
    assert_int_equal(rst_save(s, next, 4, 1, 100, 0, true), RV_OK);
    next += 4;
  }
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (rst_count(s_dir, "spare-") == 1) break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    assert_true(now.tv_sec - t0.tv_sec < 20);
    usleep(1000); /* polling the condition, with the deadline above */
  }
  assert_int_equal(seq, 1);
  raft_store_close(&s);
  assert_int_equal(rst_count(s_dir, "tmp-"), 0);
}

/* ---- identity, format, lock ----------------------------------------------------------------- */

static void test_identity_refused(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_fill_to(s, &next, 3, 4, 200); /* identity is in every segment's checkpoint */
  raft_store_close(&s);
  raft_store_options_t o = rst_opts();
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 2, &o, &s, &err), RV_ESTALE);
  assert_non_null(strstr(err.msg, "belongs to cluster/node c1/1, not c1/2"));
  assert_int_equal(raft_store_open(s_dir, "other", 1, &o, &s, &err), RV_ESTALE);
  assert_null(s);
}

static void test_rocksdb_log_refused(void **state) {
  char path[600];
  snprintf(path, sizeof path, "%s/CURRENT", s_dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("MANIFEST-000005\n", f);
  fclose(f);
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, NULL, &s, &err), RV_ECONFIG);
  assert_non_null(strstr(err.msg, "older build"));
  assert_non_null(strstr(err.msg, "wipe"));
  assert_non_null(strstr(err.msg, s_dir));
  assert_null(s);
}

/* Rewrites the checkpoint at the start of every segment of dir with format version fmt (and a
 * valid checksum), as a build of another log format would have written it. */
static void s_rewrite_format(uint32_t fmt) {
  DIR *d = opendir(s_dir);
  assert_non_null(d);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "seg-", 4) != 0) continue;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", s_dir, e->d_name);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *seg = malloc((size_t)st.st_size);
    assert_non_null(seg);
    assert_int_equal(pread(fd, seg, (size_t)st.st_size, 0), st.st_size);
    uint64_t gen = strtoull(e->d_name + 4, NULL, 16);
    rs_rec_t rec;
    assert_true(rs_record_check(seg, (uint64_t)st.st_size, 0, gen, &rec));
    uint8_t *payload = seg + RS_HDR;
    for (int i = 0; i < 4; i++) payload[8 + i] = (uint8_t)(fmt >> (8 * i)); /* after the magic */
    rs_record_header(seg, rec.type, gen, 0, payload, rec.len);
    assert_int_equal(pwrite(fd, seg, RS_HDR + rec.len, 0), (ssize_t)(RS_HDR + rec.len));
    free(seg);
    close(fd);
    n++;
  }
  closedir(d);
  assert_true(n > 0);
}

/* A log of a newer format (a downgrade) is refused naming the file and both versions, and not
 * touched; one of an older format than any this build converts is refused too. */
static void test_other_format_refused(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_fill_to(s, &next, 1, 4, 200);
  raft_store_close(&s);
  s_rewrite_format(RS_FORMAT + 1);
  raft_store_options_t o = rst_opts();
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_ECONFIG);
  assert_null(s);
  assert_non_null(strstr(err.msg, "log format 2 is newer than this build's (format 1)"));
  assert_non_null(strstr(err.msg, "a downgrade is not supported"));
  assert_non_null(strstr(err.msg, s_dir));
  assert_null(strstr(err.msg, "wipe"));
  s_rewrite_format(0);
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_ECONFIG);
  assert_non_null(strstr(err.msg, "log format 0 is older than this build's (format 1)"));
  s_rewrite_format(RS_FORMAT); /* and back: the same log opens */
  s = rst_open(s_dir);
  raft_store_close(&s);
}

static void test_one_process_at_a_time(void **state) {
  raft_store_t *s = rst_open(s_dir), *t;
  raft_store_options_t o = rst_opts();
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &t, &err), RV_EBUSY);
  raft_store_close(&s);
  t = rst_open(s_dir);
  raft_store_close(&t);
}

static void test_bad_options(void **state) {
  raft_store_options_t o = rst_opts();
  o.segment_bytes = 1000;
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_ECONFIG);
  o = rst_opts();
  o.spares = 0;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_ECONFIG);
}

/* ---- crashes and deferred saves ------------------------------------------------------------ */

/* A child writes synced updates and dies without closing (as kill -9 would): everything it was
 * told was durable is there. */
static void test_crash_without_close(void **state) {
  pid_t pid = fork();
  if (pid == 0) {
    raft_store_options_t o = rst_opts();
    raft_store_t *s;
    rv_err_t err;
    if (raft_store_open(s_dir, "c1", 1, &o, &s, &err)) _exit(1);
    for (raft_index_t i = 1; i <= 600; i++)
      if (rst_save(s, i, 1, 1, 100, i, true)) _exit(2);
    _exit(0); /* no close, no flush */
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  raft_store_t *s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  rst_check_entries(&st, 1, 600, 1, 100);
  assert_int_equal(st.hard.commit, 600);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static void s_commit_only(raft_store_t *s, raft_index_t commit) {
  raft_update_t u = {0};
  u.has_hard_state = true;
  u.hard = (raft_hard_state_t){.term = 1, .vote = 1, .commit = commit};
  rv_err_t err;
  assert_int_equal(raft_store_save(s, &u, &err), RV_OK);
}

/* A save without must_sync is written with the next record, or at close; a crash before either
 * loses it (the contract allows that: only commit-index-only changes are unsynced). */
static void test_deferred_save(void **state) {
  raft_store_t *s = rst_open(s_dir);
  assert_int_equal(rst_save(s, 1, 5, 1, 10, 1, true), RV_OK);
  s_commit_only(s, 3);
  raft_store_close(&s); /* written at close */
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.hard.commit, 3);
  raft_store_state_free(&st);
  raft_store_close(&s);

  pid_t pid = fork();
  if (pid == 0) {
    raft_store_options_t o = rst_opts();
    rv_err_t err;
    if (raft_store_open(s_dir, "c1", 1, &o, &s, &err)) _exit(1);
    s_commit_only(s, 4);
    if (rst_save(s, 6, 1, 1, 10, 4, true)) _exit(2); /* carries commit 4 along */
    s_commit_only(s, 6);                              /* lost in the crash */
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  s = rst_open(s_dir);
  s_load(s, &st);
  assert_int_equal(st.hard.commit, 4);
  rst_check_entries(&st, 1, 6, 1, 10);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* ---- injected faults ------------------------------------------------------------------------ */

typedef struct {
  raft_store_io_t op; /* fail this kind of operation */
  int err;            /* with this errno; 0 = no fault */
  int after;          /* after letting this many through */
  int calls;
  uint64_t free_bytes; /* not 0: preparing a segment larger than this fails with ENOSPC */
} s_fault_t;

static int s_fault(void *arg, raft_store_io_t op, const char *file, uint64_t off, size_t *len) {
  s_fault_t *f = arg;
  if (op == RAFT_STORE_IO_PREPARE && f->free_bytes) /* a disk with this much room */
    return *len > f->free_bytes ? ENOSPC : 0;
  if (op != f->op || !f->err) return 0;
  return f->calls++ >= f->after ? f->err : 0;
}

/* A failed fdatasync: the save fails, the store refuses every later write, and a reopen
 * recovers everything acknowledged. */
static void test_failed_sync(void **state) {
  s_fault_t f = {.op = RAFT_STORE_IO_SYNC};
  raft_store_options_t o = rst_opts();
  o.fault = s_fault;
  o.fault_arg = &f;
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_OK);
  assert_int_equal(rst_save(s, 1, 10, 1, 50, 5, true), RV_OK);
  f.err = EIO;
  assert_int_equal(rst_save(s, 11, 1, 1, 50, 5, true), RV_EIO);
  assert_true(raft_store_failed(s));
  f.err = 0;
  raft_update_t u = {.has_hard_state = true, .hard = {.term = 2}, .must_sync = true};
  assert_int_equal(raft_store_save(s, &u, &err), RV_EIO);
  assert_non_null(strstr(err.msg, "restart raft-peer"));
  assert_non_null(strstr(err.msg, "seg-0000000000000001.log"));
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  /* entry 11 was never acknowledged; whether it reached the disk is not known */
  assert_true(st.n_entries == 10 || st.n_entries == 11);
  assert_int_equal(st.entries[9].index, 10);
  assert_int_equal(st.hard.term, 1);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* A full disk: only preparing a segment needs new space, so the save that needs a roll-over
 * fails with RV_ENOSPACE, nothing of it is kept, the store is not failed, and the same save
 * succeeds once there is space. */
static void test_disk_full(void **state) {
  s_fault_t f = {.op = RAFT_STORE_IO_PREPARE};
  raft_store_options_t o = rst_opts();
  o.fault = s_fault;
  o.fault_arg = &f;
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_OK);
  f.err = ENOSPC; /* from now on, no new segment can be prepared */
  raft_index_t next = 1;
  int rc;
  while ((rc = rst_save(s, next, 2, 1, 300, next - 1, true)) == RV_OK) next += 2;
  assert_int_equal(rc, RV_ENOSPACE);
  assert_false(raft_store_failed(s));
  assert_int_equal(raft_store_last_index(s), next - 1);
  assert_int_equal(rst_save(s, next, 2, 1, 300, next - 1, true), RV_ENOSPACE); /* still full */
  f.err = 0;
  assert_int_equal(rst_save(s, next, 2, 1, 300, next - 1, true), RV_OK);
  next += 2;
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  rst_check_entries(&st, 1, next - 1, 1, 300);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* A disk with less room than a whole segment: the next segment is a small one that holds the
 * update, so writes go on as soon as that much is free (a 16 MiB segment with 16 MiB free left
 * a follower stuck for minutes); with not even that, the error names the bytes needed. */
static void test_disk_short_of_a_whole_segment(void **state) {
  s_fault_t f = {.op = RAFT_STORE_IO_PREPARE};
  raft_store_options_t o = rst_opts();
  o.segment_bytes = 1u << 20; /* whole segments of 1 MiB; a small one is 64 KiB */
  o.fault = s_fault;
  o.fault_arg = &f;
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_OK);
  f.free_bytes = o.segment_bytes - 1; /* not room for a whole segment */
  raft_index_t next = 1;
  for (int k = 0; k < 200; k++, next += 2) /* several roll-overs */
    assert_int_equal(rst_save(s, next, 2, 1, 3000, next - 1, true), RV_OK);
  f.free_bytes = 1000; /* not room for even a small one */
  int rc = RV_OK;
  for (int k = 0; k < 400 && rc == RV_OK; k++)
    if ((rc = rst_save(s, next, 2, 1, 3000, next - 1, true)) == RV_OK) next += 2;
  assert_int_equal(rc, RV_ENOSPACE);
  assert_false(raft_store_failed(s));
  /* the error says how much room the next segment needs */
  uint8_t big[60000] = {0};
  raft_entry_t e = {.term = 1, .index = next, .type = RAFT_ENTRY_NORMAL, .data = big,
                    .len = sizeof big};
  raft_update_t u = {.entries = &e, .n_entries = 1, .has_hard_state = true,
                     .hard = {.term = 1, .vote = 1, .commit = next - 1}, .must_sync = true};
  for (int k = 0; k < 100 && (rc = raft_store_save(s, &u, &err)) == RV_OK; k++) {
    e.index = ++next;
    u.hard.commit = next - 1;
  }
  assert_int_equal(rc, RV_ENOSPACE);
  assert_non_null(strstr(err.msg, "needs 65536 bytes free"));
  assert_false(raft_store_failed(s));
  f.free_bytes = 128u << 10; /* room for a small segment only */
  assert_int_equal(raft_store_save(s, &u, &err), RV_OK);
  next++;
  assert_int_equal(rst_save(s, next, 2, 1, 3000, next - 1, true), RV_OK);
  next += 2;
  raft_store_close(&s);
  s = rst_open(s_dir);
  raft_storage_state_t st;
  s_load(s, &st);
  assert_int_equal(st.n_entries, next - 1);
  assert_int_equal(st.entries[next - 4].len, sizeof big);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_every_operation, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_truncation_replaces_suffix, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_entries_must_follow, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_compaction_and_snapshot, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rollover_many_segments, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_update_larger_than_a_segment, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_recycling_after_compaction, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_snapshot_install_drops_log, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_spare_prepared_in_background, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_identity_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rocksdb_log_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_other_format_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_one_process_at_a_time, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_bad_options, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_crash_without_close, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_deferred_save, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_failed_sync, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_disk_short_of_a_whole_segment, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_disk_full, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
