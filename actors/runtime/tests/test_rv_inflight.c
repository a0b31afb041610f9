/* rv_inflight, the per-connection cap on requests in flight: takes up to the cap, refuses past
 * it without taking, gives back exactly, forgets connections that hold nothing, and keeps its
 * totals right over many connections and a seeded random schedule of takes and gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rv_inflight.h"

static const uint8_t A[] = {0, 0x6b, 0x8b, 0x45, 0x67}, B[] = {0, 0x6b, 0x8b, 0x45, 0x68};

static void test_cap_refuses_and_counts(void **state) {
  (void)state;
  rv_inflight_t *t = rv_inflight_new(3);
  assert_non_null(t);
  for (int i = 0; i < 3; i++) assert_int_equal(rv_inflight_take(t, A, sizeof A), RV_OK);
  assert_int_equal(rv_inflight_take(t, A, sizeof A), RV_EBUSY);
  assert_int_equal(rv_inflight_take(t, A, sizeof A), RV_EBUSY);
  assert_int_equal(rv_inflight_held(t, A, sizeof A), 3); /* a refusal takes nothing */
  assert_int_equal(rv_inflight_refused(t), 2);
  /* another connection is not affected by A being at its cap */
  assert_int_equal(rv_inflight_take(t, B, sizeof B), RV_OK);
  assert_int_equal(rv_inflight_total(t), 4);
  assert_int_equal(rv_inflight_conns(t), 2);
  /* one answer frees one slot: the next request is taken */
  rv_inflight_give(t, A, sizeof A);
  assert_int_equal(rv_inflight_take(t, A, sizeof A), RV_OK);
  assert_int_equal(rv_inflight_cap(t), 3);
  rv_inflight_destroy(&t);
  assert_null(t);
  rv_inflight_destroy(&t); /* safe twice */
}

static void test_released_connection_is_forgotten(void **state) {
  (void)state;
  rv_inflight_t *t = rv_inflight_new(2);
  assert_int_equal(rv_inflight_take(t, A, sizeof A), RV_OK);
  assert_int_equal(rv_inflight_take(t, A, sizeof A), RV_OK);
  rv_inflight_give(t, A, sizeof A);
  rv_inflight_give(t, A, sizeof A);
  assert_int_equal(rv_inflight_held(t, A, sizeof A), 0);
  assert_int_equal(rv_inflight_conns(t), 0);
  assert_int_equal(rv_inflight_total(t), 0);
  /* ids that are prefixes of each other are different connections */
  assert_int_equal(rv_inflight_take(t, A, 4), RV_OK);
  assert_int_equal(rv_inflight_held(t, A, sizeof A), 0);
  assert_int_equal(rv_inflight_held(t, A, 4), 1);
  rv_inflight_give(t, A, 4);
  assert_int_equal(rv_inflight_conns(t), 0);
  rv_inflight_destroy(&t);
}

/* Many connections (past the initial buckets, so the table grows) under a seeded random
 * schedule, against a model: held per connection, totals, refusals exactly at the cap, and
 * everything back to zero once every slot is given back. */
static void test_random_schedule_matches_model(void **state) {
  (void)state;
  enum { N = 700, CAP = 5, STEPS = 200000 };
  unsigned seed = getenv("RV_SEED") ? (unsigned)strtoul(getenv("RV_SEED"), NULL, 10) : 12345;
  srand(seed);
  rv_inflight_t *t = rv_inflight_new(CAP);
  static unsigned held[N];
  memset(held, 0, sizeof held);
  uint64_t total = 0, refused = 0;
  for (int s = 0; s < STEPS; s++) {
    unsigned c = (unsigned)rand() % N;
    uint8_t id[8];
    size_t len = 2 + c % 7; /* ids of several lengths, every byte of c in */
    memset(id, 0, sizeof id);
    memcpy(id, &c, sizeof c < len ? sizeof c : len);
    id[len - 1] ^= (uint8_t)(len << 4); /* ids differ even where the bytes of c are cut */
    if (rand() % 2) {
      int rc = rv_inflight_take(t, id, len);
      if (held[c] == CAP) {
        assert_int_equal(rc, RV_EBUSY);
        refused++;
      } else {
        if (rc != RV_OK) fail_msg("seed %u step %d: take refused below the cap", seed, s);
        held[c]++;
        total++;
      }
    } else if (held[c]) {
      rv_inflight_give(t, id, len);
      held[c]--;
      total--;
    }
    if (rv_inflight_held(t, id, len) != held[c])
      fail_msg("seed %u step %d: connection %u holds %u, model %u", seed, s, c,
               rv_inflight_held(t, id, len), held[c]);
  }
  assert_int_equal(rv_inflight_total(t), total);
  assert_int_equal(rv_inflight_refused(t), refused);
  for (unsigned c = 0; c < N; c++) {
    uint8_t id[8];
    size_t len = 2 + c % 7;
    memset(id, 0, sizeof id);
    memcpy(id, &c, sizeof c < len ? sizeof c : len);
    id[len - 1] ^= (uint8_t)(len << 4);
    while (held[c]) {
      rv_inflight_give(t, id, len);
      held[c]--;
    }
  }
  assert_int_equal(rv_inflight_total(t), 0);
  assert_int_equal(rv_inflight_conns(t), 0);
  rv_inflight_destroy(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cap_refuses_and_counts),
      cmocka_unit_test(test_released_connection_is_forgotten),
      cmocka_unit_test(test_random_schedule_matches_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
