/* raft_sim_test: thousands of seeded schedules of the deterministic simulation (label sim).
 *
 * Each test runs RAFT_SIM_RUNS schedules (default per test below, an eighth of it under the
 * sanitizers) starting at a base seed;
 * RAFT_SIM_SEED=<seed> runs that one schedule instead (with RAFT_SIM_TRACE=1 it prints every
 * event); RAFT_SIM_FIRST=<seed> starts the sweeps there instead of at their base (a sweep past a
 * seed that fails, or on from where an earlier sweep stopped). A failing schedule prints its
 * seed, the violated property and the last events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "raft_sim.h"

/* Sanitizer builds run about ten times slower: fewer schedules by default. */
#if defined(__SANITIZE_ADDRESS__)
#define S_SCALE 8
#else
#define S_SCALE 1
#endif

/* A number from the environment: false when unset; anything but digits fails the test, naming
 * the variable. */
static bool s_env_number(const char *name, uint64_t *out) {
  const char *v = getenv(name);
  if (!v || !*v) return false;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (*end || errno || v[0] < '0' || v[0] > '9')
    fail_msg("%s=%s: not a number (digits only, e.g. %s=3000000)", name, v, name);
  *out = x;
  return true;
}

static uint64_t s_env_u64(const char *name, uint64_t dflt) {
  uint64_t x;
  return s_env_number(name, &x) ? x : dflt / S_SCALE;
}

/* The first seed of a sweep: RAFT_SIM_FIRST, else the shape's base. */
static uint64_t s_first_seed(uint64_t base) {
  uint64_t x;
  return s_env_number("RAFT_SIM_FIRST", &x) ? x : base;
}

/* Runs the schedules for one cluster shape; fails on the first violation. */
static void s_run_many(const char *name, raft_sim_opts_t *o, uint64_t base_seed, uint64_t runs) {
  o->trace = s_env_u64("RAFT_SIM_TRACE", 0) != 0;
  uint64_t first = base_seed;
  if (s_env_number("RAFT_SIM_SEED", &first)) runs = 1;
  raft_sim_result_t sum = {0}, res;
  unsigned max_live = 0, max_leader = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (uint64_t k = 0; k < runs; k++) {
    uint64_t seed = first + k;
    if (raft_sim_run(o, seed, &res) != 0) {
      fprintf(stderr, "%s: seed %llu failed: %s\n", name, (unsigned long long)seed, res.what);
      fail_msg("%s: RAFT_SIM_SEED=%llu reproduces: %s", name, (unsigned long long)seed, res.what);
    }
    sum.events += res.events;
    sum.elections += res.elections;
    sum.commits += res.commits;
    sum.crashes += res.crashes;
    sum.pauses += res.pauses;
    sum.snapshots_installed += res.snapshots_installed;
    sum.reads_served += res.reads_served;
    sum.transfers += res.transfers;
    sum.conf_changes += res.conf_changes;
    if (res.liveness_ticks > max_live) max_live = res.liveness_ticks;
    if (res.leader_ticks > max_leader) max_leader = res.leader_ticks;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%s: %llu schedules from seed %llu in %.1fs: %llu events, %llu elections, %llu commits, "
         "%llu crashes, %llu pauses, %llu snapshots installed, %llu reads, %llu transfers, %llu conf changes; "
         "after healing, a leader within %u ticks and the probe committed within %u ticks\n",
         name, (unsigned long long)runs, (unsigned long long)first, secs,
         (unsigned long long)sum.events, (unsigned long long)sum.elections,
         (unsigned long long)sum.commits, (unsigned long long)sum.crashes,
         (unsigned long long)sum.pauses,
         (unsigned long long)sum.snapshots_installed, (unsigned long long)sum.reads_served,
         (unsigned long long)sum.transfers, (unsigned long long)sum.conf_changes, max_leader,
         max_live);
}

static void test_sim_three_nodes(void **state) {
  (void)state;
  raft_sim_opts_t o;
  raft_sim_opts_default(&o, 3);
  s_run_many("3 nodes", &o, s_first_seed(1000000), s_env_u64("RAFT_SIM_RUNS", 3000));
}

static void test_sim_five_nodes(void **state) {
  (void)state;
  raft_sim_opts_t o;
  raft_sim_opts_default(&o, 5);
  s_run_many("5 nodes", &o, s_first_seed(2000000), s_env_u64("RAFT_SIM_RUNS", 2000));
}

static void test_sim_membership(void **state) {
  (void)state;
  raft_sim_opts_t o;
  raft_sim_opts_default(&o, 3);
  o.spares = 3;
  o.membership = true;
  s_run_many("membership", &o, s_first_seed(3000000), s_env_u64("RAFT_SIM_RUNS", 2500));
}

/* Schedules that once failed, replayed in every run whatever RAFT_SIM_RUNS says (a change to the
 * core reshapes schedules, so these guard the fix only as long as they still reach the shape,
 * but they cost a fraction of a second). Liveness, found with RAFT_SIM_RUNS=15000: a late
 * rejection made the leader lower a follower's match below its snapshot while the follower's
 * commit was above it; the follower refused every snapshot as old news without telling its
 * commit, and the leader sent snapshots forever (seeds 1006189 and 3014024 on d8ef04b, 1009679
 * and 3005246 before it; raft_snap_stream.c's s_old_news). Safety, found with
 * RAFT_SIM_RUNS=100000: a node bumped to a higher term by a rejected pre-vote answer granted the
 * candidate's vote at that term while it still acknowledged the old leader's lease (seed 3055241;
 * raft_election_handle_vote). Liveness, found with RAFT_SIM_RUNS=100000: four voters, two behind
 * in the log, elected nobody for 200 ticks after healing; every hopeless candidacy restarted the
 * election timer of the one voter that could win (seed 3066153; s_step in raft_core.c, and
 * raft_paper_election_test's test_follower_timer_runs_through_a_refused_vote, which holds the
 * rule whatever shape the schedules take). */
static void test_sim_found_seeds(void **state) {
  (void)state;
  if (getenv("RAFT_SIM_SEED")) skip();
  static const struct {
    const char *shape;
    uint64_t seed;
  } found[] = {{"3", 1006189},          {"3", 1009679},          {"membership", 3014024},
                {"membership", 3005246}, {"membership", 3055241},
                {"membership", 3066153}};
  for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
    raft_sim_opts_t o;
    raft_sim_opts_default(&o, 3);
    o.pauses = false; /* found before pauses were simulated: replay those very schedules */
    if (found[i].shape[0] == 'm') {
      o.spares = 3;
      o.membership = true;
    }
    s_run_many(found[i].shape[0] == 'm' ? "membership (found)" : "3 nodes (found)", &o,
               found[i].seed, 1);
  }
}

int main(void) {
  const char *only = getenv("RAFT_SIM_TEST");
  if (only && *only) cmocka_set_test_filter(only);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sim_three_nodes),
      cmocka_unit_test(test_sim_five_nodes),
      cmocka_unit_test(test_sim_membership),
      cmocka_unit_test(test_sim_found_seeds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
