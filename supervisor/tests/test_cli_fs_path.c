/* Unit tests of cli_fs_path: Hadoop's three path forms, normalisation, refused schemes and how
 * paths found from a typed one are shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_fs_path.h"

static const char *s_cwd = "/user/alice";

static cli_fs_uri_t s_u;

static const char *s_abs(const char *typed) {
  char why[128];
  if (cli_fs_uri_parse(typed, s_cwd, &s_u, why, sizeof why)) fail_msg("%s: %s", typed, why);
  return s_u.path;
}

static void test_forms(void **state) {
  (void)state;
  assert_string_equal(s_abs("/a/b"), "/a/b");
  assert_int_equal(s_u.kind, CLI_FS_ABSOLUTE);
  assert_string_equal(s_abs("dir1"), "/user/alice/dir1");
  assert_int_equal(s_u.kind, CLI_FS_RELATIVE);
  assert_string_equal(s_abs("."), "/user/alice");
  assert_string_equal(s_abs("./x/"), "/user/alice/x");
  assert_string_equal(s_abs(".."), "/user");
  assert_string_equal(s_abs("../../../.."), "/");
  assert_string_equal(s_abs("hdfs://localhost:8020/dir0/f"), "/dir0/f");
  assert_int_equal(s_u.kind, CLI_FS_HAS_SCHEME);
  assert_string_equal(s_u.scheme, "hdfs");
  assert_string_equal(s_u.authority, "localhost:8020");
  assert_string_equal(s_abs("jfs://test/"), "/");
  assert_string_equal(s_u.authority, "test");
  assert_string_equal(s_abs("RV://c1"), "/");
  assert_string_equal(s_abs("hdfs:///x"), "/x");
  assert_string_equal(s_u.authority, "");
  assert_string_equal(s_abs("hdfs:/x"), "/x");
  assert_string_equal(s_abs("//a///b/./c/../d/"), "/a/b/d");
  assert_string_equal(s_abs("/a\\*b"), "/a\\*b"); /* escapes are the glob's */
}

static void s_refused(const char *typed, const char *want) {
  char why[128];
  assert_int_equal(cli_fs_uri_parse(typed, s_cwd, &s_u, why, sizeof why), -1);
  if (!strstr(why, want)) fail_msg("%s: \"%s\" lacks \"%s\"", typed, why, want);
}

static void test_refusals(void **state) {
  (void)state;
  s_refused("", "Can not create a Path from an empty string");
  s_refused("s3a://bucket/x", "No FileSystem for scheme \"s3a\"");
  s_refused("file:///tmp", "No FileSystem for scheme \"file\"");
  s_refused("hdfs:x", "Relative path in absolute URI");
  char *big = malloc(CLI_FS_PATH_MAX + 10);
  memset(big, 'a', CLI_FS_PATH_MAX + 9);
  big[0] = '/';
  big[CLI_FS_PATH_MAX + 9] = '\0';
  s_refused(big, "too long");
  free(big);
}

static void s_show(const char *typed, const char *abs, const char *want) {
  s_abs(typed);
  char out[256];
  cli_fs_show_match(&s_u, abs, s_cwd, out, sizeof out);
  assert_string_equal(out, want);
}

static void test_show(void **state) {
  (void)state;
  s_show("/d*", "/dir0", "/dir0");
  s_show("d*", "/user/alice/dir0", "dir0");
  s_show("*", "/user/alice/a/b", "a/b");
  s_show("../*", "/user/bob", "../bob");
  s_show("../../*", "/tmp", "../../tmp");
  s_show("x", "/user/alicex", "../alicex");
  s_show("*", "/user/alice/d/e", "d/e");
  s_show(".", "/user/alice", ".");
  s_show("hdfs://nn:8020/d*", "/dir0", "hdfs://nn:8020/dir0");
  s_show("hdfs:///d*", "/dir0", "hdfs:///dir0");
  char *c = cli_fs_show_child(".", "x");
  assert_string_equal(c, "x");
  free(c);
  c = cli_fs_show_child("d/", "x");
  assert_string_equal(c, "d/x");
  free(c);
  c = cli_fs_show_child("hdfs://nn:8020/", "x");
  assert_string_equal(c, "hdfs://nn:8020/x");
  free(c);
  char home[64];
  cli_fs_home("alice", home, sizeof home);
  assert_string_equal(home, "/user/alice");
}

/* Local files as Hadoop's CLI tests name them (File.toURI: "file:/dir/"), other hosts' refused. */
static void test_local(void **state) {
  (void)state;
  assert_string_equal(cli_fs_local_path("file:/tmp/d//f"), "/tmp/d//f");
  assert_string_equal(cli_fs_local_path("file:///tmp/f"), "/tmp/f");
  assert_string_equal(cli_fs_local_path("FILE://localhost/tmp/f"), "/tmp/f");
  assert_string_equal(cli_fs_local_path("file://otherhost/tmp/f"), "file://otherhost/tmp/f");
  assert_string_equal(cli_fs_local_path("file:rel"), "file:rel");
  assert_string_equal(cli_fs_local_path("/tmp/f"), "/tmp/f");
  assert_string_equal(cli_fs_local_path("-"), "-");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forms),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_show),
      cmocka_unit_test(test_local),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
