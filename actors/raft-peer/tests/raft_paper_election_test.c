/* raft_paper_election_test: conformance tests named after the Raft paper's claims about terms
 * and elections (§5.1, §5.2, and the election restriction of §5.4.1), following etcd's
 * raft_paper_test.go checklist. Pre-vote and check-quorum are off, as in the paper; see
 * raft_leadership_test for the extensions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

/* ------------------------------------------------------------------------------------------ */
/* §5.1 terms. */

/* §5.1: "If one server's current term is smaller than the other's, then it updates its current
 * term to the larger value. If a candidate or leader discovers that its term is out of date, it
 * immediately reverts to follower state." */
static void s_update_term_from_message(raft_role_t role) {
  raft_core_t *r = tnet_core_with_log(1, 3, 1, 0, NULL, 0, 0);
  if (role == RAFT_CANDIDATE) {
    raft_core_campaign(r);
  } else if (role == RAFT_LEADER) {
    tnet_core_make_leader(r, 3);
  }
  tnet_core_flush(r);
  assert_int_equal(tnet_core_status(r).role, role);
  raft_msg_t m = {.type = RAFT_MSG_APP, .from = 2, .term = 5};
  assert_int_equal(tnet_core_step(r, m), 0);
  raft_status_t st = tnet_core_status(r);
  assert_int_equal(st.hard.term, 5);
  assert_int_equal(st.role, RAFT_FOLLOWER);
  assert_int_equal(st.leader, 2);
  assert_int_equal(st.hard.vote, 0);
  raft_core_destroy(&r);
}

static void test_follower_update_term_from_message(void **state) {
  (void)state;
  s_update_term_from_message(RAFT_FOLLOWER);
}

static void test_candidate_update_term_from_message(void **state) {
  (void)state;
  s_update_term_from_message(RAFT_CANDIDATE);
}

static void test_leader_update_term_from_message(void **state) {
  (void)state;
  s_update_term_from_message(RAFT_LEADER);
}

/* §5.1: "If a server receives a request with a stale term number, it rejects the request." */
static void test_reject_stale_term_message(void **state) {
  (void)state;
  raft_term_t terms[] = {1};
  raft_core_t *r = tnet_core_with_log(1, 3, 2, 0, terms, 1, 0);
  tnet_core_flush(r);
  raft_entry_t e = {.term = 1, .index = 2, .type = RAFT_ENTRY_NORMAL};
  raft_msg_t m = {.type = RAFT_MSG_APP, .from = 2, .term = 1, .index = 1, .log_term = 1,
                  .entries = &e, .n_entries = 1, .commit = 2};
  assert_int_equal(tnet_core_step(r, m), 0);
  raft_status_t st = tnet_core_status(r);
  assert_int_equal(st.hard.term, 2);
  assert_int_equal(st.last_index, 1);
  assert_int_equal(st.hard.commit, 0);
  assert_int_equal(st.leader, 0);
  /* Without check-quorum or pre-vote nothing is sent back (etcd: the step function is never
   * called). */
  assert_false(raft_core_ready(r));
  raft_core_destroy(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* §5.2 leader election. */

/* §5.2: "When servers start up, they begin as followers." */
static void test_start_as_follower(void **state) {
  (void)state;
  raft_core_t *r = tnet_core_with_log(1, 3, 0, 0, NULL, 0, 0);
  assert_int_equal(tnet_core_status(r).role, RAFT_FOLLOWER);
  assert_int_equal(tnet_core_status(r).hard.term, 0);
  raft_core_destroy(&r);
}

/* §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all
 * followers in order to maintain their authority." */
static void test_leader_bcast_beat(void **state) {
  (void)state;
  raft_core_t *r = tnet_core_with_log(1, 3, 0, 0, NULL, 0, 0);
  tnet_core_make_leader(r, 3);
  for (int k = 0; k < 10; k++) raft_core_propose(r, "x", 1, NULL);
  tnet_core_flush(r);
  raft_core_tick(r); /* heartbeat_tick = 1 */
  tnet_msgs_t msgs = {0};
  tnet_core_drain(r, &msgs, NULL);
  assert_int_equal(tnet_msgs_count(&msgs, RAFT_MSG_HEARTBEAT), 2);
  for (raft_id_t to = 2; to <= 3; to++) {
    const raft_msg_t *hb = tnet_msgs_find(&msgs, RAFT_MSG_HEARTBEAT, to);
    assert_non_null(hb);
    assert_int_equal(hb->term, 1);
    assert_int_equal(hb->n_entries, 0);
    assert_int_equal(hb->commit, 0); /* min(match, commit): nothing matched yet */
  }
  tnet_msgs_clear(&msgs);
  raft_core_destroy(&r);
}

/* §5.2: "If a follower receives no communication over a period of time called the election
 * timeout, then it assumes there is no viable leader and begins an election to choose a new
 * leader. To begin an election, a follower increments its current term and transitions to
 * candidate state. It then votes for itself and issues RequestVote RPCs in parallel". A
 * candidate whose election times out starts a new one the same way. */
static void s_non_leader_start_election(raft_role_t role) {
  raft_core_t *r = tnet_core_with_log(1, 3, 1, 0, NULL, 0, 0);
  if (role == RAFT_CANDIDATE) raft_core_campaign(r);
  raft_term_t before = tnet_core_status(r).hard.term;
  tnet_core_flush(r);
  for (int k = 0; k < 2 * 10; k++) raft_core_tick(r);
  tnet_msgs_t msgs = {0};
  tnet_core_drain(r, &msgs, NULL);
  raft_status_t st = tnet_core_status(r);
  assert_int_equal(st.role, RAFT_CANDIDATE);
  assert_int_equal(st.hard.term, before + 1);
  assert_int_equal(st.hard.vote, 1);
  assert_int_equal(tnet_msgs_count(&msgs, RAFT_MSG_VOTE), 2);
  for (raft_id_t to = 2; to <= 3; to++) {
    const raft_msg_t *v = tnet_msgs_find(&msgs, RAFT_MSG_VOTE, to);
    assert_non_null(v);
    assert_int_equal(v->term, before + 1);
  }
  tnet_msgs_clear(&msgs);
  raft_core_destroy(&r);
}

static void test_follower_start_election(void **state) {
  (void)state;
  s_non_leader_start_election(RAFT_FOLLOWER);
}

static void test_candidate_start_new_election(void **state) {
  (void)state;
  s_non_leader_start_election(RAFT_CANDIDATE);
}

/* §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the
 * full cluster for the same term ... a candidate ... either (a) it wins the election, (b) another
 * server establishes itself as leader, or (c) a period of time goes by with no winner." */
static void test_leader_election_in_one_round_rpc(void **state) {
  (void)state;
  struct {
    size_t size;
    int votes[6]; /* per id: 1 granted, -1 rejected, 0 no answer */
    raft_role_t want;
  } tt[] = {
      {1, {0}, RAFT_LEADER},
      {3, {0, 0, 1, 1}, RAFT_LEADER},
      {3, {0, 0, 1, 0}, RAFT_LEADER},
      {5, {0, 0, 1, 1, 1, 1}, RAFT_LEADER},
      {5, {0, 0, 1, 1, 1, 0}, RAFT_LEADER},
      {5, {0, 0, 1, 1, 0, 0}, RAFT_LEADER},
      {3, {0, 0, -1, -1}, RAFT_FOLLOWER},
      {5, {0, 0, -1, -1, -1, -1}, RAFT_FOLLOWER},
      {5, {0, 0, 1, -1, -1, -1}, RAFT_FOLLOWER},
      {3, {0}, RAFT_CANDIDATE},
      {5, {0, 0, 1, 0, 0, 0}, RAFT_CANDIDATE},
      {5, {0, 0, -1, -1, 0, 0}, RAFT_CANDIDATE},
      {5, {0}, RAFT_CANDIDATE},
  };
  for (size_t i = 0; i < sizeof tt / sizeof tt[0]; i++) {
    raft_core_t *r = tnet_core_with_log(1, tt[i].size, 0, 0, NULL, 0, 0);
    raft_core_campaign(r);
    tnet_core_flush(r);
    for (raft_id_t id = 2; id <= tt[i].size; id++) {
      if (tt[i].votes[id] == 0) continue;
      raft_msg_t m = {.type = RAFT_MSG_VOTE_RESP, .from = id, .term = 1,
                      .reject = tt[i].votes[id] < 0};
      tnet_core_step(r, m);
    }
    raft_status_t st = tnet_core_status(r);
    assert_int_equal(st.role, tt[i].want);
    assert_int_equal(st.hard.term, 1);
    raft_core_destroy(&r);
  }
}

/* §5.2 leader election in a network: one round elects, everyone agrees on the leader. */
static void test_leader_election_in_network(void **state) {
  (void)state;
  tnet_t *net = tnet_new(5, NULL);
  tnet_campaign(net, 3);
  /* the followers learn the commit of the leader's empty entry at its next tick (lazy commit,
   * §5.3 "so that the other servers eventually find out") */
  tnet_tick(net, 3, 1);
  tnet_settle(net);
  for (raft_id_t id = 1; id <= 5; id++) {
    raft_status_t st = tnet_status(net, id);
    assert_int_equal(st.leader, 3);
    assert_int_equal(st.hard.term, 1);
    assert_int_equal(st.hard.commit, 1);
  }
  tnet_destroy(&net);
}

/* §5.2: "Each server will vote for at most one candidate in a given term, on a
 * first-come-first-served basis". */
static void test_follower_vote(void **state) {
  (void)state;
  struct {
    raft_id_t vote, candidate;
    bool want_reject;
  } tt[] = {{0, 2, false}, {0, 3, false}, {2, 2, false}, {3, 3, false}, {2, 3, true},
            {3, 2, true}};
  for (size_t i = 0; i < sizeof tt / sizeof tt[0]; i++) {
    raft_core_t *r = tnet_core_with_log(1, 3, 1, tt[i].vote, NULL, 0, 0);
    raft_msg_t m = {.type = RAFT_MSG_VOTE, .from = tt[i].candidate, .term = 1};
    tnet_core_step(r, m);
    tnet_msgs_t msgs = {0};
    tnet_core_drain(r, &msgs, NULL);
    const raft_msg_t *resp = tnet_msgs_find(&msgs, RAFT_MSG_VOTE_RESP, tt[i].candidate);
    assert_non_null(resp);
    assert_int_equal(resp->reject, tt[i].want_reject);
    assert_int_equal(resp->term, 1);
    assert_int_equal(tnet_core_status(r).hard.vote, tt[i].vote ? tt[i].vote : tt[i].candidate);
    tnet_msgs_clear(&msgs);
    raft_core_destroy(&r);
  }
}

/* §5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC from another server
 * claiming to be leader. If the leader's term (included in its RPC) is at least as large as the
 * candidate's current term, then the candidate recognizes the leader as legitimate and returns to
 * follower state." */
static void test_candidate_fallback(void **state) {
  (void)state;
  raft_term_t terms[] = {1, 2};
  for (size_t i = 0; i < 2; i++) {
    raft_core_t *r = tnet_core_with_log(1, 3, 0, 0, NULL, 0, 0);
    raft_core_campaign(r);
    assert_int_equal(tnet_core_status(r).role, RAFT_CANDIDATE);
    raft_msg_t m = {.type = RAFT_MSG_APP, .from = 2, .term = terms[i]};
    tnet_core_step(r, m);
    raft_status_t st = tnet_core_status(r);
    assert_int_equal(st.role, RAFT_FOLLOWER);
    assert_int_equal(st.hard.term, terms[i]);
    assert_int_equal(st.leader, 2);
    raft_core_destroy(&r);
  }
}

/* §5.2: "Raft uses randomized election timeouts to ensure that split votes are rare ... election
 * timeouts are chosen randomly from a fixed interval (e.g., 150-300ms)". Here [et, 2 et). */
static void s_election_timeout_randomized(raft_role_t role) {
  raft_core_t *r = tnet_core_with_log(1, 3, 1, 0, NULL, 0, 0);
  if (role == RAFT_CANDIDATE) raft_core_campaign(r);
  bool seen[20] = {false};
  for (int round = 0; round < 500; round++) {
    raft_term_t term = tnet_core_status(r).hard.term;
    unsigned ticks = 0;
    while (tnet_core_status(r).hard.term == term) {
      raft_core_tick(r);
      ticks++;
      assert_true(ticks < 20);
    }
    assert_true(ticks >= 10);
    seen[ticks] = true;
    tnet_core_flush(r);
  }
  for (unsigned t = 10; t < 20; t++) assert_true(seen[t]);
  raft_core_destroy(&r);
}

static void test_follower_election_timeout_randomized(void **state) {
  (void)state;
  s_election_timeout_randomized(RAFT_FOLLOWER);
}

static void test_candidate_election_timeout_randomized(void **state) {
  (void)state;
  s_election_timeout_randomized(RAFT_CANDIDATE);
}

/* §5.2: "in most cases only a single server will time out". Fresh 5-node followers, each with
 * its own seed, tick in lockstep: the first timeout is shared by several nodes rarely. */
static void test_followers_election_timeout_nonconflict(void **state) {
  (void)state;
  int conflicts = 0, rounds = 1000;
  for (int round = 0; round < rounds; round++) {
    raft_core_t *rs[5];
    for (int k = 0; k < 5; k++) {
      raft_config_t cfg;
      tnet_config(&cfg, (raft_id_t)k + 1, 5);
      cfg.seed = (uint64_t)round * 7919 + (uint64_t)k;
      rs[k] = raft_core_new(&cfg, NULL, NULL);
    }
    int timed_out = 0;
    while (timed_out == 0) {
      for (int k = 0; k < 5; k++) {
        raft_core_tick(rs[k]);
        if (tnet_core_status(rs[k]).role == RAFT_CANDIDATE) timed_out++;
      }
    }
    if (timed_out > 1) conflicts++;
    for (int k = 0; k < 5; k++) raft_core_destroy(&rs[k]);
  }
  /* etcd's bound: at most 30% of rounds. With 10 slots and 5 nodes it is about 23%. */
  assert_true(conflicts <= rounds * 3 / 10);
}

/* ------------------------------------------------------------------------------------------ */
/* §5.4.1 election restriction. */

/* §5.4.1: "The RequestVote RPC implements this restriction: the RPC includes information about
 * the candidate's log". */
static void test_vote_request(void **state) {
  (void)state;
  struct {
    raft_term_t terms[2];
    size_t n;
    raft_term_t want_term;
  } tt[] = {{{1}, 1, 2}, {{1, 2}, 2, 3}};
  for (size_t i = 0; i < 2; i++) {
    raft_core_t *r = tnet_core_with_log(1, 3, 0, 0, NULL, 0, 0);
    raft_entry_t ents[2];
    for (size_t k = 0; k < tt[i].n; k++)
      ents[k] = (raft_entry_t){.term = tt[i].terms[k], .index = k + 1};
    raft_msg_t m = {.type = RAFT_MSG_APP, .from = 2, .term = tt[i].want_term - 1,
                    .entries = ents, .n_entries = tt[i].n};
    tnet_core_step(r, m);
    tnet_core_flush(r);
    for (int k = 0; k < 20; k++) raft_core_tick(r);
    tnet_msgs_t msgs = {0};
    tnet_core_drain(r, &msgs, NULL);
    assert_int_equal(tnet_msgs_count(&msgs, RAFT_MSG_VOTE), 2);
    for (raft_id_t to = 2; to <= 3; to++) {
      const raft_msg_t *v = tnet_msgs_find(&msgs, RAFT_MSG_VOTE, to);
      assert_non_null(v);
      assert_int_equal(v->term, tt[i].want_term);
      assert_int_equal(v->index, tt[i].n);
      assert_int_equal(v->log_term, tt[i].terms[tt[i].n - 1]);
    }
    tnet_msgs_clear(&msgs);
    raft_core_destroy(&r);
  }
}

/* §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
 * candidate. ... If the logs have last entries with different terms, then the log with the later
 * term is more up-to-date. If the logs end with the same term, then whichever log is longer is
 * more up-to-date." */
static void test_voter_up_to_date_check(void **state) {
  (void)state;
  struct {
    raft_term_t log[2];
    size_t n;
    raft_term_t cand_log_term;
    raft_index_t cand_index;
    bool want_reject;
  } tt[] = {
      {{1}, 1, 1, 1, false},    {{1}, 1, 1, 2, false},    {{1, 1}, 2, 1, 1, true},
      {{1}, 1, 2, 1, false},    {{1}, 1, 2, 2, false},    {{1, 1}, 2, 2, 1, false},
      {{2}, 1, 1, 1, true},     {{2}, 1, 1, 2, true},     {{2, 2}, 2, 1, 1, true},
  };
  for (size_t i = 0; i < sizeof tt / sizeof tt[0]; i++) {
    raft_core_t *r = tnet_core_with_log(1, 3, 2, 0, tt[i].log, tt[i].n, 0);
    raft_msg_t m = {.type = RAFT_MSG_VOTE, .from = 2, .term = 3, .log_term = tt[i].cand_log_term,
                    .index = tt[i].cand_index};
    tnet_core_step(r, m);
    tnet_msgs_t msgs = {0};
    tnet_core_drain(r, &msgs, NULL);
    const raft_msg_t *resp = tnet_msgs_find(&msgs, RAFT_MSG_VOTE_RESP, 2);
    assert_non_null(resp);
    assert_int_equal(resp->reject, tt[i].want_reject);
    tnet_msgs_clear(&msgs);
    raft_core_destroy(&r);
  }
}

/* Figure 2, followers: "If election timeout elapses without receiving AppendEntries RPC from
 * current leader or granting vote to candidate: convert to candidate". A vote request that raises
 * our term but that we refuse (the candidate's log is behind ours) does not restart the timer: the
 * voter that could win campaigns on its own schedule, whatever hopeless candidates do. A vote we
 * grant restarts it. (Restarting it on every higher-term request left four voters, two behind in
 * the log, without a leader for 200 ticks: raft_sim_test, membership seed 3066153.) */
static void test_follower_timer_runs_through_a_refused_vote(void **state) {
  (void)state;
  raft_term_t log[] = {2, 2};
  raft_core_t *r = tnet_core_with_log(1, 3, 2, 0, log, 2, 0);
  unsigned timeout = 0;
  while (tnet_core_status(r).role == RAFT_FOLLOWER) {
    raft_core_tick(r);
    timeout++;
    assert_true(timeout < 20);
  }
  raft_core_destroy(&r);

  for (int grant = 0; grant <= 1; grant++) {
    r = tnet_core_with_log(1, 3, 2, 0, log, 2, 0); /* same seed: the same first timeout */
    for (unsigned t = 0; t + 1 < timeout; t++) raft_core_tick(r);
    raft_msg_t m = {.type = RAFT_MSG_VOTE, .from = 2, .term = 3, .log_term = grant ? 2 : 1,
                    .index = grant ? 2 : 1};
    tnet_core_step(r, m);
    tnet_msgs_t msgs = {0};
    tnet_core_drain(r, &msgs, NULL);
    const raft_msg_t *resp = tnet_msgs_find(&msgs, RAFT_MSG_VOTE_RESP, 2);
    assert_non_null(resp);
    assert_int_equal(resp->reject, !grant);
    tnet_msgs_clear(&msgs);
    assert_int_equal(tnet_core_status(r).hard.term, 3);
    raft_core_tick(r);
    raft_status_t st = tnet_core_status(r);
    if (!grant) { /* the timeout it had drawn elapses on the tick it would have anyway */
      assert_int_equal(st.role, RAFT_CANDIDATE);
      assert_int_equal(st.hard.term, 4);
    } else { /* a full timeout again from the grant */
      assert_int_equal(st.role, RAFT_FOLLOWER);
      for (unsigned t = 1; t < 9; t++) raft_core_tick(r);
      assert_int_equal(tnet_core_status(r).role, RAFT_FOLLOWER);
    }
    raft_core_destroy(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_follower_update_term_from_message),
      cmocka_unit_test(test_candidate_update_term_from_message),
      cmocka_unit_test(test_leader_update_term_from_message),
      cmocka_unit_test(test_reject_stale_term_message),
      cmocka_unit_test(test_start_as_follower),
      cmocka_unit_test(test_leader_bcast_beat),
      cmocka_unit_test(test_follower_start_election),
      cmocka_unit_test(test_candidate_start_new_election),
      cmocka_unit_test(test_leader_election_in_one_round_rpc),
      cmocka_unit_test(test_leader_election_in_network),
      cmocka_unit_test(test_follower_vote),
      cmocka_unit_test(test_candidate_fallback),
      cmocka_unit_test(test_follower_election_timeout_randomized),
      cmocka_unit_test(test_candidate_election_timeout_randomized),
      cmocka_unit_test(test_followers_election_timeout_nonconflict),
      cmocka_unit_test(test_vote_request),
      cmocka_unit_test(test_voter_up_to_date_check),
      cmocka_unit_test(test_follower_timer_runs_through_a_refused_vote),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
