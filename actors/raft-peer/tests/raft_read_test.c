/* raft_read_test: conformance tests for linearizable reads: ReadIndex (§6.4) on the leader and
 * forwarded from followers, and lease reads (thesis §6.4.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

/* ------------------------------------------------------------------------------------------ */
/* ReadIndex (§6.4) and leases. */

/* Three nodes with lease reads, node 1 elected and two ticks on: its lease holds. */
static tnet_t *s_lease_cluster(void) {
  tnet_t *net = tnet_new(3, tnet_config_lease);
  tnet_campaign(net, 1);
  tnet_tick_all(net, 2);
  return net;
}

/* §6.4: "If the leader has not yet marked an entry from its current term committed, it waits
 * until it has done so", then confirms its leadership with a heartbeat round. */
static void test_read_index_waits_for_first_commit_and_quorum(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 1, 3);
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  assert_int_equal(raft_core_read_index(l, 42), 0);
  tnet_msgs_t msgs = {0};
  tnet_core_drain(l, &msgs, NULL);
  assert_int_equal(tnet_msgs_count(&msgs, RAFT_MSG_HEARTBEAT), 0);
  tnet_msgs_clear(&msgs);
  tnet_core_ack(l, 2, 1); /* the empty entry commits: now a heartbeat round starts */
  raft_update_t u;
  assert_int_equal(raft_core_get_update(l, &u), 0);
  assert_int_equal(u.n_reads, 0);
  uint64_t round = 0;
  for (size_t k = 0; k < u.n_msgs; k++)
    if (u.msgs[k].type == RAFT_MSG_HEARTBEAT) round = u.msgs[k].ctx;
  assert_true(round > 0);
  raft_core_advance(l, &u);
  /* One answer from a follower makes a quorum (with the leader). */
  raft_msg_t hr = {.type = RAFT_MSG_HEARTBEAT_RESP, .from = 3, .term = 1, .ctx = round};
  tnet_core_step(l, hr);
  assert_int_equal(raft_core_get_update(l, &u), 0);
  assert_int_equal(u.n_reads, 1);
  assert_int_equal(u.reads[0].ctx, 42);
  assert_int_equal(u.reads[0].index, 1);
  raft_core_advance(l, &u);
  raft_core_destroy(&l);
}

static void test_read_index_needs_quorum(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  tnet_isolate(net, 1);
  assert_int_equal(raft_core_read_index(net->nodes[1].r, 7), 0);
  tnet_tick_all(net, 5);
  assert_false(tnet_has_read(&net->nodes[1], 7, NULL));
  tnet_heal(net);
  tnet_tick_all(net, 1);
  raft_index_t idx;
  assert_true(tnet_has_read(&net->nodes[1], 7, &idx));
  assert_int_equal(idx, tnet_status(net, 1).hard.commit);
  tnet_destroy(&net);
}

/* thesis §6.4: followers ask the leader for the read index; no leader, no read. */
static void test_read_index_follower_forwards(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  assert_int_equal(raft_core_read_index(net->nodes[2].r, 5), RV_ENOTLEADER);
  tnet_campaign(net, 1);
  tnet_propose(net, 1, "a");
  tnet_settle(net);
  assert_int_equal(raft_core_read_index(net->nodes[2].r, 5), 0);
  tnet_settle(net);
  raft_index_t idx;
  assert_true(tnet_has_read(&net->nodes[2], 5, &idx));
  assert_int_equal(idx, tnet_status(net, 1).hard.commit);
  assert_false(tnet_has_read(&net->nodes[1], 5, NULL));
  tnet_destroy(&net);
}

/* Lease reads: served without a round while the lease holds, never after the leader has sent
 * TimeoutNow, and not once the quorum has been silent for the lease period. */
static void test_lease_read(void **state) {
  (void)state;
  tnet_t *net = s_lease_cluster();
  raft_core_t *l = net->nodes[1].r;
  assert_true(tnet_core_status(l).lease_valid);
  tnet_isolate(net, 1);
  assert_int_equal(raft_core_read_index(l, 1), 0);
  tnet_settle(net);
  assert_true(tnet_has_read(&net->nodes[1], 1, NULL)); /* no round needed */
  assert_int_equal(tnet_core_status(l).reads_lease, 1);
  assert_int_equal(tnet_core_status(l).reads_round, 0);
  tnet_tick(net, 1, 8);
  assert_false(tnet_core_status(l).lease_valid); /* lease ran out: et - 2 ticks after the last round */
  assert_int_equal(raft_core_read_index(l, 2), 0);
  tnet_settle(net);
  assert_false(tnet_has_read(&net->nodes[1], 2, NULL));
  tnet_destroy(&net);

  net = s_lease_cluster();
  l = net->nodes[1].r;
  tnet_isolate(net, 2);
  assert_int_equal(raft_core_transfer_leader(l, 2), 0);
  tnet_settle(net);
  assert_false(tnet_core_status(l).lease_valid);
  tnet_tick_all(net, 12); /* transfer aborted ... */
  assert_int_equal(tnet_core_status(l).transferee, 0);
  assert_int_equal(tnet_core_status(l).role, RAFT_LEADER);
  assert_false(tnet_core_status(l).lease_valid); /* ... but the TimeoutNow may still be delivered */
  tnet_destroy(&net);
}

/* A lease read forwarded by a follower is answered at once with the leader's commit index; the
 * follower serves it once it has applied that index, so it must learn that commit with the
 * answer, not at the leader's next tick (commits propagate lazily: raft_replication.c). */
static void test_lease_read_follower_learns_commit(void **state) {
  (void)state;
  tnet_t *net = s_lease_cluster();
  assert_true(tnet_core_status(net->nodes[1].r).lease_valid);
  assert_int_equal(tnet_propose(net, 1, "a"), 0);
  tnet_settle(net);
  raft_index_t commit = tnet_status(net, 1).hard.commit;
  assert_true(tnet_status(net, 2).hard.commit < commit); /* not told yet */
  assert_int_equal(raft_core_read_index(net->nodes[2].r, 9), 0);
  tnet_settle(net);
  raft_index_t idx;
  assert_true(tnet_has_read(&net->nodes[2], 9, &idx));
  assert_int_equal(idx, commit);
  assert_int_equal(tnet_status(net, 2).hard.commit, commit);
  tnet_destroy(&net);
}

/* A leader paused (SIGSTOP, a starved host) past its lease resumes with its tick counter where
 * it stopped: the clock, not the ticks, says the lease is gone, and a read then waits for a
 * round a quorum acknowledges. */
static void test_lease_read_paused_leader(void **state) {
  (void)state;
  tnet_t *net = s_lease_cluster();
  raft_core_t *l = net->nodes[1].r;
  assert_true(tnet_core_status(l).lease_valid);
  tnet_clock_advance(7); /* paused for 7 ticks: within election_tick - 2 of the round */
  assert_true(tnet_core_status(l).lease_valid);
  tnet_clock_advance(2);
  assert_false(tnet_core_status(l).lease_valid); /* its ticks say one tick has passed */
  tnet_isolate(net, 1);
  assert_int_equal(raft_core_read_index(l, 1), 0);
  tnet_settle(net);
  assert_false(tnet_has_read(&net->nodes[1], 1, NULL)); /* needs a round: nobody answers */
  tnet_heal(net);
  tnet_tick_all(net, 1);
  assert_true(tnet_has_read(&net->nodes[1], 1, NULL));
  assert_int_equal(tnet_core_status(l).reads_lease, 0);
  assert_int_equal(tnet_core_status(l).reads_round, 1);
  assert_true(tnet_core_status(l).lease_valid); /* the round renewed it */
  tnet_destroy(&net);
}

/* A voter resumed from a pause handles its leader's heartbeat before the ticks it owes (they
 * catch up one per loop turn): its vote lease must still run election_tick ticks of real time
 * from then, or a candidate it votes for could lead while the old leader trusts its lease. */
static void test_vote_lease_survives_owed_ticks(void **state) {
  (void)state;
  tnet_t *net = s_lease_cluster();
  tnet_clock_advance(30); /* node 2 was paused: its ticks owe 30 */
  tnet_tick(net, 1, 1);   /* the leader's heartbeat round ... */
  tnet_settle(net);       /* ... node 2 acknowledges it, with its ticks still behind */
  raft_core_t *l = net->nodes[1].r;
  assert_true(tnet_core_status(l).lease_valid);
  for (int i = 0; i < 30; i++) raft_core_tick(net->nodes[2].r); /* owed: no real time passes */
  /* Node 3, cut off from the leader, asks node 2 for its vote at a higher term. */
  raft_status_t st3 = tnet_status(net, 3);
  raft_msg_t v = {.type = RAFT_MSG_VOTE, .from = 3, .term = st3.hard.term + 1,
                  .index = st3.last_index, .log_term = st3.last_term};
  tnet_core_step(net->nodes[2].r, v);
  tnet_msgs_t out = {0};
  tnet_core_drain(net->nodes[2].r, &out, NULL);
  const raft_msg_t *resp = tnet_msgs_find(&out, RAFT_MSG_VOTE_RESP, 3);
  assert_true(resp == NULL || resp->reject); /* refused (or ignored) within the lease */
  assert_true(tnet_core_status(l).lease_valid);
  tnet_msgs_clear(&out);
  tnet_destroy(&net);
}

/* The shell may forbid lease reads (a voter that may time its vote lease in ticks alone, in a
 * rolling upgrade): reads then wait for a round, and are served from the lease again once it
 * allows. */
static void test_lease_read_disallowed(void **state) {
  (void)state;
  tnet_t *net = s_lease_cluster();
  raft_core_t *l = net->nodes[1].r;
  raft_core_allow_lease(l, false);
  assert_false(tnet_core_status(l).lease_valid);
  tnet_isolate(net, 1);
  assert_int_equal(raft_core_read_index(l, 1), 0);
  tnet_settle(net);
  assert_false(tnet_has_read(&net->nodes[1], 1, NULL)); /* a round, which nobody answers */
  raft_core_allow_lease(l, true);
  assert_true(tnet_core_status(l).lease_valid);
  assert_int_equal(raft_core_read_index(l, 2), 0);
  tnet_settle(net);
  assert_true(tnet_has_read(&net->nodes[1], 2, NULL));
  tnet_destroy(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_index_waits_for_first_commit_and_quorum),
      cmocka_unit_test(test_read_index_needs_quorum),
      cmocka_unit_test(test_read_index_follower_forwards),
      cmocka_unit_test(test_lease_read),
      cmocka_unit_test(test_lease_read_follower_learns_commit),
      cmocka_unit_test(test_lease_read_paused_leader),
      cmocka_unit_test(test_vote_lease_survives_owed_ticks),
      cmocka_unit_test(test_lease_read_disallowed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
