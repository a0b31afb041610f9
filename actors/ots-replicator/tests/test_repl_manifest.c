/* Unit tests of repl_manifest (the file backend's manifest codec) and repl_crc32c: round trip,
 * the checksum's check value, and every kind of damage refused with RV_ECORRUPT naming the
 * line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repl_crc32c.h"
#include "repl_manifest.h"

static void test_crc32c_check_value(void **state) {
  assert_int_equal(repl_crc32c(0, "123456789", 9), 0xE3069283u);
  /* chaining equals one pass */
  assert_int_equal(repl_crc32c(repl_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
  assert_int_equal(repl_crc32c(7, NULL, 0), 7);
}

static void s_sample(repl_manifest_t *m) {
  repl_manifest_init(m);
  m->seq = 17;
  m->meta.format = 1;
  snprintf(m->meta.cluster_id, sizeof m->meta.cluster_id, "c1");
  m->meta.synced_index = 1234;
  m->meta.term = 5;
  m->meta.generation = 2;
  m->meta.updated_ms = 1764760000000;
  m->meta.rows = 10;
  m->meta.bytes = 100;
  rv_err_t err;
  assert_int_equal(repl_manifest_add(m, 'B', "g2-t5-0123456789abcdef.rvs", 4096, 10, &err), 0);
  assert_int_equal(repl_manifest_add(m, 'S', "g2-t5-fedcba9876543210.rvs", 512, 3, &err), 0);
}

static void test_round_trip(void **state) {
  repl_manifest_t m, back;
  s_sample(&m);
  repl_manifest_init(&back);
  char *text;
  size_t len;
  rv_err_t err;
  assert_int_equal(repl_manifest_encode(&m, &text, &len, &err), 0);
  assert_non_null(strstr(text, "synced_index 1234\n"));
  assert_int_equal(repl_manifest_decode(text, len, &back, &err), 0);
  assert_int_equal(back.seq, 17);
  assert_int_equal(back.meta.synced_index, 1234);
  assert_int_equal(back.meta.term, 5);
  assert_int_equal(back.meta.generation, 2);
  assert_int_equal(back.meta.updated_ms, 1764760000000);
  assert_string_equal(back.meta.cluster_id, "c1");
  assert_int_equal(back.nfiles, 2);
  assert_int_equal(back.files[1].kind, 'S');
  assert_string_equal(back.files[1].name, "g2-t5-fedcba9876543210.rvs");
  assert_int_equal(back.files[0].size, 4096);
  assert_int_equal(back.files[0].records, 10);
  assert_int_equal(repl_manifest_count(&back, 'B'), 1);
  free(text);
  repl_manifest_close(&m);
  repl_manifest_close(&back);
}

/* Decodes text, expecting RV_ECORRUPT with `want` in the message. */
static void s_bad(const char *text, const char *want) {
  repl_manifest_t m;
  repl_manifest_init(&m);
  rv_err_t err;
  int rc = repl_manifest_decode(text, strlen(text), &m, &err);
  if (rc != RV_ECORRUPT || !strstr(err.msg, want))
    fail_msg("decode of [%s]: rc %d, \"%s\"; wanted ECORRUPT with \"%s\"", text, rc, err.msg, want);
  assert_int_equal(m.nfiles, 0);
}

static void test_damage_is_refused(void **state) {
  repl_manifest_t m;
  s_sample(&m);
  char *text;
  size_t len;
  rv_err_t err;
  assert_int_equal(repl_manifest_encode(&m, &text, &len, &err), 0);
  /* every single flipped bit is caught (by the checksum or the grammar) */
  for (size_t i = 0; i < len; i++) {
    char *copy = malloc(len);
    memcpy(copy, text, len);
    copy[i] ^= 0x04;
    repl_manifest_t back;
    repl_manifest_init(&back);
    assert_int_equal(repl_manifest_decode(copy, len, &back, &err), RV_ECORRUPT);
    free(copy);
  }
  /* every truncation */
  for (size_t n = 0; n < len; n++) {
    repl_manifest_t back;
    repl_manifest_init(&back);
    assert_int_equal(repl_manifest_decode(text, n, &back, &err), RV_ECORRUPT);
  }
  free(text);
  repl_manifest_close(&m);
  s_bad("rv-replica-manifest 2\n", "line 1: manifest version 2");
  s_bad("hello\n", "not a raftvisor replica manifest");
  s_bad("rv-replica-manifest 1\nwhat 3\n", "line 2: unknown key \"what\"");
  s_bad("rv-replica-manifest 1\nterm 3\nterm 4\n", "line 3: term given twice");
  s_bad("rv-replica-manifest 1\nterm -3\n", "line 2: term: \"-3\" is not a number");
  s_bad("rv-replica-manifest 1\nterm 99999999999999999999\n", "not a number in range");
  s_bad("rv-replica-manifest 1\nfile X g1-t1-0123456789abcdef.rvs 1 1\n", "line 2");
  s_bad("rv-replica-manifest 1\nfile B ../etc/passwd 1 1\n", "is not a data file name");
  s_bad("rv-replica-manifest 1\nend crc32c 00000000\n", "line 2: checksum 00000000");
}

static void test_missing_field(void **state) {
  const char *body = "rv-replica-manifest 1\nseq 1\nformat 1\ncluster c\nsynced_index 0\nterm 1\n"
                     "generation 0\nupdated_ms 0\nrows 0\n";
  char text[512];
  snprintf(text, sizeof text, "%send crc32c %08x\n", body, repl_crc32c(0, body, strlen(body)));
  s_bad(text, "bytes missing");
}

static void test_names(void **state) {
  uint64_t g, t;
  assert_true(repl_manifest_parse_name("g2-t15-0123456789abcdef.rvs", &g, &t));
  assert_int_equal(g, 2);
  assert_int_equal(t, 15);
  assert_false(repl_manifest_parse_name("g2-t15-0123456789abcde.rvs", &g, &t));
  assert_false(repl_manifest_parse_name("g2-t15-0123456789abcdef.rvs.x", &g, &t));
  assert_false(repl_manifest_parse_name(".tmp-t1-0123456789abcdef", &g, &t));
  repl_manifest_t m;
  repl_manifest_init(&m);
  snprintf(m.meta.cluster_id, sizeof m.meta.cluster_id, "a b");
  char *text;
  size_t len;
  rv_err_t err;
  assert_int_equal(repl_manifest_encode(&m, &text, &len, &err), RV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32c_check_value), cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_damage_is_refused),  cmocka_unit_test(test_missing_field),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
