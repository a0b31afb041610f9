/* test_srv_fault.c: the fault file of rv-ots-server: counts, percentages, action filters, row
 * failures only for BatchWriteRow, delays, drop and blackhole, reload on change (counters
 * restart), no file = no faults, and a file that does not parse failing every request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv_fault.h"

static char path[64];

static void write_file(const char *text) {
  char tmp[80];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  FILE *f = fopen(tmp, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(rename(tmp, path), 0); /* a new inode: the server sees a new version */
}

static int setup(void **st) {
  snprintf(path, sizeof path, "/tmp/rv-fault-test.%d", (int)getpid());
  unlink(path);
  *st = srv_fault_new(path);
  return *st ? 0 : -1;
}
static int teardown(void **st) {
  srv_fault_t *f = *st;
  srv_fault_destroy(&f);
  assert_null(f);
  unlink(path);
  return 0;
}

static void test_no_file_no_faults(void **st) {
  srv_fault_plan_t p;
  srv_fault_decide(*st, "PutRow", &p);
  assert_int_equal(p.http, 0);
  assert_false(p.drop || p.blackhole || p.delay_ms);
  srv_fault_decide(NULL, "PutRow", &p); /* no fault file at all */
  assert_int_equal(p.http, 0);
}

static void test_count_and_action(void **st) {
  srv_fault_plan_t p;
  write_file("# two busy GetRow answers\nbusy 2 action=GetRow\npartition 1\n");
  srv_fault_decide(*st, "PutRow", &p); /* not GetRow: the partition rule fires */
  assert_int_equal(p.http, 503);
  assert_string_equal(p.code, "OTSPartitionUnavailable");
  assert_string_equal(p.msg, "The partition is not available.");
  for (int i = 0; i < 2; i++) {
    srv_fault_decide(*st, "GetRow", &p);
    assert_int_equal(p.http, 503);
    assert_string_equal(p.code, "OTSServerBusy");
    assert_string_equal(p.what, "busy");
  }
  srv_fault_decide(*st, "GetRow", &p);
  assert_int_equal(p.http, 0);
  write_file("busy 2 action=GetRow\n"); /* a new version: counters restart */
  srv_fault_decide(*st, "GetRow", &p);
  assert_int_equal(p.http, 503);
}

static void test_percent(void **st) {
  srv_fault_plan_t p;
  write_file("conflict 50%\n");
  int hits = 0;
  for (int i = 0; i < 1000; i++) {
    srv_fault_decide(*st, "PutRow", &p);
    if (p.http) { hits++; assert_int_equal(p.http, 409); assert_string_equal(p.code, "OTSRowOperationConflict"); }
  }
  assert_in_range(hits, 400, 600);
  write_file("quota 100%\n");
  srv_fault_decide(*st, "CreateTable", &p);
  assert_int_equal(p.http, 403);
  assert_string_equal(p.msg, "Too frequent table operations.");
}

static void test_rowfail_delay_drop_blackhole(void **st) {
  srv_fault_plan_t p;
  write_file("rowfail 1 1,3 OTSServerBusy\ndelay 250 1\n");
  srv_fault_decide(*st, "PutRow", &p); /* rowfail is for BatchWriteRow only; the delay fires */
  assert_int_equal(p.rowfail.count, 0);
  assert_int_equal(p.delay_ms, 250);
  srv_fault_decide(*st, "BatchWriteRow", &p);
  assert_int_equal(p.rowfail.count, 2);
  assert_int_equal(p.rowfail.index[0], 1);
  assert_int_equal(p.rowfail.index[1], 3);
  assert_string_equal(p.rowfail.code, "OTSServerBusy");
  assert_int_equal(p.delay_ms, 0);
  srv_fault_decide(*st, "BatchWriteRow", &p);
  assert_int_equal(p.rowfail.count, 0);
  write_file("drop 1\nblackhole action=ListTable\n");
  srv_fault_decide(*st, "GetRow", &p);
  assert_true(p.drop);
  srv_fault_decide(*st, "GetRow", &p);
  assert_false(p.drop || p.blackhole);
  for (int i = 0; i < 3; i++) { srv_fault_decide(*st, "ListTable", &p); assert_true(p.blackhole); }
  write_file("corrupt sig 1 action=GetRow\ncorrupt crc 1\n");
  srv_fault_decide(*st, "GetRow", &p); /* the first matching rule wins, one use each */
  assert_int_equal(p.corrupt, SRV_CORRUPT_SIG);
  srv_fault_decide(*st, "GetRow", &p);
  assert_int_equal(p.corrupt, SRV_CORRUPT_CRC);
  srv_fault_decide(*st, "GetRow", &p);
  assert_int_equal(p.corrupt, 0);
}

static void test_bad_file(void **st) {
  const char *bad[][2] = {
    {"bussy 1\n", "unknown directive 'bussy'"}, {"busy\n", "busy takes N or P%"}, {"busy 101%\n", "busy takes N or P%"},
    {"busy -1\n", "busy takes N or P%"}, {"delay\n", "delay takes MS"}, {"delay 1 2 3\n", "delay takes MS"},
    {"rowfail 1 x\n", "bad row index 'x'"}, {"rowfail 1 200\n", "bad row index '200'"}, {"blackhole 1\n", "takes no argument"},
    {"drop many\n", "drop takes N or P%"}, {"\n\nbusy 1 2\n", ":3: busy takes"},
    {"corrupt md5\n", "corrupt takes md5, sig or crc"}, {"corrupt body 1\n", "corrupt takes md5, sig or crc"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    srv_fault_plan_t p;
    write_file(bad[i][0]);
    srv_fault_decide(*st, "PutRow", &p);
    assert_int_equal(p.http, 500);
    assert_string_equal(p.code, "OTSInternalServerError");
    if (!strstr(p.msg, bad[i][1])) fail_msg("'%s': message \"%s\" lacks \"%s\"", bad[i][0], p.msg, bad[i][1]);
  }
  write_file("# fixed\n");
  srv_fault_plan_t p;
  srv_fault_decide(*st, "PutRow", &p);
  assert_int_equal(p.http, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_no_file_no_faults, setup, teardown),
    cmocka_unit_test_setup_teardown(test_count_and_action, setup, teardown),
    cmocka_unit_test_setup_teardown(test_percent, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rowfail_delay_drop_blackhole, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
