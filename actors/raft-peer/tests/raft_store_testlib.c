/* Helpers of the raft_store tests: see raft_store_testlib.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "raft_store_testlib.h"

void rst_dir_new(char *buf, size_t len) {
  snprintf(buf, len, "/tmp/raft_store_test.XXXXXX");
  assert_non_null(mkdtemp(buf));
}

void rst_dir_remove(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

raft_store_options_t rst_opts(void) {
  raft_store_options_t o;
  raft_store_options_default(&o);
  o.segment_bytes = RST_SEG;
  return o;
}

raft_store_t *rst_open(const char *dir) {
  raft_store_options_t o = rst_opts();
  raft_store_t *s = NULL;
  rv_err_t err;
  int rc = raft_store_open(dir, "c1", 1, &o, &s, &err);
  if (rc) fprintf(stderr, "open: %s\n", err.msg);
  assert_int_equal(rc, RV_OK);
  return s;
}

void rst_data(raft_index_t index, raft_term_t term, size_t len, uint8_t *out) {
  uint64_t x = index * 0x9e3779b97f4a7c15ull ^ term;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out[i] = (uint8_t)x;
  }
}

int rst_save(raft_store_t *s, raft_index_t first, size_t n, raft_term_t term, size_t len,
             raft_index_t commit, bool sync) {
  raft_entry_t *ents = calloc(n ? n : 1, sizeof *ents);
  uint8_t *data = malloc(n * len + 1);
  assert_non_null(ents);
  assert_non_null(data);
  for (size_t i = 0; i < n; i++) {
    rst_data(first + i, term, len, data + i * len);
    ents[i] = (raft_entry_t){.term = term, .index = first + i, .type = RAFT_ENTRY_NORMAL,
                             .data = data + i * len, .len = len};
  }
  raft_update_t u = {0};
  u.entries = ents;
  u.n_entries = n;
  u.has_hard_state = true;
  u.hard = (raft_hard_state_t){.term = term, .vote = 1, .commit = commit};
  u.must_sync = sync;
  rv_err_t err;
  int rc = raft_store_save(s, &u, &err);
  free(ents);
  free(data);
  return rc;
}

void rst_check_entries(const raft_storage_state_t *st, raft_index_t from, raft_index_t to,
                       raft_term_t term, size_t len) {
  assert_int_equal(st->n_entries, to >= from ? to - from + 1 : 0);
  uint8_t *want = malloc(len + 1);
  assert_non_null(want);
  for (size_t i = 0; i < st->n_entries; i++) {
    const raft_entry_t *e = &st->entries[i];
    assert_int_equal(e->index, from + i);
    assert_int_equal(e->term, term);
    assert_int_equal(e->len, len);
    rst_data(e->index, term, len, want);
    if (len) assert_memory_equal(e->data, want, len);
  }
  free(want);
}

void rst_seg_path(const char *dir, uint64_t seq, char *buf, size_t len) {
  snprintf(buf, len, "%s/seg-%016llx.log", dir, (unsigned long long)seq);
}

uint8_t *rst_read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  off_t size = lseek(fd, 0, SEEK_END);
  uint8_t *p = malloc((size_t)size + 1);
  assert_non_null(p);
  assert_int_equal(pread(fd, p, (size_t)size, 0), size);
  close(fd);
  *len = (size_t)size;
  return p;
}

void rst_write_file(const char *path, const uint8_t *data, size_t len) {
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
  assert_int_equal(ftruncate(fd, (off_t)len), 0);
  close(fd);
}

void rst_flip(const char *path, uint64_t off, uint8_t x) {
  int fd = open(path, O_RDWR);
  assert_true(fd >= 0);
  uint8_t b;
  assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
  b ^= x;
  assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
  close(fd);
}

int rst_count(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) n++;
  closedir(d);
  return n;
}
