/* Unit tests of kv_ops_remove: rm (file, empty directory, -r of deep and wide trees, the size
 * limit, the file-only and dir-only flags) and mv (rename, across directories, into a
 * directory as HDFS does, onto existing targets, into itself or a descendant); every error;
 * counts of every ancestor; fsck after. */
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
  assert_int_equal(kv_t_check(s_e), RV_OK);
  kv_t_env_destroy(&s_e);
  return 0;
}

static void s_expect(int rc, int code, const char *frag) {
  if (rc != code)
    fail_msg("got %s (%s), want %s", rv_code_name(rc), s_e->res.msg, rv_code_name(code));
  if (frag && !strstr(s_e->res.msg, frag))
    fail_msg("message \"%s\" lacks \"%s\"", s_e->res.msg, frag);
}

static kv_count_t s_count(const char *p) {
  kv_count_t c;
  assert_int_equal(kv_t_count(s_e, p, &c), RV_OK);
  return c;
}

static void s_count_is(const char *p, uint64_t dirs, uint64_t files, uint64_t bytes) {
  kv_count_t c = s_count(p);
  if (c.dirs != dirs || c.files != files || c.bytes != bytes)
    fail_msg("count %s = %llu %llu %llu, want %llu %llu %llu", p, (unsigned long long)c.dirs,
             (unsigned long long)c.files, (unsigned long long)c.bytes, (unsigned long long)dirs,
             (unsigned long long)files, (unsigned long long)bytes);
}

static kv_stat_t s_stat(const char *p) {
  kv_stat_t st;
  assert_int_equal(kv_t_stat(s_e, p, &st), RV_OK);
  return st;
}

static bool s_exists(const char *p) {
  kv_stat_t st;
  return kv_t_stat(s_e, p, &st) == RV_OK;
}

/* ---- rm ---- */

static void test_rm_file(void **state) {
  assert_int_equal(kv_t_put(s_e, "/d/f", "12345", KV_F_PARENTS), RV_OK);
  uint64_t ino = s_e->res.inode;
  s_e->now += 1000;
  s_expect(kv_t_rm(s_e, "/d/f", 0), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_RM);
  assert_int_equal(s_e->res.inode, ino);
  assert_int_equal(s_e->res.n, 1);
  assert_false(s_exists("/d/f"));
  s_count_is("/", 2, 0, 0);
  assert_true(s_stat("/d").attr.mtime_ms == s_e->now);
  assert_int_equal(s_stat("/d").attr.nchildren, 0);
  /* only root, /d and meta are left: the content key went too */
  assert_int_equal(kv_memstore_count(s_e->ms), 2 /* attrs */ + 1 /* dentry */ + 2 /* meta */);
}

static void test_rm_dirs(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/e", 0), RV_OK);
  s_expect(kv_t_rm(s_e, "/e", 0), RV_OK, NULL); /* an empty directory needs no -r */
  assert_false(s_exists("/e"));
  assert_int_equal(kv_t_put(s_e, "/d/f", "x", KV_F_PARENTS), RV_OK);
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(kv_t_rm(s_e, "/d", 0), RV_ENOTEMPTY, "rm /d: directory not empty");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before);
  s_expect(kv_t_rm(s_e, "/d", KV_F_RECURSIVE), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 2);
  assert_false(s_exists("/d"));
  s_count_is("/", 1, 0, 0);
  /* -r on a file is fine */
  assert_int_equal(kv_t_put(s_e, "/g", "x", 0), RV_OK);
  s_expect(kv_t_rm(s_e, "/g", KV_F_RECURSIVE), RV_OK, NULL);
}

static void test_rm_errors(void **state) {
  assert_int_equal(kv_t_put(s_e, "/f", "x", 0), RV_OK);
  s_expect(kv_t_rm(s_e, "/", 0), RV_EINVAL, "rm /: refusing to remove the root directory");
  s_expect(kv_t_rm(s_e, "/", KV_F_RECURSIVE), RV_EINVAL, "rm -r /: refusing");
  s_expect(kv_t_rm(s_e, "/nope", 0), RV_ENOTFOUND, "rm /nope: /nope: no such file or directory");
  s_expect(kv_t_rm(s_e, "/a/b/c", KV_F_RECURSIVE), RV_ENOTFOUND, "rm -r /a/b/c: /a: no such file");
  s_expect(kv_t_rm(s_e, "/f/x", 0), RV_ENOTDIR, "rm /f/x: /f is not a directory");
  s_expect(kv_t_rm(s_e, "/f/..", 0), RV_EINVAL, "component 2 is \"..\"");
  assert_true(s_exists("/f"));
}

/* The file-only flag (HDFS' -rm without -r) refuses any directory, empty or not, in the same
 * apply as the removal; the dir-only flag (-rmdir) removes empty directories only. A refusal
 * changes nothing in the namespace. */
static void test_rm_file_only(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/e", 0), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/d/f", "abc", KV_F_PARENTS), RV_OK);
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(kv_t_rm(s_e, "/e", KV_F_FILE_ONLY), RV_EISDIR, "rm /e: is a directory");
  s_expect(kv_t_rm(s_e, "/d", KV_F_FILE_ONLY), RV_EISDIR, "rm /d: is a directory");
  s_expect(kv_t_rm(s_e, "/", KV_F_FILE_ONLY), RV_EISDIR, "rm /: is a directory");
  s_expect(kv_t_rm(s_e, "/nope", KV_F_FILE_ONLY), RV_ENOTFOUND, "/nope: no such file");
  s_expect(kv_t_rm(s_e, "/d/f/x", KV_F_FILE_ONLY), RV_ENOTDIR, "/d/f is not a directory");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before);
  assert_true(s_exists("/e"));
  s_expect(kv_t_rm(s_e, "/d/f", KV_F_FILE_ONLY), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 1);
  assert_false(s_exists("/d/f"));
  s_count_is("/", 3, 0, 0);
}

static void test_rm_dir_only(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/e/sub", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/f", "abc", 0), RV_OK);
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(kv_t_rm(s_e, "/f", KV_F_DIR_ONLY), RV_ENOTDIR, "rm /f: is not a directory");
  s_expect(kv_t_rm(s_e, "/e", KV_F_DIR_ONLY), RV_ENOTEMPTY, "rm /e: directory not empty");
  s_expect(kv_t_rm(s_e, "/", KV_F_DIR_ONLY), RV_EINVAL, "refusing to remove the root");
  s_expect(kv_t_rm(s_e, "/x/y", KV_F_DIR_ONLY), RV_ENOTFOUND, "/x: no such file");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before);
  s_e->now += 1000;
  s_expect(kv_t_rm(s_e, "/e/sub", KV_F_DIR_ONLY), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 1);
  assert_true(s_stat("/e").attr.mtime_ms == s_e->now); /* the parent changed */
  s_expect(kv_t_rm(s_e, "/e", KV_F_DIR_ONLY), RV_OK, NULL);
  assert_false(s_exists("/e"));
  s_count_is("/", 1, 1, 3);
}

/* Two of rm's flags at once are a contradiction, refused at apply (the decoder takes each). */
static void test_rm_flags_exclude_one_another(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/e", 0), RV_OK);
  static const uint8_t pairs[] = {KV_F_RECURSIVE | KV_F_FILE_ONLY, KV_F_RECURSIVE | KV_F_DIR_ONLY,
                                  KV_F_FILE_ONLY | KV_F_DIR_ONLY,
                                  KV_F_RECURSIVE | KV_F_FILE_ONLY | KV_F_DIR_ONLY};
  for (size_t i = 0; i < sizeof pairs; i++)
    s_expect(kv_t_rm(s_e, "/e", pairs[i]), RV_EINVAL, "contradict one another");
  assert_true(s_exists("/e"));
}

/* A deep tree with files at every level: rm -r in the middle updates every ancestor. */
static void test_rm_r_deep_tree_updates_ancestors(void **state) {
  char p[512] = "";
  size_t len = 0;
  for (int lvl = 0; lvl < 30; lvl++) {
    len += (size_t)snprintf(p + len, sizeof p - len, "/l%d", lvl);
    char f[600];
    snprintf(f, sizeof f, "%s/file", p);
    assert_int_equal(kv_t_put(s_e, f, "0123456789", KV_F_PARENTS), RV_OK);
  }
  s_count_is("/", 31, 30, 300);
  s_count_is("/l0/l1/l2", 28, 28, 280);
  s_expect(kv_t_rm(s_e, "/l0/l1/l2/l3", KV_F_RECURSIVE), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 27 + 27); /* l3..l29 and their files */
  s_count_is("/", 4, 3, 30);
  s_count_is("/l0", 3, 3, 30);
  s_count_is("/l0/l1", 2, 2, 20);
  s_count_is("/l0/l1/l2", 1, 1, 10);
  assert_int_equal(s_stat("/l0/l1/l2").attr.nchildren, 1);
  assert_false(s_exists("/l0/l1/l2/l3"));
}

/* A wide and deep tree goes entirely, keys included. */
static void test_rm_r_big_tree_leaves_no_keys(void **state) {
  size_t base = kv_memstore_count(s_e->ms);
  char p[128];
  for (int a = 0; a < 20; a++) {
    for (int b = 0; b < 10; b++) {
      snprintf(p, sizeof p, "/top/a%d/b%d/f", a, b);
      assert_int_equal(kv_t_put(s_e, p, b % 2 ? "xyz" : "", KV_F_PARENTS), RV_OK);
      snprintf(p, sizeof p, "/top/a%d/b%d/empty", a, b);
      assert_int_equal(kv_t_mkdir(s_e, p, 0), RV_OK);
    }
  }
  s_count_is("/top", 1 + 20 + 200 + 200, 200, 300);
  s_expect(kv_t_rm(s_e, "/top", KV_F_RECURSIVE), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 621);
  s_count_is("/", 1, 0, 0);
  assert_int_equal(kv_memstore_count(s_e->ms), base); /* root + meta, as at the start */
}

static void test_rm_r_size_limit(void **state) {
  kv_t_env_destroy(&s_e);
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.rm_max_entries = 5;
  s_e = kv_t_env_new(&cfg);
  for (int i = 0; i < 4; i++) {
    char p[32];
    snprintf(p, sizeof p, "/d/f%d", i);
    assert_int_equal(kv_t_put(s_e, p, "x", KV_F_PARENTS), RV_OK);
  }
  s_expect(kv_t_rm(s_e, "/d", KV_F_RECURSIVE), RV_OK, NULL); /* 5 entries: at the limit */
  for (int i = 0; i < 5; i++) {
    char p[32];
    snprintf(p, sizeof p, "/d/f%d", i);
    assert_int_equal(kv_t_put(s_e, p, "x", KV_F_PARENTS), RV_OK);
  }
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(kv_t_rm(s_e, "/d", KV_F_RECURSIVE), RV_ETOOBIG,
           "rm -r /d: 6 entries exceed the 5 one command may remove");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before);
  s_expect(kv_t_rm(s_e, "/d/f0", 0), RV_OK, NULL);
  s_expect(kv_t_rm(s_e, "/d", KV_F_RECURSIVE), RV_OK, NULL);
}

/* ---- mv ---- */

static void test_mv_rename_and_across(void **state) {
  assert_int_equal(kv_t_put(s_e, "/a/f", "hello", KV_F_PARENTS), RV_OK);
  uint64_t ino = s_e->res.inode;
  int64_t made = s_e->now;
  assert_int_equal(kv_t_mkdir(s_e, "/b/c", KV_F_PARENTS), RV_OK);
  s_e->now += 500;
  s_expect(kv_t_mv(s_e, "/a/f", "/a/g"), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_MV);
  assert_int_equal(s_e->res.inode, ino);
  assert_false(s_exists("/a/f"));
  kv_stat_t st = s_stat("/a/g");
  assert_int_equal(st.inode, ino);
  assert_true(st.attr.mtime_ms == made); /* the moved entry keeps its times */
  assert_int_equal(s_stat("/a").attr.nchildren, 1);
  s_e->now += 500;
  s_expect(kv_t_mv(s_e, "/a/g", "/b/c/h"), RV_OK, NULL);
  s_count_is("/a", 1, 0, 0);
  s_count_is("/b", 2, 1, 5);
  s_count_is("/b/c", 1, 1, 5);
  s_count_is("/", 4, 1, 5);
  assert_true(s_stat("/a").attr.mtime_ms == s_e->now);
  assert_true(s_stat("/b/c").attr.mtime_ms == s_e->now);
  kv_buf_t out;
  kv_buf_init(&out);
  rv_err_t err;
  assert_int_equal(kv_core_cat(s_e->core, "/b/c/h", 6, &out, &err), RV_OK);
  assert_memory_equal(out.data, "hello", 5);
  kv_buf_close(&out);
}

static void test_mv_directory_subtree(void **state) {
  for (int i = 0; i < 10; i++) {
    char p[64];
    snprintf(p, sizeof p, "/src/sub%d/f", i);
    assert_int_equal(kv_t_put(s_e, p, "abcd", KV_F_PARENTS), RV_OK);
  }
  assert_int_equal(kv_t_mkdir(s_e, "/x/y", KV_F_PARENTS), RV_OK);
  s_expect(kv_t_mv(s_e, "/src", "/x/y/moved"), RV_OK, NULL);
  s_count_is("/x", 2 + 11, 10, 40);
  s_count_is("/x/y/moved", 11, 10, 40);
  s_count_is("/", 14, 10, 40);
  assert_true(s_exists("/x/y/moved/sub7/f"));
  assert_false(s_exists("/src"));
}

static void test_mv_into_existing_directory(void **state) {
  assert_int_equal(kv_t_put(s_e, "/a/f", "x", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  /* HDFS: the destination is a directory, so the source goes inside it */
  s_expect(kv_t_mv(s_e, "/a/f", "/d"), RV_OK, NULL);
  assert_true(s_exists("/d/f"));
  s_expect(kv_t_mv(s_e, "/a", "/d"), RV_OK, NULL);
  assert_true(s_exists("/d/a"));
  /* into the root */
  s_expect(kv_t_mv(s_e, "/d/a", "/"), RV_OK, NULL);
  assert_true(s_exists("/a"));
  s_count_is("/d", 1, 1, 1);
}

static void test_mv_errors(void **state) {
  assert_int_equal(kv_t_put(s_e, "/a/b/c/f", "x", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/file", "y", 0), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/d/f", "z", KV_F_PARENTS), RV_OK);
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(kv_t_mv(s_e, "/a", "/a"), RV_EINVAL,
           "mv /a /a: cannot move a directory into itself or its descendant");
  s_expect(kv_t_mv(s_e, "/a", "/a/b"), RV_EINVAL, "into itself or its descendant");
  s_expect(kv_t_mv(s_e, "/a", "/a/b/c"), RV_EINVAL, "into itself or its descendant");
  s_expect(kv_t_mv(s_e, "/a", "/a/b/c/new"), RV_EINVAL, "into itself or its descendant");
  s_expect(kv_t_mv(s_e, "/a/b", "/a/b/c/new"), RV_EINVAL, "into itself or its descendant");
  s_expect(kv_t_mv(s_e, "/", "/x"), RV_EINVAL, "mv / /x: cannot move the root directory");
  s_expect(kv_t_mv(s_e, "/nope", "/x"), RV_ENOTFOUND,
           "mv /nope /x: /nope: no such file or directory");
  s_expect(kv_t_mv(s_e, "/file", "/d/f"), RV_EEXIST,
           "mv /file /d/f: destination exists and is not a directory");
  s_expect(kv_t_mv(s_e, "/file", "/file"), RV_EEXIST, "destination exists");
  s_expect(kv_t_mv(s_e, "/d/f", "/d"), RV_EEXIST, "mv /d/f /d: /d/f already exists");
  assert_int_equal(kv_t_put(s_e, "/f", "w", 0), RV_OK);
  before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(kv_t_mv(s_e, "/f", "/d"), RV_EEXIST, "mv /f /d: /d/f already exists");
  s_expect(kv_t_mv(s_e, "/d", "/"), RV_EEXIST, "mv /d /: /d already exists");
  s_expect(kv_t_mv(s_e, "/file", "/nope/x"), RV_ENOTFOUND, "mv /file /nope/x: /nope: no such file");
  s_expect(kv_t_mv(s_e, "/file", "/nope/x/y"), RV_ENOTFOUND, "/nope: no such file");
  s_expect(kv_t_mv(s_e, "/d", "/file/x"), RV_ENOTDIR, "mv /d /file/x: /file is not a directory");
  s_expect(kv_t_mv(s_e, "/d", "/bad//x"), RV_EINVAL, "mv: path \"/bad//x\": empty component");
  s_expect(kv_t_mv(s_e, "/d/..", "/x"), RV_EINVAL, "component 2 is \"..\"");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_rm_file, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_dirs, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_errors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_file_only, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_dir_only, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_flags_exclude_one_another, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_r_deep_tree_updates_ancestors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_r_big_tree_leaves_no_keys, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_rm_r_size_limit, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mv_rename_and_across, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mv_directory_subtree, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mv_into_existing_directory, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mv_errors, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
