/* Unit tests of kv_snap: the snapshot pair format round-trips, and every malformed chunk
 * (truncated anywhere, a length out of bounds) is refused without reading past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_snap.h"

static void test_roundtrip(void **state) {
  (void)state;
  kv_buf_t b;
  kv_buf_init(&b);
  assert_int_equal(kv_snap_put(&b, "a", 1, "", 0), RV_OK);
  assert_int_equal(kv_snap_put(&b, "key2", 4, "value2", 6), RV_OK);
  assert_true(kv_buf_ok(&b));
  kv_snap_cursor_t c;
  kv_snap_cursor_init(&c, b.data, b.len);
  kv_bytes_t k, v;
  rv_err_t err;
  assert_int_equal(kv_snap_next(&c, &k, &v, &err), 1);
  assert_int_equal(k.len, 1);
  assert_memory_equal(k.p, "a", 1);
  assert_int_equal(v.len, 0);
  assert_int_equal(kv_snap_next(&c, &k, &v, &err), 1);
  assert_memory_equal(k.p, "key2", 4);
  assert_int_equal(v.len, 6);
  assert_memory_equal(v.p, "value2", 6);
  assert_int_equal(kv_snap_next(&c, &k, &v, &err), 0);
  kv_buf_close(&b);
}

static void test_empty_chunk(void **state) {
  (void)state;
  kv_snap_cursor_t c;
  kv_snap_cursor_init(&c, NULL, 0);
  kv_bytes_t k, v;
  assert_int_equal(kv_snap_next(&c, &k, &v, NULL), 0);
}

static void test_put_refuses_bad_lengths(void **state) {
  (void)state;
  kv_buf_t b;
  kv_buf_init(&b);
  assert_int_equal(kv_snap_put(&b, "", 0, "x", 1), RV_ETOOBIG);
  char *big = calloc(1, KV_SNAP_KEY_MAX + 1);
  assert_int_equal(kv_snap_put(&b, big, KV_SNAP_KEY_MAX + 1, "x", 1), RV_ETOOBIG);
  assert_int_equal(kv_snap_put(&b, "k", 1, big, (size_t)KV_SNAP_VAL_MAX + 1), RV_ETOOBIG);
  assert_int_equal(b.len, 0);
  free(big);
  kv_buf_close(&b);
}

/* Every strict prefix of a one-pair chunk that is not empty is truncated: refused. */
static void test_every_truncation_refused(void **state) {
  (void)state;
  kv_buf_t b;
  kv_buf_init(&b);
  kv_snap_put(&b, "key", 3, "value", 5);
  for (size_t n = 1; n < b.len; n++) {
    uint8_t *copy = malloc(n);
    memcpy(copy, b.data, n);
    kv_snap_cursor_t c;
    kv_snap_cursor_init(&c, copy, n);
    kv_bytes_t k, v;
    rv_err_t err;
    assert_int_equal(kv_snap_next(&c, &k, &v, &err), -RV_EDECODE);
    assert_int_equal(err.code, RV_EDECODE);
    /* the cursor stays failed */
    assert_int_equal(kv_snap_next(&c, &k, &v, &err), -RV_EDECODE);
    free(copy);
  }
  kv_buf_close(&b);
}

static void test_oversized_lengths_refused(void **state) {
  (void)state;
  /* key length 0 */
  uint8_t zero[8] = {0};
  kv_snap_cursor_t c;
  kv_bytes_t k, v;
  rv_err_t err;
  kv_snap_cursor_init(&c, zero, sizeof zero);
  assert_int_equal(kv_snap_next(&c, &k, &v, &err), -RV_EDECODE);
  /* a key length of 4 GiB - 1 (would wrap a careless bounds check) */
  uint8_t huge[12] = {0xff, 0xff, 0xff, 0xff, 'k'};
  kv_snap_cursor_init(&c, huge, sizeof huge);
  assert_int_equal(kv_snap_next(&c, &k, &v, &err), -RV_EDECODE);
  /* a value length beyond the bound */
  uint8_t bigval[9] = {1, 0, 0, 0, 'k', 0xff, 0xff, 0xff, 0xff};
  kv_snap_cursor_init(&c, bigval, sizeof bigval);
  assert_int_equal(kv_snap_next(&c, &k, &v, &err), -RV_EDECODE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_empty_chunk),
      cmocka_unit_test(test_put_refuses_bad_lengths),
      cmocka_unit_test(test_every_truncation_refused),
      cmocka_unit_test(test_oversized_lengths_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
