/* Unit tests of the node's "can serve" verdict (health_verdict): each check fails alone and
 * names itself; several failing checks are all named; apply stalls only after the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health_verdict.h"

static const char *const s_names[] = {"kv-store", "raft-peer"};
static const health_limits_t s_lim = {.min_free_bytes = 64u << 20, .apply_stall_us = 5000000,
                                      .quorum_us = 150000};

/* Both actors answered healthy at t = 0. */
static void s_core(health_core_t *h) {
  health_core_init(h, s_names, 2, 1500);
  uint64_t seq = health_core_ping_round(h, 0);
  health_core_pong(h, "kv-store", seq, true, "", 10);
  health_core_pong(h, "raft-peer", seq, true, "", 10);
  health_core_evaluate(h, 20);
}

/* A healthy follower: a leader known, applied == commit, plenty of disk. */
static health_inputs_t s_ok(void) {
  return (health_inputs_t){.raft_known = true, .leader_known = true, .member = true,
                           .commit = 10, .applied = 10, .disk_known = true,
                           .disk_free_bytes = 10ull << 30};
}

static health_verdict_t s_decide(const health_core_t *h, health_inputs_t in, uint64_t now,
                                 health_stall_t *st, char *reason) {
  return health_verdict_decide(h, &in, &s_lim, st, now, reason, 1024);
}

static void test_healthy(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  assert_int_equal(s_decide(&h, s_ok(), 100, &st, reason), HEALTH_HEALTHY);
  assert_string_equal(reason, "");
}

static void test_no_leader(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.leader_known = false;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "raft: no leader known");
}

static void test_leader_without_quorum(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.is_leader = true;
  in.voters = 3;
  in.voters_active = 1;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "raft: leader in contact with 1 of 3 voters in the last two election "
                              "timeouts, no quorum");
  in.voters_active = 2; /* a majority of 3 */
  assert_int_equal(s_decide(&h, in, 200, &st, reason), HEALTH_HEALTHY);
  in.voters = 4; /* 2 of 4 is no majority */
  assert_int_equal(s_decide(&h, in, 300, &st, reason), HEALTH_UNHEALTHY);
}

static void test_not_member_and_no_state(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.member = false;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "raft: this node is not a member of the configuration");
  in = s_ok();
  in.raft_known = false;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "raft: no state from raft-peer yet");
}

static void test_disk_low_and_unknown(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.disk_free_bytes = 10u << 20;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "disk: 10 MB free on the data disk, below 64 MB");
  in.disk_free_bytes = 64u << 20; /* exactly the bound is enough */
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_HEALTHY);
  in.disk_known = false;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "disk: free space of the data disk unknown");
  /* 0 = not checked */
  health_limits_t off = s_lim;
  off.min_free_bytes = 0;
  assert_int_equal(health_verdict_decide(&h, &in, &off, &st, 100, reason, sizeof reason),
                   HEALTH_HEALTHY);
}

static void test_apply_stall_after_bound_only(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.commit = 20;
  in.applied = 15;
  assert_int_equal(s_decide(&h, in, 1000000, &st, reason), HEALTH_HEALTHY);
  assert_int_equal(s_decide(&h, in, 6000000, &st, reason), HEALTH_HEALTHY); /* 5 s exactly */
  assert_int_equal(s_decide(&h, in, 6000001, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "apply: stalled at index 15 behind commit 20 for 5000 ms");
  /* progress resets the clock */
  in.applied = 16;
  assert_int_equal(s_decide(&h, in, 7000000, &st, reason), HEALTH_HEALTHY);
  assert_int_equal(s_decide(&h, in, 11000000, &st, reason), HEALTH_HEALTHY);
  /* caught up: never stalled, however long */
  in.applied = 20;
  assert_int_equal(s_decide(&h, in, 90000000, &st, reason), HEALTH_HEALTHY);
}

static void test_every_failing_check_named(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  uint64_t seq = health_core_ping_round(&h, 0);
  health_core_pong(&h, "kv-store", seq, false, "RocksDB write failed: IO error", 10);
  health_core_pong(&h, "raft-peer", seq, true, "", 10);
  health_core_evaluate(&h, 20);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.leader_known = false;
  in.disk_free_bytes = 1u << 20;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "kv-store: RocksDB write failed: IO error; raft: no leader known; "
                              "disk: 1 MB free on the data disk, below 64 MB");
}

static void test_unknown_until_checked_then_failures_win(void **state) {
  health_core_t h;
  health_core_init(&h, s_names, 2, 1500);
  health_core_evaluate(&h, 0);
  health_stall_t st = {0};
  char reason[1024];
  assert_int_equal(s_decide(&h, s_ok(), 100, &st, reason), HEALTH_UNKNOWN);
  assert_string_equal(reason, "not every actor checked yet");
  health_inputs_t in = s_ok();
  in.leader_known = false;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
}

static void test_replica_hook(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.replica_configured = true;
  in.replica_lag = 500;
  in.replica_max_lag = 100;
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "replica: the remote copy is 500 entries behind, over 100");
  /* a slow remote store is no reason to hand leadership away */
  assert_true(health_verdict_can_lead(&h, &in, &s_lim, &st, 100));
  in.replica_lag = 100; /* at the bound: fine */
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_HEALTHY);
}

/* can_lead leaves Raft's view out (a follower with no leader must still campaign) and the fence,
 * but not the node's own checks. */
static void test_can_lead_is_the_node_itself(void **state) {
  health_core_t h;
  s_core(&h);
  health_stall_t st = {0};
  char reason[1024];
  health_inputs_t in = s_ok();
  in.leader_known = false;
  in.fence = "fencing n1 (the previous leader left without handing over): writes wait";
  assert_int_equal(s_decide(&h, in, 100, &st, reason), HEALTH_UNHEALTHY);
  assert_string_equal(reason, "raft: no leader known; fence: fencing n1 (the previous leader left "
                              "without handing over): writes wait");
  assert_true(health_verdict_can_lead(&h, &in, &s_lim, &st, 100));
  in.disk_free_bytes = 1u << 20;
  assert_false(health_verdict_can_lead(&h, &in, &s_lim, &st, 100));
  in = s_ok();
  in.commit = 20;
  in.applied = 15;
  s_decide(&h, in, 1000000, &st, reason);
  assert_true(health_verdict_can_lead(&h, &in, &s_lim, &st, 1000000));
  s_decide(&h, in, 7000000, &st, reason);
  assert_false(health_verdict_can_lead(&h, &in, &s_lim, &st, 7000000));
  health_core_t sick;
  health_core_init(&sick, s_names, 2, 1500);
  uint64_t seq = health_core_ping_round(&sick, 0);
  health_core_pong(&sick, "kv-store", seq, false, "RocksDB write failed", 10);
  health_core_evaluate(&sick, 20);
  in = s_ok();
  assert_false(health_verdict_can_lead(&sick, &in, &s_lim, &st, 100));
  /* raft-peer not checked yet: unknown does not count against it */
  assert_false(sick.targets[1].verdict == HEALTH_HEALTHY);
}

/* can_persist: only hard signals (an actor's writes failing, a disk under the floor), not the
 * min-free-disk-mb warning, and it names each one. */
static void test_can_persist(void **state) {
  health_core_t h;
  s_core(&h);
  char reason[512];
  health_inputs_t in = s_ok();
  assert_true(health_verdict_can_persist(&h, &in, reason, sizeof reason));
  assert_string_equal(reason, "");
  /* under health.min-free-disk-mb (64 MB here) but above the floor: unhealthy, yet it persists */
  in.disk_free_bytes = 2u << 20;
  assert_true(health_verdict_can_persist(&h, &in, reason, sizeof reason));
  in.disk_free_bytes = 4096;
  assert_false(health_verdict_can_persist(&h, &in, reason, sizeof reason));
  assert_string_equal(reason, "disk: 4096 bytes free on the data disk; the next write needs up "
                              "to 1048576");
  /* an actor's failing writes, from its pong; the flag stays while it stops answering */
  in = s_ok();
  uint64_t seq = health_core_ping_round(&h, 100);
  health_core_pong(&h, "kv-store", seq, false, "RocksDB write failed: No space left", 110);
  health_core_persist(&h, "kv-store", seq, true);
  health_core_pong(&h, "raft-peer", seq, true, "", 110);
  health_core_persist(&h, "raft-peer", seq, false);
  health_core_evaluate(&h, 120);
  assert_false(health_verdict_can_persist(&h, &in, reason, sizeof reason));
  assert_string_equal(reason, "kv-store: RocksDB write failed: No space left");
  health_core_ping_round(&h, 200);
  health_core_evaluate(&h, 5000000); /* kv-store silent past the timeout */
  assert_false(health_verdict_can_persist(&h, &in, reason, sizeof reason));
  /* a stale pong (a seq never sent) changes nothing; the next answer clears it */
  health_core_persist(&h, "kv-store", seq + 5, false);
  assert_false(health_verdict_can_persist(&h, &in, reason, sizeof reason));
  seq = health_core_ping_round(&h, 5000100);
  health_core_pong(&h, "kv-store", seq, true, "", 5000110);
  health_core_persist(&h, "kv-store", seq, false);
  health_core_evaluate(&h, 5000120);
  assert_true(health_verdict_can_persist(&h, &in, reason, sizeof reason));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_healthy),
      cmocka_unit_test(test_no_leader),
      cmocka_unit_test(test_leader_without_quorum),
      cmocka_unit_test(test_not_member_and_no_state),
      cmocka_unit_test(test_disk_low_and_unknown),
      cmocka_unit_test(test_apply_stall_after_bound_only),
      cmocka_unit_test(test_every_failing_check_named),
      cmocka_unit_test(test_unknown_until_checked_then_failures_win),
      cmocka_unit_test(test_replica_hook),
      cmocka_unit_test(test_can_lead_is_the_node_itself),
      cmocka_unit_test(test_can_persist),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
