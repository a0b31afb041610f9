/* Unit tests of kv_snapshot_recover: a crash at any point of a snapshot install leaves
 * <data-dir>/kv holding either the old database or the new one, never a mix, and no leftovers.
 * The install's steps are: write kv.snap; rename kv.snap -> kv.new (the commit point); rename
 * kv -> kv.old; rename kv.new -> kv; remove kv.old. Each test builds the directories a crash
 * between two steps leaves (each "database" a directory with a file naming it) and recovers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kv_actor_int.h"

static char s_dir[64];

static void s_db(const char *name, const char *what) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", s_dir, name);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/%s/which", s_dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(what, f);
  fclose(f);
}

static bool s_has(const char *name) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", s_dir, name);
  return access(path, F_OK) == 0;
}

/* Recovers and checks that kv holds `want` and nothing else is left. */
static void s_recover_expect(const char *want) {
  rv_err_t err;
  assert_int_equal(kv_snapshot_recover(s_dir, &err), RV_OK);
  char path[128], got[16] = "";
  snprintf(path, sizeof path, "%s/kv/which", s_dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(got, sizeof got, f));
  fclose(f);
  assert_string_equal(got, want);
  assert_false(s_has("kv.snap"));
  assert_false(s_has("kv.new"));
  assert_false(s_has("kv.old"));
  /* recovering again changes nothing */
  assert_int_equal(kv_snapshot_recover(s_dir, &err), RV_OK);
  assert_true(s_has("kv"));
}

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvkvsnap.XXXXXX");
  return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

static void test_nothing_to_do(void **state) {
  (void)state;
  s_db("kv", "old");
  s_recover_expect("old");
}

static void test_crash_while_writing_keeps_old(void **state) {
  (void)state;
  s_db("kv", "old");
  s_db("kv.snap", "partial");
  s_recover_expect("old");
}

static void test_crash_after_commit_point_takes_new(void **state) {
  (void)state;
  s_db("kv", "old");
  s_db("kv.new", "new");
  s_recover_expect("new");
}

static void test_crash_after_moving_old_aside_takes_new(void **state) {
  (void)state;
  s_db("kv.old", "old");
  s_db("kv.new", "new");
  s_recover_expect("new");
}

static void test_crash_before_removing_old_takes_new(void **state) {
  (void)state;
  s_db("kv", "new");
  s_db("kv.old", "old");
  s_recover_expect("new");
}

static void test_a_new_node_has_nothing(void **state) {
  (void)state;
  rv_err_t err;
  assert_int_equal(kv_snapshot_recover(s_dir, &err), RV_OK);
  assert_false(s_has("kv"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_nothing_to_do, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_crash_while_writing_keeps_old, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_crash_after_commit_point_takes_new, s_setup,
                                      s_teardown),
      cmocka_unit_test_setup_teardown(test_crash_after_moving_old_aside_takes_new, s_setup,
                                      s_teardown),
      cmocka_unit_test_setup_teardown(test_crash_before_removing_old_takes_new, s_setup,
                                      s_teardown),
      cmocka_unit_test_setup_teardown(test_a_new_node_has_nothing, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
