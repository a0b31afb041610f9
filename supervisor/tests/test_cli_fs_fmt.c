/* Unit tests of cli_fs_fmt: Hadoop's human-readable sizes (TraditionalBinaryPrefix with one
 * decimal, exact multiples without, the round-up to the next prefix) and CRC-32C's check
 * value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli_fs.h"

static void s_h(uint64_t n, const char *want) {
  char out[32];
  cli_fs_human(n, out, sizeof out);
  if (strcmp(out, want) != 0) fail_msg("%llu: got \"%s\", want \"%s\"", (unsigned long long)n, out, want);
}

static void test_human(void **state) {
  (void)state;
  s_h(0, "0");
  s_h(1023, "1023");
  s_h(1024, "1 K");
  s_h(1536, "1.5 K");
  s_h(2048, "2 K");
  s_h(1048575, "1.0 M"); /* 1024.0 K rounds up to the next prefix, as Hadoop's */
  s_h(1048576, "1 M");
  s_h(UINT64_C(5) * 1024 * 1024 * 1024 + UINT64_C(512) * 1024 * 1024, "5.5 G");
  s_h(UINT64_C(1) << 60, "1 E");
}

static void test_crc32c(void **state) {
  (void)state;
  assert_int_equal(cli_fs_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
  assert_int_equal(cli_fs_crc32c((const uint8_t *)"", 0), 0);
  assert_int_equal(cli_fs_crc32c((const uint8_t *)"abcd\n", 5), 0xfb8579d1u);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_human), cmocka_unit_test(test_crc32c)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
