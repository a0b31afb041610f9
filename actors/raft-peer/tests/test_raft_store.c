/* Unit tests of raft-peer's durable log (real RocksDB in a temporary directory): round trips,
 * truncation, compaction, identity, a crash without close, and corruption refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>

#include <cmocka.h>

#include "raft_store.h"

static char s_dir[256];

static int s_setup(void **state) {
  snprintf(s_dir, sizeof s_dir, "/tmp/raft_store_test.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  return 0;
}

static int s_teardown(void **state) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
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

static void test_round_trip(void **state) {
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_entry_t ents[3] = {s_entry(1, 1, NULL), s_entry(2, 1, "mkdir /a"), s_entry(3, 2, "put /a/b")};
  ents[0].type = RAFT_ENTRY_EMPTY;
  s_save_entries(s, ents, 3, 2, 2);
  raft_store_close(&s);
  assert_null(s);
  raft_store_close(&s); /* safe twice */

  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_storage_state_t st;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  assert_int_equal(st.hard.term, 2);
  assert_int_equal(st.hard.vote, 2);
  assert_int_equal(st.hard.commit, 2);
  assert_int_equal(st.n_entries, 3);
  assert_int_equal(st.entries[0].type, RAFT_ENTRY_EMPTY);
  assert_int_equal(st.entries[2].term, 2);
  assert_int_equal(st.entries[2].len, 8);
  assert_memory_equal(st.entries[2].data, "put /a/b", 8);
  assert_int_equal(raft_store_last_index(s), 3);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static void test_truncation_replaces_suffix(void **state) {
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_entry_t a[5] = {s_entry(1, 1, "a"), s_entry(2, 1, "b"), s_entry(3, 1, "c"),
                       s_entry(4, 1, "d"), s_entry(5, 1, "e")};
  s_save_entries(s, a, 5, 1, 1);
  raft_entry_t b[1] = {s_entry(3, 2, "X")}; /* a new leader overwrites from 3 */
  s_save_entries(s, b, 1, 2, 1);
  raft_store_close(&s);
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_storage_state_t st;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  assert_int_equal(st.n_entries, 3); /* 4 and 5 are gone */
  assert_int_equal(st.entries[2].term, 2);
  assert_memory_equal(st.entries[2].data, "X", 1);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static void test_compaction_and_snapshot(void **state) {
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
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
  assert_int_equal(raft_store_compact(s, &m, &err), RV_OK);
  raft_store_close(&s);
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_storage_state_t st;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
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
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  assert_int_equal(st.snapshot.index, 100);
  assert_int_equal(st.n_entries, 1);
  assert_int_equal(st.entries[0].index, 101);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

static void test_identity_refused(void **state) {
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_store_close(&s);
  assert_int_equal(raft_store_open(s_dir, "c1", 2, &s, &err), RV_ESTALE);
  assert_non_null(strstr(err.msg, "belongs to cluster/node c1/1, not c1/2"));
  assert_int_equal(raft_store_open(s_dir, "other", 1, &s, &err), RV_ESTALE);
  assert_null(s);
}

/* A child writes synced batches and dies without closing (as kill -9 would): everything it was
 * told was durable is there. */
static void test_crash_without_close(void **state) {
  pid_t pid = fork();
  if (pid == 0) {
    raft_store_t *s;
    rv_err_t err;
    if (raft_store_open(s_dir, "c1", 1, &s, &err)) _exit(1);
    for (raft_index_t i = 1; i <= 200; i++) {
      raft_entry_t e = s_entry(i, 1, "payload-payload");
      raft_update_t u = {0};
      u.entries = &e;
      u.n_entries = 1;
      u.has_hard_state = true;
      u.hard = (raft_hard_state_t){.term = 1, .commit = i};
      u.must_sync = true;
      if (raft_store_save(s, &u, &err)) _exit(2);
    }
    _exit(0); /* no close, no flush */
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  raft_store_t *s;
  rv_err_t err;
  assert_int_equal(raft_store_open(s_dir, "c1", 1, &s, &err), RV_OK);
  raft_storage_state_t st;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  assert_int_equal(st.n_entries, 200);
  assert_int_equal(st.hard.commit, 200);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* Damage in the middle of the WAL is refused with a clear error, not silently skipped. */
static void test_corrupt_wal_refused(void **state) {
  pid_t pid = fork();
  if (pid == 0) {
    raft_store_t *s;
    rv_err_t err;
    if (raft_store_open(s_dir, "c1", 1, &s, &err)) _exit(1);
    for (raft_index_t i = 1; i <= 100; i++) {
      raft_entry_t e = s_entry(i, 1, "0123456789abcdef0123456789abcdef");
      raft_update_t u = {0};
      u.entries = &e;
      u.n_entries = 1;
      u.must_sync = true;
      if (raft_store_save(s, &u, &err)) _exit(2);
    }
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* flip bytes in the middle of the newest .log (the WAL) */
  DIR *d = opendir(s_dir);
  struct dirent *de;
  char wal[600] = "";
  while ((de = readdir(d)))
    if (strstr(de->d_name, ".log") && strcmp(de->d_name, "LOG") != 0)
      snprintf(wal, sizeof wal, "%s/%s", s_dir, de->d_name);
  closedir(d);
  assert_true(wal[0]);
  int fd = open(wal, O_RDWR);
  off_t size = lseek(fd, 0, SEEK_END);
  assert_true(size > 4000);
  char junk[64];
  memset(junk, 0x5a, sizeof junk);
  assert_int_equal(pwrite(fd, junk, sizeof junk, size / 2), (ssize_t)sizeof junk);
  close(fd);
  raft_store_t *s;
  rv_err_t err;
  int rc = raft_store_open(s_dir, "c1", 1, &s, &err);
  assert_int_equal(rc, RV_ECORRUPT);
  assert_non_null(strstr(err.msg, s_dir));
  assert_null(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_truncation_replaces_suffix, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_compaction_and_snapshot, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_identity_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_crash_without_close, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_wal_refused, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
