/* Unit tests of ots_crc8 against the reference's known answers (section 4.3): the Java SDK's
 * byte sequence, the Elixir client's string/int vectors, the CRC-8/SMBUS check value, and every
 * table entry rebuilt bit by bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ots_crc8.h"

/* The textbook bitwise CRC-8 (poly 0x07), independent of the table. */
static uint8_t s_bitwise(uint8_t crc, uint8_t b) {
  crc ^= b;
  for (int i = 0; i < 8; i++) crc = (uint8_t)(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
  return crc;
}

static void test_table_matches_bitwise(void **state) {
  for (unsigned i = 0; i < 256; i++) assert_int_equal(ots_crc8_u8(0, (uint8_t)i), s_bitwise(0, (uint8_t)i));
  for (unsigned c = 0; c < 256; c += 37)
    for (unsigned i = 0; i < 256; i++)
      assert_int_equal(ots_crc8_u8((uint8_t)c, (uint8_t)i), s_bitwise((uint8_t)c, (uint8_t)i));
}

static void test_check_value_123456789(void **state) {
  assert_int_equal(ots_crc8_bytes(0, "123456789", 9), 0xF4);
}

/* JAVA core/protocol/PlainBufferCrc8Test.testByte: chained from 0. */
static void test_java_byte_sequence(void **state) {
  const uint8_t in[] = {1, 3, 7, 255, 128, 0};
  const uint8_t want[] = {7, 28, 65, 51, 16, 112};
  uint8_t crc = 0;
  for (size_t i = 0; i < sizeof in; i++) {
    crc = ots_crc8_u8(crc, in[i]);
    assert_int_equal(crc, want[i]);
  }
}

/* EX test/crc_test.exs. */
static void test_elixir_vectors(void **state) {
  assert_int_equal(ots_crc8_bytes(0, "123", 3), 192);
  assert_int_equal(ots_crc8_u8(0, 1), 7);
  assert_int_equal(ots_crc8_u32(0, 2), 44);
  assert_int_equal(ots_crc8_u64(0, 2), 38);
  assert_int_equal(ots_crc8_bytes(0, "abc1", 4), 13);
}

static void test_integers_are_little_endian(void **state) {
  const uint8_t le32[] = {0x78, 0x56, 0x34, 0x12};
  assert_int_equal(ots_crc8_u32(0x5a, 0x12345678u), ots_crc8_bytes(0x5a, le32, 4));
  const uint8_t le64[] = {8, 7, 6, 5, 4, 3, 2, 1};
  assert_int_equal(ots_crc8_u64(0x33, 0x0102030405060708ull), ots_crc8_bytes(0x33, le64, 8));
  assert_int_equal(ots_crc8_bytes(0x42, NULL, 0), 0x42);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_matches_bitwise),
      cmocka_unit_test(test_check_value_123456789),
      cmocka_unit_test(test_java_byte_sequence),
      cmocka_unit_test(test_elixir_vectors),
      cmocka_unit_test(test_integers_are_little_endian),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
