/* Unit tests of ots_buf: growth across many appends, little-endian stores and loads, the sticky
 * failure flag on an impossible reservation, reset and close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ots_buf.h"

static void test_little_endian_round_trip(void **state) {
  ots_buf_t b;
  ots_buf_init(&b);
  ots_buf_put_u8(&b, 0x75);
  ots_buf_put_u32le(&b, 0x11223344u);
  ots_buf_put_u64le(&b, 0x0102030405060708ull);
  assert_true(ots_buf_ok(&b));
  assert_int_equal(b.len, 13);
  const uint8_t want[] = {0x75, 0x44, 0x33, 0x22, 0x11, 8, 7, 6, 5, 4, 3, 2, 1};
  assert_memory_equal(b.data, want, sizeof want);
  assert_int_equal(ots_le32_get(b.data + 1), 0x11223344u);
  assert_true(ots_le64_get(b.data + 5) == 0x0102030405060708ull);
  ots_buf_close(&b);
  assert_null(b.data);
  ots_buf_close(&b);
}

static void test_growth_keeps_contents(void **state) {
  ots_buf_t b;
  ots_buf_init(&b);
  for (unsigned i = 0; i < 100000; i++) ots_buf_put_u8(&b, (uint8_t)(i * 31));
  assert_true(ots_buf_ok(&b));
  assert_int_equal(b.len, 100000);
  for (unsigned i = 0; i < 100000; i++) assert_int_equal(b.data[i], (uint8_t)(i * 31));
  ots_bytes_t v = ots_buf_bytes(&b);
  assert_ptr_equal(v.p, b.data);
  ots_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_true(b.cap >= 100000);
  ots_buf_close(&b);
}

static void test_impossible_reservation_is_sticky(void **state) {
  ots_buf_t b;
  ots_buf_init(&b);
  ots_buf_put_u8(&b, 1);
  assert_false(ots_buf_reserve(&b, SIZE_MAX - 8));
  assert_false(ots_buf_ok(&b));
  ots_buf_put_u8(&b, 2); /* ignored after a failure */
  assert_int_equal(b.len, 1);
  ots_buf_reset(&b);
  assert_true(ots_buf_ok(&b));
  ots_buf_put_u8(&b, 3);
  assert_int_equal(b.data[0], 3);
  ots_buf_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_little_endian_round_trip),
      cmocka_unit_test(test_growth_keeps_contents),
      cmocka_unit_test(test_impossible_reservation_is_sticky),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
