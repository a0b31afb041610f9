/* Unit tests of the health-monitor's verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health_core.h"

static const char *const s_names[] = {"kv-store", "raft-peer"};

static void test_unknown_until_answered(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  health_core_evaluate(&h, 0);
  assert_int_equal(h.node_verdict, HEALTH_UNKNOWN);
  assert_string_equal(h.node_reason, "kv-store: not checked yet");
}

static void test_healthy_with_rtt(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  uint64_t seq = health_core_ping_round(&h, 1000);
  health_core_pong(&h, "kv-store", seq, true, "", 1080);
  health_core_pong(&h, "raft-peer", seq, true, "", 1200);
  health_core_evaluate(&h, 2000);
  assert_int_equal(h.node_verdict, HEALTH_HEALTHY);
  assert_string_equal(h.node_reason, "");
  assert_int_equal(h.targets[0].rtt_us, 80);
  assert_int_equal(h.targets[1].rtt_us, 200);
}

static void test_unhealthy_reason_kept(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  uint64_t seq = health_core_ping_round(&h, 0);
  health_core_pong(&h, "kv-store", seq, false, "disk full", 10);
  health_core_pong(&h, "raft-peer", seq, true, "", 10);
  health_core_evaluate(&h, 20);
  assert_int_equal(h.node_verdict, HEALTH_UNHEALTHY);
  assert_string_equal(h.node_reason, "kv-store: disk full");
}

/* A healthy actor's note (kv-store's change-log backlog) is kept for status; the node stays
 * healthy and its reason empty. */
static void test_healthy_note_kept(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  uint64_t seq = health_core_ping_round(&h, 0);
  health_core_pong(&h, "kv-store", seq, true, "change log 10 B", 10);
  health_core_pong(&h, "raft-peer", seq, true, "", 10);
  health_core_evaluate(&h, 20);
  assert_int_equal(h.node_verdict, HEALTH_HEALTHY);
  assert_string_equal(h.node_reason, "");
  assert_int_equal(h.targets[0].verdict, HEALTH_HEALTHY);
  assert_string_equal(h.targets[0].reason, "change log 10 B");
}

static void test_not_responding_after_timeout_across_rounds(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  uint64_t t = 0;
  for (int round = 0; round < 5; round++, t += 500000) { /* every 500 ms */
    health_core_evaluate(&h, t);
    uint64_t seq = health_core_ping_round(&h, t);
    health_core_pong(&h, "kv-store", seq, true, "", t + 50);
    /* raft-peer never answers */
    if (t <= 1500000) assert_int_not_equal(h.targets[1].verdict, HEALTH_NOT_RESPONDING);
  }
  health_core_evaluate(&h, t);
  assert_int_equal(h.targets[1].verdict, HEALTH_NOT_RESPONDING);
  assert_int_equal(h.node_verdict, HEALTH_UNHEALTHY);
  assert_string_equal(h.node_reason, "raft-peer: no answer to health pings for 2500 ms");
  assert_int_equal(h.targets[0].verdict, HEALTH_HEALTHY);
}

static void test_recovers_after_answer(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 1, 1000);
  uint64_t seq = health_core_ping_round(&h, 0);
  health_core_evaluate(&h, 2000000);
  assert_int_equal(h.targets[0].verdict, HEALTH_NOT_RESPONDING);
  seq = health_core_ping_round(&h, 2000000);
  health_core_pong(&h, "kv-store", seq, true, "", 2000100);
  health_core_evaluate(&h, 2000200);
  assert_int_equal(h.targets[0].verdict, HEALTH_HEALTHY);
  assert_int_equal(h.node_verdict, HEALTH_HEALTHY);
}

static void test_stale_and_unknown_pongs_ignored(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1000);
  health_core_pong(&h, "kv-store", 5, true, "", 10); /* never sent */
  assert_int_equal(h.targets[0].verdict, HEALTH_UNKNOWN);
  health_core_pong(&h, "nobody", 1, true, "", 10);
  uint64_t s1 = health_core_ping_round(&h, 0);
  uint64_t s2 = health_core_ping_round(&h, 500000);
  health_core_pong(&h, "kv-store", s1, true, "", 600000); /* late answer to the first */
  assert_true(h.targets[0].waiting); /* still waiting for s2 */
  health_core_pong(&h, "kv-store", s2, true, "", 600100);
  assert_false(h.targets[0].waiting);
  assert_int_equal(h.targets[0].rtt_us, 100100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_until_answered),
      cmocka_unit_test(test_healthy_with_rtt),
      cmocka_unit_test(test_unhealthy_reason_kept),
      cmocka_unit_test(test_healthy_note_kept),
      cmocka_unit_test(test_not_responding_after_timeout_across_rounds),
      cmocka_unit_test(test_recovers_after_answer),
      cmocka_unit_test(test_stale_and_unknown_pongs_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
