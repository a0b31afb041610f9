/* Unit tests of cli_fs_mode: chmod modes (octal; symbolic clauses, X, t, '=', several clauses in
 * order), chown's [OWNER][:[GROUP]], chgrp's GROUP and touch's yyyyMMdd:HHmmss, with every
 * refusal naming the argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_fs_mode.h"

/* The bits mode gives an entry that has perm (a directory when dir). */
static unsigned s_apply(const char *mode, unsigned perm, bool dir) {
  cli_fs_mode_t m;
  char why[512];
  if (cli_fs_mode_parse(mode, &m, why, sizeof why)) fail_msg("mode \"%s\" refused: %s", mode, why);
  return cli_fs_mode_apply(&m, perm, dir);
}

static void s_apply_is(const char *mode, unsigned perm, bool dir, unsigned want) {
  unsigned got = s_apply(mode, perm, dir);
  if (got != want) fail_msg("%s on %04o: got %04o, want %04o", mode, perm, got, want);
}

static void s_refused(const char *mode, const char *frag) {
  cli_fs_mode_t m;
  char why[512];
  if (cli_fs_mode_parse(mode, &m, why, sizeof why) == 0) fail_msg("mode \"%s\" accepted", mode);
  if (!strstr(why, frag)) fail_msg("mode \"%s\": \"%s\" lacks \"%s\"", mode, why, frag);
}

static void test_octal(void **state) {
  s_apply_is("755", 0644, false, 0755);
  s_apply_is("0640", 0777, true, 0640);
  s_apply_is("1777", 0755, true, 01777);
  s_apply_is("000", 0755, false, 0);
  s_apply_is("+644", 0, false, 0644); /* Hadoop's pattern allows a '+' first */
  cli_fs_mode_t m;
  char why[256];
  assert_int_equal(cli_fs_mode_parse("755", &m, why, sizeof why), 0);
  assert_true(m.octal);
  s_refused("4755", "HDFS has no setuid or setgid");
  s_refused("75", "an octal mode is 3 digits");
  s_refused("07555", "an octal mode is 3 digits");
  s_refused("789", "is not octal");
  s_refused("", "is empty");
}

static void test_symbolic(void **state) {
  s_apply_is("u+x", 0644, false, 0744);
  s_apply_is("go-w", 0777, false, 0755);
  s_apply_is("a=r", 0755, true, 0444);
  s_apply_is("=rw", 0700, false, 0666); /* no who: all classes */
  s_apply_is("+x", 0644, false, 0755);
  s_apply_is("ug+rw,o-rwx", 0604, false, 0660);
  s_apply_is("u+r,u+w", 0, false, 0600); /* clauses apply in order, both count */
  s_apply_is("u=rwx,g=rx,o-rwx", 0117, false, 0750);
}

static void test_symbolic_special(void **state) {
  /* X: x only for directories or entries with some x already */
  s_apply_is("a+X", 0644, false, 0644);
  s_apply_is("a+X", 0644, true, 0755);
  s_apply_is("go+X", 0744, false, 0755);
  /* t: the sticky bit, with o only (as Hadoop) */
  s_apply_is("o+t", 0755, true, 01755);
  s_apply_is("+t", 0755, true, 01755);
  s_apply_is("u+t", 0755, true, 0755);
  s_apply_is("o-t", 01777, true, 0777);
  s_apply_is("o=rx", 01777, true, 0775); /* '=' on o resets t too */
  s_apply_is("u=rwx", 01755, true, 01755); /* ... but not '=' on u */
  s_apply_is("u+-x", 0755, false, 0655); /* several operators: the last one counts (Hadoop) */
  s_apply_is("u+x,", 0644, false, 0744); /* a trailing comma, as Hadoop's pattern allows */
}

static void test_symbolic_refused(void **state) {
  s_refused("u", "clause 1: expected an operator");
  s_refused("u+", "clause 1: expected permissions");
  s_refused("u+q", "clause 1: expected permissions");
  s_refused("o=", "clause 1: expected permissions"); /* Hadoop wants at least one */
  s_refused("u+x,g", "clause 2: expected an operator");
  s_refused("u+x;g+w", "clause 1: unexpected ';'");
  s_refused("u+x,,g+w", "clause 2: expected an operator");
  s_refused("z+x", "expected an operator");
  s_refused("-R", "expected permissions"); /* so "-R" is never mistaken for a mode */
  char many[128] = "";
  for (int i = 0; i < CLI_FS_MODE_CLAUSES + 1; i++) strcat(many, "u+x,");
  s_refused(many, "more than 16 clauses");
}

static void test_owner(void **state) {
  char o[CLI_FS_NAME_MAX + 1], g[CLI_FS_NAME_MAX + 1], why[256];
  assert_int_equal(cli_fs_owner_parse("alice", o, g, why, sizeof why), 0);
  assert_string_equal(o, "alice");
  assert_string_equal(g, "");
  assert_int_equal(cli_fs_owner_parse("alice:staff", o, g, why, sizeof why), 0);
  assert_string_equal(o, "alice");
  assert_string_equal(g, "staff");
  assert_int_equal(cli_fs_owner_parse(":staff", o, g, why, sizeof why), 0);
  assert_string_equal(o, "");
  assert_string_equal(g, "staff");
  assert_int_equal(cli_fs_owner_parse("svc-1.x@REALM:g_2/x", o, g, why, sizeof why), 0);
  assert_string_equal(o, "svc-1.x@REALM");
  assert_int_equal(cli_fs_owner_parse("bob:", o, g, why, sizeof why), 0);
  assert_string_equal(g, "");
  assert_int_equal(cli_fs_owner_parse("", o, g, why, sizeof why), -1);
  assert_non_null(strstr(why, "\"\" names neither an owner nor a group"));
  assert_int_equal(cli_fs_owner_parse(":", o, g, why, sizeof why), -1);
  assert_non_null(strstr(why, "names neither"));
  assert_int_equal(cli_fs_owner_parse("a b", o, g, why, sizeof why), -1);
  assert_non_null(strstr(why, "\"a b\": the owner holds ' '"));
  assert_int_equal(cli_fs_owner_parse("a:b:c", o, g, why, sizeof why), -1);
  assert_non_null(strstr(why, "the group holds ':'"));
  char longname[80];
  memset(longname, 'x', 65);
  longname[65] = '\0';
  assert_int_equal(cli_fs_owner_parse(longname, o, g, why, sizeof why), -1);
  assert_non_null(strstr(why, "longer than 64 bytes"));
  longname[64] = '\0';
  assert_int_equal(cli_fs_owner_parse(longname, o, g, why, sizeof why), 0);
  assert_int_equal(cli_fs_group_check("staff", why, sizeof why), 0);
  assert_int_equal(cli_fs_group_check("", why, sizeof why), -1);
  assert_non_null(strstr(why, "the group is empty"));
  assert_int_equal(cli_fs_group_check("st\taff", why, sizeof why), -1);
  assert_non_null(strstr(why, "the group holds '?'"));
}

static void test_timestamp(void **state) {
  setenv("TZ", "UTC", 1);
  int64_t ms;
  char why[256];
  assert_int_equal(cli_fs_timestamp_parse("20240131:235959", &ms, why, sizeof why), 0);
  assert_true(ms == 1706745599000ll);
  assert_int_equal(cli_fs_timestamp_parse("19700101:000000", &ms, why, sizeof why), 0);
  assert_true(ms == 0);
  assert_int_equal(cli_fs_timestamp_parse("20240229:120000", &ms, why, sizeof why), 0);
  static const char *const shape[] = {"2024013:235959", "20240131235959", "20240131:23595",
                                      "2024-01-31", "", "20240131:2359590", "2024013a:235959"};
  for (size_t i = 0; i < sizeof shape / sizeof shape[0]; i++) {
    assert_int_equal(cli_fs_timestamp_parse(shape[i], &ms, why, sizeof why), -1);
    assert_non_null(strstr(why, "expected yyyyMMdd:HHmmss"));
    assert_non_null(strstr(why, shape[i]));
  }
  static const char *const none[] = {"20230229:000000", "20241301:000000", "20240100:000000",
                                     "20240131:240000", "20240131:236000", "20240131:235960"};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
    assert_int_equal(cli_fs_timestamp_parse(none[i], &ms, why, sizeof why), -1);
    assert_non_null(strstr(why, "no such date or time"));
  }
  /* local time, as Hadoop's SimpleDateFormat */
  setenv("TZ", "CET-1", 1);
  assert_int_equal(cli_fs_timestamp_parse("19700101:010000", &ms, why, sizeof why), 0);
  assert_true(ms == 0);
  setenv("TZ", "UTC", 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_octal),
      cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_symbolic_special),
      cmocka_unit_test(test_symbolic_refused),
      cmocka_unit_test(test_owner),
      cmocka_unit_test(test_timestamp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
