/* Unit tests of kv_codec: big-endian integers, strings, the sticky-failure buffer and reader,
 * FNV-1a known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kv_codec.h"

static void test_be_round_trip_and_byte_order(void **state) {
  uint8_t b[8];
  kv_be64_put(b, 0x0102030405060708ull);
  const uint8_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  assert_memory_equal(b, want, 8);
  assert_int_equal(kv_be64_get(b), 0x0102030405060708ull);
  kv_be32_put(b, 0xa1b2c3d4u);
  assert_int_equal(b[0], 0xa1);
  assert_int_equal(kv_be32_get(b), 0xa1b2c3d4u);
  kv_be16_put(b, 0xbeef);
  assert_int_equal(b[0], 0xbe);
  assert_int_equal(kv_be16_get(b), 0xbeef);
}

static void test_be64_sorts_numerically(void **state) {
  uint8_t a[8], b[8];
  uint64_t vals[] = {0, 1, 255, 256, 65535, 1ull << 32, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 0; i + 1 < sizeof vals / sizeof vals[0]; i++) {
    kv_be64_put(a, vals[i]);
    kv_be64_put(b, vals[i + 1]);
    assert_true(memcmp(a, b, 8) < 0);
  }
}

static void test_buf_and_reader_round_trip(void **state) {
  kv_buf_t b;
  kv_buf_init(&b);
  kv_buf_put_u8(&b, 7);
  kv_buf_put_u16(&b, 0x1234);
  kv_buf_put_u32(&b, 0xdeadbeef);
  kv_buf_put_u64(&b, UINT64_MAX);
  kv_buf_put_i64(&b, -5);
  kv_buf_put_str8(&b, "ab", 2);
  kv_buf_put_str16(&b, "", 0);
  kv_buf_put_str32(&b, "xyz", 3);
  assert_true(kv_buf_ok(&b));
  assert_int_equal(b.len, 1 + 2 + 4 + 8 + 8 + 3 + 2 + 7);

  kv_reader_t r;
  kv_reader_init(&r, b.data, b.len);
  assert_int_equal(kv_reader_u8(&r), 7);
  assert_int_equal(kv_reader_u16(&r), 0x1234);
  assert_int_equal(kv_reader_u32(&r), 0xdeadbeef);
  assert_true(kv_reader_u64(&r) == UINT64_MAX);
  assert_true(kv_reader_i64(&r) == -5);
  kv_bytes_t s;
  assert_true(kv_reader_str8(&r, &s));
  assert_int_equal(s.len, 2);
  assert_memory_equal(s.p, "ab", 2);
  assert_true(kv_reader_str16(&r, &s));
  assert_int_equal(s.len, 0);
  assert_true(kv_reader_str32(&r, &s));
  assert_memory_equal(s.p, "xyz", 3);
  assert_true(kv_reader_done(&r));
  kv_buf_close(&b);
  kv_buf_close(&b); /* safe twice */
}

static void test_reader_truncation_is_sticky(void **state) {
  const uint8_t in[3] = {0, 5, 'a'};
  kv_reader_t r;
  kv_reader_init(&r, in, sizeof in);
  kv_bytes_t s;
  assert_false(kv_reader_str16(&r, &s)); /* claims 5 bytes, has 1 */
  assert_null(s.p);
  assert_int_equal(s.len, 0);
  assert_true(r.failed);
  assert_int_equal(kv_reader_u8(&r), 0);
  assert_int_equal(kv_reader_left(&r), 0);
  assert_false(kv_reader_done(&r));

  kv_reader_init(&r, in, 2);
  assert_int_equal(kv_reader_u32(&r), 0); /* only 2 bytes */
  assert_true(r.failed);

  kv_reader_init(&r, NULL, 10); /* NULL input reads as empty */
  assert_int_equal(kv_reader_left(&r), 0);
  assert_true(kv_reader_done(&r));
  assert_int_equal(kv_reader_u8(&r), 0);
  assert_false(kv_reader_done(&r));
}

static void test_reader_trailing_bytes_not_done(void **state) {
  const uint8_t in[2] = {1, 2};
  kv_reader_t r;
  kv_reader_init(&r, in, sizeof in);
  kv_reader_u8(&r);
  assert_false(kv_reader_done(&r));
  kv_reader_u8(&r);
  assert_true(kv_reader_done(&r));
}

static void test_buf_growth_and_truncate(void **state) {
  kv_buf_t b;
  kv_buf_init(&b);
  for (int i = 0; i < 10000; i++) kv_buf_put_u32(&b, (uint32_t)i);
  assert_true(kv_buf_ok(&b));
  assert_int_equal(b.len, 40000);
  assert_int_equal(kv_be32_get(b.data + 4 * 9999), 9999);
  kv_buf_truncate(&b, 4);
  assert_int_equal(b.len, 4);
  kv_buf_truncate(&b, 100); /* never grows */
  assert_int_equal(b.len, 4);
  kv_buf_reset(&b);
  assert_int_equal(b.len, 0);
  kv_buf_close(&b);
}

static void test_buf_absurd_reserve_fails_sticky(void **state) {
  kv_buf_t b;
  kv_buf_init(&b);
  assert_false(kv_buf_reserve(&b, SIZE_MAX - 8));
  assert_false(kv_buf_ok(&b));
  kv_buf_put_u8(&b, 1); /* ignored */
  assert_int_equal(b.len, 0);
  kv_buf_reset(&b);
  assert_true(kv_buf_ok(&b));
  kv_buf_close(&b);
}

static void test_fnv64_known_answers(void **state) {
  /* Reference values of FNV-1a 64 (Fowler/Noll/Vo test vectors). */
  assert_true(kv_fnv64(KV_FNV64_INIT, "", 0) == 0xcbf29ce484222325ull);
  assert_true(kv_fnv64(KV_FNV64_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
  assert_true(kv_fnv64(KV_FNV64_INIT, "foobar", 6) == 0x85944171f73967e8ull);
  /* Incremental equals one shot. */
  assert_true(kv_fnv64(kv_fnv64(KV_FNV64_INIT, "foo", 3), "bar", 3) == 0x85944171f73967e8ull);
}

/* Keys that differ only in their last byte must spread over a table's buckets. */
static void test_hash64_spreads_trailing_bytes(void **state) {
  uint8_t key[9] = {'S'};
  int used[64] = {0};
  for (int b = 0; b < 256; b++) {
    key[8] = (uint8_t)b;
    used[kv_hash64(key, sizeof key) & 63] = 1;
  }
  int n = 0;
  for (int i = 0; i < 64; i++) n += used[i];
  assert_true(n > 56); /* 256 keys into 64 buckets: nearly all used */
  assert_true(kv_hash64("a", 1) != kv_hash64("b", 1));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_be_round_trip_and_byte_order),
      cmocka_unit_test(test_be64_sorts_numerically),
      cmocka_unit_test(test_buf_and_reader_round_trip),
      cmocka_unit_test(test_reader_truncation_is_sticky),
      cmocka_unit_test(test_reader_trailing_bytes_not_done),
      cmocka_unit_test(test_buf_growth_and_truncate),
      cmocka_unit_test(test_buf_absurd_reserve_fails_sticky),
      cmocka_unit_test(test_fnv64_known_answers),
      cmocka_unit_test(test_hash64_spreads_trailing_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
