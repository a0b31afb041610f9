/* rv_lag, the loop-lag histogram: the bucket scheme (contiguous, every value inside its bucket,
 * at most 1/8 wide), p99 and max against values computed by sorting, the two-window rotation
 * (old samples leave after two windows, a long gap empties both), and the empty summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rv_lag.h"

static void test_buckets_cover_every_value(void **st) {
  (void)st;
  unsigned prev = 0;
  for (uint64_t v = 0; v < 200000; v++) {
    unsigned b = rv_lag_bucket(v);
    assert_true(b == prev || b == prev + 1); /* contiguous, in order */
    assert_true(v <= rv_lag_bucket_top(b));
    if (b > 0) assert_true(v > rv_lag_bucket_top(b - 1));
    if (v >= 8) assert_true(rv_lag_bucket_top(b) - v <= v / 8); /* at most 12.5% above */
    prev = b;
  }
  assert_int_equal(rv_lag_bucket(UINT64_MAX), RV_LAG_BUCKETS - 1); /* clamped */
}

static int s_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_p99_and_max_match_sorted_samples(void **st) {
  (void)st;
  rv_lag_t l;
  rv_lag_init(&l);
  enum { N = 1000 };
  uint64_t v[N];
  srand(7);
  for (int i = 0; i < N; i++) {
    v[i] = (uint64_t)(rand() % 5000);
    if (i % 97 == 0) v[i] = 100000 + (uint64_t)i; /* a few long stalls: 11 of 1000 */
    rv_lag_record(&l, 1000 + (uint64_t)i, v[i]);
  }
  qsort(v, N, sizeof v[0], s_cmp);
  rv_lag_summary_t s = rv_lag_summary(&l, 2000);
  assert_int_equal(s.samples, N);
  assert_int_equal(s.max_us, v[N - 1]);
  uint64_t truth = v[N - N / 100 - 1]; /* the 990th smallest */
  assert_true(s.p99_us >= truth);
  assert_true(s.p99_us <= truth + truth / 8);
  assert_true(truth >= 100000); /* the stalls are above the 99th percentile's rank */
}

static void test_windows_rotate(void **st) {
  (void)st;
  rv_lag_t l;
  rv_lag_init(&l);
  uint64_t t0 = 5000000;
  rv_lag_record(&l, t0, 900000); /* one stall in the first window */
  for (int i = 1; i <= 99; i++) rv_lag_record(&l, t0 + (uint64_t)i * 1000, 100);
  rv_lag_summary_t s = rv_lag_summary(&l, t0 + RV_LAG_WINDOW_US / 2);
  assert_int_equal(s.max_us, 900000);
  /* one window later the stall is in the previous window: still reported */
  rv_lag_record(&l, t0 + RV_LAG_WINDOW_US + 10, 50);
  s = rv_lag_summary(&l, t0 + RV_LAG_WINDOW_US + 20);
  assert_int_equal(s.max_us, 900000);
  assert_int_equal(s.samples, 101);
  /* two windows later it is gone */
  rv_lag_record(&l, t0 + 2 * RV_LAG_WINDOW_US + 10, 70);
  s = rv_lag_summary(&l, t0 + 2 * RV_LAG_WINDOW_US + 20);
  assert_int_equal(s.samples, 2);
  assert_int_equal(s.max_us, 70);
  /* a long silence empties both windows, even without a new sample */
  s = rv_lag_summary(&l, t0 + 10 * RV_LAG_WINDOW_US);
  assert_int_equal(s.samples, 0);
  assert_int_equal(s.max_us, 0);
  assert_int_equal(s.p99_us, 0);
}

static void test_empty_and_single(void **st) {
  (void)st;
  rv_lag_t l;
  rv_lag_init(&l);
  rv_lag_summary_t s = rv_lag_summary(&l, 123);
  assert_int_equal(s.samples, 0);
  assert_int_equal(s.p99_us, 0);
  rv_lag_record(&l, 123, 3000);
  s = rv_lag_summary(&l, 124);
  assert_int_equal(s.samples, 1);
  assert_int_equal(s.max_us, 3000);
  assert_int_equal(s.p99_us, 3000); /* capped at the max, not the bucket's top */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buckets_cover_every_value),
      cmocka_unit_test(test_p99_and_max_match_sorted_samples),
      cmocka_unit_test(test_windows_rotate),
      cmocka_unit_test(test_empty_and_single),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
