/* Unit tests of ots_retry: the classification of reference section 5.2 (which codes retry for
 * which operations), the backoff ceiling and jitter bounds, and whole retry loops on a fake
 * clock that must stop at the attempt limit or before the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ots_retry.h"

static ots_retry_input_t s_in(const char *code, const char *msg, int status, ots_op_kind_t k) {
  ots_retry_input_t in = {.net = OTS_NET_RESPONSE, .http_status = status, .code = code,
                          .message = msg, .kind = k, .attempt = 1, .elapsed_ms = 0, .random = 0};
  return in;
}

static bool s_retries(const ots_retry_input_t *in) {
  ots_retry_policy_t p = ots_retry_policy_default();
  return ots_retry_decide(&p, in).retry;
}

static void test_always_retriable_codes_for_reads_and_writes(void **state) {
  const char *codes[] = {"OTSRowOperationConflict", "OTSNotEnoughCapacityUnit",
                         "OTSTableNotReady", "OTSPartitionUnavailable", "OTSServerBusy",
                         "OTSStorageServerBusy", "OTSOperationThrottled"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    for (int k = 0; k < 2; k++) {
      ots_retry_input_t in = s_in(codes[i], "x", 503, (ots_op_kind_t)k);
      if (!s_retries(&in)) fail_msg("%s kind %d not retried", codes[i], k);
    }
  ots_retry_input_t q = s_in("OTSQuotaExhausted", "Too frequent table operations.", 403, OTS_OP_WRITE);
  assert_true(s_retries(&q));
  q.message = "Number of tables exceeded the quota.";
  assert_false(s_retries(&q));
  q.message = NULL;
  assert_false(s_retries(&q));
  assert_true(ots_retry_code_always("OTSServerBusy", NULL));
  assert_false(ots_retry_code_always("OTSTimeout", NULL));
  assert_false(ots_retry_code_always(NULL, NULL));
}

static void test_ambiguous_failures_retry_only_idempotent(void **state) {
  const char *codes[] = {"OTSTimeout", "OTSInternalServerError", "OTSServerUnavailable"};
  for (size_t i = 0; i < 3; i++) {
    ots_retry_input_t in = s_in(codes[i], "x", 503, OTS_OP_IDEMPOTENT);
    assert_true(s_retries(&in));
    in.kind = OTS_OP_WRITE;
    assert_false(s_retries(&in));
  }
  /* 5xx without a parsable code (JAVA: any 5xx) */
  int statuses[] = {500, 502, 503, 504};
  for (size_t i = 0; i < 4; i++) {
    ots_retry_input_t in = s_in(NULL, NULL, statuses[i], OTS_OP_IDEMPOTENT);
    assert_true(s_retries(&in));
    in.kind = OTS_OP_WRITE;
    assert_false(s_retries(&in));
  }
  /* transport failures */
  ots_retry_input_t t = s_in(NULL, NULL, 0, OTS_OP_WRITE);
  t.net = OTS_NET_UNKNOWN;
  assert_false(s_retries(&t));
  t.kind = OTS_OP_IDEMPOTENT;
  assert_true(s_retries(&t));
  t.net = OTS_NET_NOT_SENT;
  t.kind = OTS_OP_WRITE;
  assert_true(s_retries(&t));
}

static void test_final_errors_never_retry(void **state) {
  struct { const char *code; int status; } cases[] = {
      {"OTSConditionCheckFail", 403}, {"OTSParameterInvalid", 400}, {"OTSAuthFailed", 403},
      {"OTSObjectNotExist", 404},     {"OTSInvalidPK", 400},        {"OTSRequestBodyTooLarge", 413},
      {"OTSNoPermissionAccess", 403}, {NULL, 400},                  {"", 404}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int k = 0; k < 2; k++) {
      ots_retry_input_t in = s_in(cases[i].code, "x", cases[i].status, (ots_op_kind_t)k);
      assert_false(s_retries(&in));
    }
}

/* Ceiling doubles from base to cap; the delay stays in [ceiling/2, ceiling] for any random. */
static void test_backoff_bounds(void **state) {
  ots_retry_policy_t p = ots_retry_policy_default();
  p.max_attempts = 100;
  p.deadline_ms = INT64_MAX / 4;
  const uint32_t rnd[] = {0, 1, 7, 12345, UINT32_MAX};
  for (unsigned a = 1; a < 12; a++) {
    int64_t ceiling = 10;
    for (unsigned i = 1; i < a; i++) ceiling = ceiling * 2 > 320 ? 320 : ceiling * 2;
    int64_t tceiling = 500;
    for (unsigned i = 1; i < a; i++) tceiling = tceiling * 2 > 3000 ? 3000 : tceiling * 2;
    for (size_t r = 0; r < sizeof rnd / sizeof rnd[0]; r++) {
      ots_retry_input_t in = s_in("OTSRowOperationConflict", "x", 409, OTS_OP_WRITE);
      in.attempt = a;
      in.random = rnd[r];
      ots_retry_decision_t d = ots_retry_decide(&p, &in);
      assert_true(d.retry);
      assert_in_range(d.delay_ms, ceiling / 2, ceiling);
      in.code = "OTSServerBusy";
      d = ots_retry_decide(&p, &in);
      assert_true(d.retry);
      assert_in_range(d.delay_ms, tceiling / 2, tceiling);
    }
  }
  /* the jitter input is actually used: the extremes differ */
  ots_retry_input_t in = s_in("OTSServerBusy", "x", 503, OTS_OP_WRITE);
  in.random = 0;
  int64_t lo = ots_retry_decide(&p, &in).delay_ms;
  in.random = 250;
  int64_t hi = ots_retry_decide(&p, &in).delay_ms;
  assert_int_equal(lo, 250);
  assert_int_equal(hi, 500);
}

/* A small deterministic generator for the fake-clock loops. */
static uint32_t s_rng(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

/* Drives a request that always fails with code on a fake clock (each attempt costs
 * attempt_cost ms) and returns the attempts made; *end_ms gets the clock at the end. */
static unsigned s_loop(const ots_retry_policy_t *p, const char *code, int64_t attempt_cost,
                       uint64_t seed, int64_t *end_ms) {
  int64_t now = 0;
  unsigned attempt = 0;
  for (;;) {
    attempt++;
    now += attempt_cost;
    ots_retry_input_t in = s_in(code, "x", 503, OTS_OP_IDEMPOTENT);
    in.attempt = attempt;
    in.elapsed_ms = now;
    in.random = s_rng(&seed);
    ots_retry_decision_t d = ots_retry_decide(p, &in);
    assert_non_null(d.reason);
    if (!d.retry) break;
    assert_true(d.delay_ms >= 0);
    assert_true(now + d.delay_ms <= p->deadline_ms);
    now += d.delay_ms;
    assert_true(attempt < 1000);
  }
  *end_ms = now;
  return attempt;
}

static void test_fake_clock_attempt_limit(void **state) {
  ots_retry_policy_t p = ots_retry_policy_default();
  for (uint64_t seed = 1; seed < 50; seed++) {
    int64_t end;
    /* fast failures: the attempt limit (10) stops it long before the 10 s deadline */
    assert_int_equal(s_loop(&p, "OTSTimeout", 1, seed, &end), 10);
    assert_true(end < 3000);
  }
}

static void test_fake_clock_deadline(void **state) {
  ots_retry_policy_t p = ots_retry_policy_default();
  p.max_attempts = 1000;
  for (uint64_t seed = 1; seed < 50; seed++) {
    int64_t end;
    /* slow failures (2 s each): the 10 s deadline stops it; no wait ever crosses it */
    unsigned n = s_loop(&p, "OTSServerBusy", 2000, seed, &end);
    assert_in_range(n, 4, 5);
    assert_true(end <= p.deadline_ms + 2000);
  }
  /* a retry that would start past the deadline is refused */
  ots_retry_input_t in = s_in("OTSServerBusy", "x", 503, OTS_OP_IDEMPOTENT);
  in.elapsed_ms = p.deadline_ms - 100;
  in.random = UINT32_MAX;
  ots_retry_decision_t d = ots_retry_decide(&p, &in);
  assert_false(d.retry);
  assert_string_equal(d.reason, "retry deadline reached");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_always_retriable_codes_for_reads_and_writes),
      cmocka_unit_test(test_ambiguous_failures_retry_only_idempotent),
      cmocka_unit_test(test_final_errors_never_retry),
      cmocka_unit_test(test_backoff_bounds),
      cmocka_unit_test(test_fake_clock_attempt_limit),
      cmocka_unit_test(test_fake_clock_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
