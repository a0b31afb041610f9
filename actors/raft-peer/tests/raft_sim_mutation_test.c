/* raft_sim_mutation_test: proves the simulation catches broken cores (label sim).
 *
 * Links raft_core_knobs, whose test_unsafe knobs break one rule on purpose: counting replicas of
 * old-term entries (breaks §5.4.2, Figure 8), granting votes without the up-to-date check
 * (breaks §5.4.1), trusting a read lease until check-quorum steps down (thesis §6.4.1), or
 * judging leases by ticks alone while processes pause. The simulation must report a safety
 * violation within a bounded number of schedules; and the very same schedules with the knob off must pass, so the violation is the
 * knob's doing. RAFT_SIM_RUNS bounds the search (default below). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft_core.h"
#include "raft_sim.h"

static uint64_t s_env_u64(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  return v && *v ? strtoull(v, NULL, 10) : dflt;
}

/* Returns the first seed in [base, base + max) whose schedule violates an invariant, or 0. */
static uint64_t s_find_violation(raft_sim_opts_t *o, uint64_t base, uint64_t max,
                                 raft_sim_result_t *res) {
  for (uint64_t seed = base; seed < base + max; seed++)
    if (raft_sim_run(o, seed, res) != 0) return seed;
  return 0;
}

static void s_mutation(const char *name, uint32_t knob, size_t voters, unsigned max_msg_entries,
                       uint64_t base) {
  raft_sim_opts_t o;
  raft_sim_opts_default(&o, voters);
  o.silent = true;
  o.unsafe = knob;
  o.max_msg_entries = max_msg_entries;
  uint64_t max = s_env_u64("RAFT_SIM_RUNS", 3000);
  raft_sim_result_t res;
  uint64_t seed = s_find_violation(&o, base, max, &res);
  if (!seed) fail_msg("%s: no violation found in %llu schedules", name, (unsigned long long)max);
  printf("%s: found after %llu schedules (RAFT_SIM_SEED=%llu): %s\n", name,
         (unsigned long long)(seed - base + 1), (unsigned long long)seed, res.what);
  /* Safety failures, not liveness: the knob broke safety. */
  assert_null(strstr(res.what, "liveness"));
  /* The same schedules with the knob off are fine. */
  o.unsafe = 0;
  uint64_t clean = s_find_violation(&o, base, seed - base + 1, &res);
  if (clean) fail_msg("%s: seed %llu fails even without the knob: %s", name,
                      (unsigned long long)clean, res.what);
}

/* Figure 8: committing an old-term entry by counting lets a later leader overwrite it. The
 * broken commit happens several times in every schedule, but it only turns into lost data when
 * the new leader dies within a round trip of it, before its own entry reaches a majority, and a
 * node holding a conflicting entry of a later term wins next: about one schedule in 120 with
 * one entry per MsgApp (one in 400 with random batches). */
static void test_sim_catches_commit_of_old_term_entries(void **state) {
  (void)state;
  s_mutation("commit-any-term (breaks §5.4.2)", RAFT_UNSAFE_COMMIT_ANY_TERM, 3, 1, 7000000);
}

/* §5.4.1: a voter that skips the up-to-date check elects leaders that lack committed entries. */
static void test_sim_catches_missing_up_to_date_check(void **state) {
  (void)state;
  s_mutation("skip-up-to-date (breaks §5.4.1)", RAFT_UNSAFE_SKIP_UP_TO_DATE, 3, 0, 8000000);
}

/* thesis §6.4.1: a lease that lasts until check-quorum notices (etcd's LeaseBased reads) lets
 * a deposed leader serve reads after a new leader was elected; ours expires election_tick - 2
 * ticks after the round a quorum acknowledged was sent. */
static void test_sim_catches_lease_without_expiry(void **state) {
  (void)state;
  s_mutation("lease-until-stepdown (breaks thesis §6.4.1)", RAFT_UNSAFE_LEASE_UNTIL_STEPDOWN, 5, 0,
             9000000);
}

/* Ticks alone do not measure real time: a leader paused past its lease resumes with its tick
 * counter where it stopped and trusts a lease a newer leader has outlived; a follower resumed
 * handles its leader's last heartbeat before the ticks it owes, which end its vote lease at
 * once. Ours measures both leases on the clock as well (raft_config_t.clock_us). */
static void test_sim_catches_lease_on_ticks_alone(void **state) {
  (void)state;
  s_mutation("lease-ticks-only (pauses; thesis §6.4.1's clock assumption)",
             RAFT_UNSAFE_LEASE_TICKS_ONLY, 3, 0, 9500000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sim_catches_commit_of_old_term_entries),
      cmocka_unit_test(test_sim_catches_missing_up_to_date_check),
      cmocka_unit_test(test_sim_catches_lease_without_expiry),
      cmocka_unit_test(test_sim_catches_lease_on_ticks_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
