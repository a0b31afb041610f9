/* Unit tests of kv_read: stat, count (HDFS -count semantics), cat, and paged ls of a large
 * directory (start-after + limit), of a file, and every read error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"

static kv_t_env_t *s_e;

static int s_setup(void **state) {
  s_e = kv_t_env_new(NULL);
  return 0;
}

static int s_teardown(void **state) {
  kv_t_env_destroy(&s_e);
  return 0;
}

static void test_stat_root_fresh(void **state) {
  kv_stat_t st;
  assert_int_equal(kv_t_stat(s_e, "/", &st), RV_OK);
  assert_int_equal(st.inode, KV_ROOT_INO);
  assert_int_equal(st.attr.type, KV_TYPE_DIR);
  assert_int_equal(st.attr.perm, 0755);
  assert_string_equal(st.attr.owner, "root");
  assert_string_equal(st.attr.group, "supergroup");
  assert_true(st.count.dirs == 1 && st.count.files == 0 && st.count.bytes == 0);
}

static void test_count_semantics(void **state) {
  assert_int_equal(kv_t_put(s_e, "/d/e/f", "abc", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/d/g", "12", 0), RV_OK);
  kv_count_t c;
  assert_int_equal(kv_t_count(s_e, "/d", &c), RV_OK);
  assert_true(c.dirs == 2 && c.files == 2 && c.bytes == 5); /* a directory counts itself */
  assert_int_equal(kv_t_count(s_e, "/d/g", &c), RV_OK);
  assert_true(c.dirs == 0 && c.files == 1 && c.bytes == 2);
  assert_int_equal(kv_t_count(s_e, "/d/e/", &c), RV_OK);
  assert_true(c.dirs == 1 && c.files == 1 && c.bytes == 3);
}

static void test_read_errors(void **state) {
  assert_int_equal(kv_t_put(s_e, "/f", "x", 0), RV_OK);
  rv_err_t err;
  kv_stat_t st;
  kv_count_t c;
  kv_buf_t out;
  kv_buf_init(&out);
  kv_ls_t ls;
  kv_ls_init(&ls);
  assert_int_equal(kv_core_stat(s_e->core, "/nope", 5, &st, &err), RV_ENOTFOUND);
  assert_string_equal(err.msg, "stat /nope: /nope: no such file or directory");
  assert_int_equal(kv_core_count(s_e->core, "/f/x", 4, &c, &err), RV_ENOTDIR);
  assert_string_equal(err.msg, "count /f/x: /f is not a directory");
  assert_int_equal(kv_core_cat(s_e->core, "/", 1, &out, &err), RV_EISDIR);
  assert_string_equal(err.msg, "cat /: is a directory");
  assert_int_equal(kv_core_cat(s_e->core, "/g", 2, &out, &err), RV_ENOTFOUND);
  assert_int_equal(kv_core_ls(s_e->core, "/a/../b", 7, NULL, 0, 0, &ls, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "ls: path \"/a/../b\": component 2 is \"..\""));
  assert_int_equal(kv_core_stat(s_e->core, "rel", 3, &st, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "stat: path \"rel\": not absolute"));
  char name[300];
  memset(name, 'n', sizeof name);
  assert_int_equal(kv_core_ls(s_e->core, "/", 1, name, 256, 0, &ls, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "start-after name of 256 bytes"));
  kv_ls_close(&ls);
  kv_buf_close(&out);
}

static void test_ls_file_gives_itself(void **state) {
  assert_int_equal(kv_t_put(s_e, "/d/file", "hello", KV_F_PARENTS), RV_OK);
  kv_ls_t ls;
  kv_ls_init(&ls);
  rv_err_t err;
  assert_int_equal(kv_core_ls(s_e->core, "/d/file", 7, NULL, 0, 0, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 1);
  assert_false(ls.more);
  assert_string_equal(ls.items[0].name, "file");
  assert_int_equal(ls.items[0].st.attr.size, 5);
  assert_int_equal(ls.items[0].st.attr.type, KV_TYPE_FILE);
  /* an empty directory: no entries */
  assert_int_equal(kv_t_mkdir(s_e, "/empty", 0), RV_OK);
  assert_int_equal(kv_core_ls(s_e->core, "/empty", 6, NULL, 0, 0, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 0);
  assert_false(ls.more);
  kv_ls_close(&ls);
  kv_ls_close(&ls);
}

static void test_ls_order_and_stats(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  const char *names[] = {"b", "a", "B", "é", "aa", "a0", "z"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char p[32];
    snprintf(p, sizeof p, "/d/%s", names[i]);
    if (i % 2)
      assert_int_equal(kv_t_mkdir(s_e, p, 0), RV_OK);
    else
      assert_int_equal(kv_t_put(s_e, p, names[i], 0), RV_OK);
  }
  assert_int_equal(kv_t_put(s_e, "/d/a/inner", "12345", 0), RV_OK);
  kv_ls_t ls;
  kv_ls_init(&ls);
  rv_err_t err;
  assert_int_equal(kv_core_ls(s_e->core, "/d", 2, NULL, 0, 0, &ls, &err), RV_OK);
  const char *want[] = {"B", "a", "a0", "aa", "b", "z", "é"}; /* bytewise */
  assert_int_equal(ls.n, 7);
  for (size_t i = 0; i < ls.n; i++) assert_string_equal(ls.items[i].name, want[i]);
  assert_int_equal(ls.items[1].st.attr.type, KV_TYPE_DIR); /* "a" */
  assert_true(ls.items[1].st.count.dirs == 1 && ls.items[1].st.count.files == 1 &&
              ls.items[1].st.count.bytes == 5);
  assert_int_equal(ls.items[1].st.attr.nchildren, 1);
  assert_int_equal(ls.items[3].st.attr.type, KV_TYPE_FILE); /* "aa" */
  assert_int_equal(ls.items[3].st.attr.size, 2);
  kv_ls_close(&ls);
}

/* A directory of many children, read page by page; start-after may name a missing entry. */
static void test_ls_paging_large_directory(void **state) {
  enum { N = 20000 };
  assert_int_equal(kv_t_mkdir(s_e, "/big", 0), RV_OK);
  kv_entry_t *entries = calloc(N, sizeof *entries);
  kv_buf_t *bufs = calloc(N, sizeof *bufs);
  kv_result_t *results = calloc(N, sizeof *results);
  char p[64];
  for (int i = 0; i < N; i++) {
    kv_cmd_t c;
    snprintf(p, sizeof p, "/big/f%06d", i);
    kv_t_cmd(&c, KV_OP_TOUCHZ, p);
    kv_buf_init(&bufs[i]);
    kv_t_encode(&c, &bufs[i]);
    entries[i] = (kv_entry_t){
        .index = s_e->index + 1 + (uint64_t)i, .data = bufs[i].data, .len = bufs[i].len};
  }
  rv_err_t err;
  assert_int_equal(kv_core_apply_batch(s_e->core, entries, N, results, &err), RV_OK);
  s_e->index += N;
  for (int i = 0; i < N; i++) {
    assert_int_equal(results[i].code, RV_OK);
    kv_buf_close(&bufs[i]);
  }
  kv_stat_t st;
  assert_int_equal(kv_t_stat(s_e, "/big", &st), RV_OK);
  assert_int_equal(st.attr.nchildren, N);

  kv_ls_t ls;
  kv_ls_init(&ls);
  char after[KV_NAME_MAX + 1] = "";
  int seen = 0, pages = 0;
  for (;;) {
    assert_int_equal(kv_core_ls(s_e->core, "/big", 4, after, strlen(after), 777, &ls, &err), RV_OK);
    pages++;
    for (size_t i = 0; i < ls.n; i++) {
      snprintf(p, sizeof p, "f%06d", seen++);
      assert_string_equal(ls.items[i].name, p);
    }
    if (!ls.more) break;
    assert_int_equal(ls.n, 777);
    snprintf(after, sizeof after, "%s", ls.items[ls.n - 1].name);
  }
  assert_int_equal(seen, N);
  assert_int_equal(pages, (N + 776) / 777);
  /* start-after a name that does not exist: the next one after it */
  assert_int_equal(kv_core_ls(s_e->core, "/big", 4, "f000100x", 8, 2, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 2);
  assert_string_equal(ls.items[0].name, "f000101");
  assert_true(ls.more);
  /* limit 0 is the default page, a huge limit is capped */
  assert_int_equal(kv_core_ls(s_e->core, "/big", 4, NULL, 0, 0, &ls, &err), RV_OK);
  assert_int_equal(ls.n, KV_LS_DEFAULT);
  assert_true(ls.more);
  assert_int_equal(kv_core_ls(s_e->core, "/big", 4, "f019990", 7, SIZE_MAX, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 9);
  assert_false(ls.more);
  /* exactly the last page: more is false */
  assert_int_equal(kv_core_ls(s_e->core, "/big", 4, "f019989", 7, 10, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 10);
  assert_false(ls.more);

  /* filtered by a glob: only matches come back; the scan starts at the literal prefix */
  assert_int_equal(kv_core_ls_match(s_e->core, "/big", 4, NULL, 0, 0, "f0001[0-4]?", 11, &ls,
                                    &err), RV_OK);
  assert_int_equal(ls.n, 50);
  assert_false(ls.more);
  assert_string_equal(ls.items[0].name, "f000100");
  assert_string_equal(ls.items[49].name, "f000149");
  /* paged by resume, with a prefix: 100 matches 7 at a time */
  int total = 0;
  after[0] = '\0';
  for (;;) {
    assert_int_equal(kv_core_ls_match(s_e->core, "/big", 4, after, strlen(after), 7, "f0001*", 6,
                                      &ls, &err), RV_OK);
    for (size_t i = 0; i < ls.n; i++) {
      snprintf(p, sizeof p, "f%06d", 100 + total++);
      assert_string_equal(ls.items[i].name, p);
    }
    if (!ls.more) break;
    memcpy(after, ls.resume, ls.resume_len);
    after[ls.resume_len] = '\0';
  }
  assert_int_equal(total, 100);
  /* no prefix: the whole directory is scanned, a bounded number of names per call */
  total = 0;
  int calls = 0;
  after[0] = '\0';
  for (;;) {
    assert_int_equal(kv_core_ls_match(s_e->core, "/big", 4, after, strlen(after), 0, "*99{8,9}",
                                      8, &ls, &err), RV_OK);
    calls++;
    total += (int)ls.n;
    if (!ls.more) break;
    assert_true(ls.resume_len > 0);
    memcpy(after, ls.resume, ls.resume_len);
    after[ls.resume_len] = '\0';
  }
  assert_int_equal(total, 40);
  assert_true(N > KV_LS_SCAN_MAX); /* so the budget is hit and resume used */
  assert_int_equal(calls, (N + KV_LS_SCAN_MAX - 1) / KV_LS_SCAN_MAX);
  /* a bad pattern is refused with GlobPattern's words */
  assert_int_equal(kv_core_ls_match(s_e->core, "/big", 4, NULL, 0, 0, "a[b", 3, &ls, &err),
                   RV_EINVAL);
  assert_non_null(strstr(err.msg, "Illegal file pattern: Unclosed character class"));
  kv_ls_close(&ls);
  free(entries);
  free(bufs);
  free(results);
  assert_int_equal(kv_t_check(s_e), RV_OK);
}

/* Sibling directories' entries never leak into a listing (prefix boundaries). */
static void test_ls_prefix_isolation(void **state) {
  /* inodes 2 (/a) and 3 (/b): /a's listing must stop before /b's dentries */
  assert_int_equal(kv_t_mkdir(s_e, "/a", 0), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/b/x", "", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/a/y", "", 0), RV_OK);
  kv_ls_t ls;
  kv_ls_init(&ls);
  rv_err_t err;
  assert_int_equal(kv_core_ls(s_e->core, "/a", 2, NULL, 0, 0, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 1);
  assert_string_equal(ls.items[0].name, "y");
  assert_int_equal(kv_core_ls(s_e->core, "/a", 2, "y", 1, 0, &ls, &err), RV_OK);
  assert_int_equal(ls.n, 0);
  assert_false(ls.more);
  kv_ls_close(&ls);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stat_root_fresh, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_count_semantics, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_read_errors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_ls_file_gives_itself, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_ls_order_and_stats, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_ls_paging_large_directory, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_ls_prefix_isolation, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
