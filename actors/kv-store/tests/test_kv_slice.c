/* Unit tests of kv_slice (kv_slice.h), the rule that bounds one apply slice by entries,
 * estimated keys and bytes: costs read from real commands (a create, recovery rows, Raft's own
 * entries, undecodable bytes), prefixes that stop at each limit, an oversized entry alone, and a
 * property over random cost sequences: every slice is within the limits or a single entry, and
 * the slices cover the sequence in order without gap or overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_slice.h"
#include "kv_testutil.h"

static void test_cost_of_commands(void **state) {
  (void)state;
  kv_cmd_t cmd;
  kv_buf_t b;
  kv_buf_init(&b);
  kv_t_cmd(&cmd, KV_OP_PUT, "/a/b");
  kv_t_encode(&cmd, &b);
  kv_slice_cost_t c = kv_slice_cost(b.data, b.len, false);
  assert_int_equal(c.keys, KV_SLICE_CMD_KEYS);
  assert_int_equal(c.bytes, b.len);

  /* Raft's own entries and bytes that do not decode write the meta key alone */
  c = kv_slice_cost(b.data, b.len, true);
  assert_int_equal(c.keys, 1);
  uint8_t junk[5] = {0xff, 1, 2, 3, 4};
  c = kv_slice_cost(junk, sizeof junk, false);
  assert_int_equal(c.keys, 1);
  assert_int_equal(c.bytes, 5);

  /* recovery rows: one key per row beyond a command's own */
  enum { N = 1000 };
  kv_recovery_row_t *rows = calloc(N, sizeof *rows);
  uint8_t (*keys)[9] = calloc(N, sizeof *keys);
  assert_non_null(rows);
  assert_non_null(keys);
  for (size_t i = 0; i < N; i++) {
    keys[i][0] = KV_T_CONTENT;
    for (int j = 0; j < 8; j++) keys[i][1 + j] = (uint8_t)((i + 1) >> (8 * (7 - j)));
    rows[i] = (kv_recovery_row_t){{keys[i], 9}, {(const uint8_t *)"x", 1}};
  }
  rv_err_t err;
  kv_buf_reset(&b);
  assert_int_equal(kv_recovery_encode_rows(NULL, 0, rows, N, 1, &b, &err), RV_OK);
  c = kv_slice_cost(b.data, b.len, false);
  assert_int_equal(c.keys, KV_SLICE_CMD_KEYS + N);
  assert_int_equal(c.bytes, b.len);
  free(rows);
  free(keys);
  kv_buf_close(&b);
}

static void test_take_stops_at_each_limit(void **state) {
  (void)state;
  kv_slice_limits_t lim = {.max_entries = 4, .max_keys = 100, .max_bytes = 1000};
  kv_slice_cost_t small[8];
  for (int i = 0; i < 8; i++) small[i] = (kv_slice_cost_t){.keys = 10, .bytes = 10};
  assert_int_equal(kv_slice_take(small, 0, &lim), 0);
  assert_int_equal(kv_slice_take(small, 3, &lim), 3);
  assert_int_equal(kv_slice_take(small, 8, &lim), 4); /* entries */

  kv_slice_cost_t keys[3] = {{60, 1}, {40, 1}, {1, 1}};
  assert_int_equal(kv_slice_take(keys, 3, &lim), 2); /* 100 keys fit, 101 do not */

  kv_slice_cost_t bytes[3] = {{1, 600}, {1, 401}, {1, 1}};
  assert_int_equal(kv_slice_take(bytes, 3, &lim), 1); /* 1001 bytes do not fit */

  /* an entry over a limit is a slice of its own, never cut and never held back */
  kv_slice_cost_t big[2] = {{50000, 4u << 20}, {1, 1}};
  assert_int_equal(kv_slice_take(big, 2, &lim), 1);
  assert_int_equal(kv_slice_take(big + 1, 1, &lim), 1);
  kv_slice_cost_t then_big[2] = {{1, 1}, {50000, 1}};
  assert_int_equal(kv_slice_take(then_big, 2, &lim), 1);
}

static void test_default_limits(void **state) {
  (void)state;
  kv_slice_limits_t lim;
  kv_slice_limits_default(&lim);
  assert_int_equal(lim.max_entries, KV_SLICE_MAX_ENTRIES);
  assert_int_equal(lim.max_keys, KV_SLICE_MAX_KEYS);
  assert_int_equal(lim.max_bytes, KV_SLICE_MAX_BYTES);
  /* creates go 1,024 to a slice (a follower's 40 ms of a bulk load; raft-peer's ApplyBatch of
   * 2,048 in two); 256 KiB recovery commands of ~3,000 rows go two at a time; a 4 MiB
   * ApplyBatch of them never goes in one */
  static kv_slice_cost_t creates[2048];
  for (int i = 0; i < 2048; i++) creates[i] = (kv_slice_cost_t){KV_SLICE_CMD_KEYS, 200};
  assert_int_equal(kv_slice_take(creates, 2048, &lim), 1024);
  assert_int_equal(kv_slice_take(creates, 600, &lim), 600);
  kv_slice_cost_t rows[16];
  for (int i = 0; i < 16; i++) rows[i] = (kv_slice_cost_t){3000 + KV_SLICE_CMD_KEYS, 256u << 10};
  assert_int_equal(kv_slice_take(rows, 16, &lim), 2);
}

static void test_property_slices_cover_in_order(void **state) {
  (void)state;
  uint64_t seed = kv_t_seed("test_kv_slice", 11);
  kv_t_rng_t rng;
  kv_t_rng_init(&rng, seed);
  for (int round = 0; round < 2000; round++) {
    kv_slice_limits_t lim = {.max_entries = 1 + kv_t_rng_below(&rng, 300),
                             .max_keys = 1 + kv_t_rng_below(&rng, 10000),
                             .max_bytes = 1 + kv_t_rng_below(&rng, 1u << 22)};
    size_t n = kv_t_rng_below(&rng, 600);
    kv_slice_cost_t *c = calloc(n + 1, sizeof *c);
    assert_non_null(c);
    for (size_t i = 0; i < n; i++)
      c[i] = (kv_slice_cost_t){1 + kv_t_rng_below(&rng, 20000),
                               kv_t_rng_below(&rng, 1u << 21)};
    size_t at = 0, slices = 0;
    while (at < n) {
      size_t k = kv_slice_take(c + at, n - at, &lim);
      assert_true(k >= 1);
      assert_true(k <= lim.max_entries);
      size_t keys = 0, bytes = 0;
      for (size_t i = at; i < at + k; i++) keys += c[i].keys, bytes += c[i].bytes;
      if (k > 1) {
        assert_true(keys <= lim.max_keys);
        assert_true(bytes <= lim.max_bytes);
      }
      /* the longest such prefix: one more entry would break a limit */
      if (at + k < n && k < lim.max_entries)
        assert_true(keys + c[at + k].keys > lim.max_keys ||
                    bytes + c[at + k].bytes > lim.max_bytes);
      at += k;
      slices++;
    }
    assert_int_equal(at, n);
    assert_true(slices <= n);
    free(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cost_of_commands),
      cmocka_unit_test(test_take_stops_at_each_limit),
      cmocka_unit_test(test_default_limits),
      cmocka_unit_test(test_property_slices_cover_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
