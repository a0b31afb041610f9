/* raft_leadership_test: conformance tests for who leads: pre-vote (thesis §9.6), vote leases and
 * check-quorum (thesis §4.2.3, §6.2), and leadership transfer (thesis §3.10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

/* ------------------------------------------------------------------------------------------ */
/* Pre-vote (thesis §9.6). */

/* "a server that is partitioned ... would not be able to increment its term, since it could not
 * receive permission from a majority of the cluster". */
static void test_prevote_partitioned_node_does_not_inflate_term(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_prevote);
  tnet_campaign(net, 1);
  assert_int_equal(tnet_status(net, 1).role, RAFT_LEADER);
  raft_term_t term = tnet_status(net, 1).hard.term;
  tnet_isolate(net, 3);
  tnet_tick_all(net, 200);
  assert_int_equal(tnet_status(net, 3).hard.term, term);
  assert_int_equal(tnet_status(net, 3).role, RAFT_PRE_CANDIDATE);
  tnet_heal(net);
  tnet_tick_all(net, 30);
  for (raft_id_t id = 1; id <= 3; id++) {
    assert_int_equal(tnet_status(net, id).hard.term, term);
    assert_int_equal(tnet_status(net, id).leader, 1);
  }
  tnet_destroy(&net);
}

/* A node that cannot hear the leader (a one-way link failure) but reaches the others must not
 * depose a healthy leader: its pre-votes are refused while the others hear from the leader. The
 * same cluster without pre-vote is deposed by the node's term bumps. */
static void test_prevote_node_cut_from_leader_cannot_depose_it(void **state) {
  (void)state;
  for (int prevote = 1; prevote >= 0; prevote--) {
    tnet_t *net = tnet_new(3, prevote ? tnet_config_prevote : NULL);
    tnet_campaign(net, 1);
    raft_term_t term = tnet_status(net, 1).hard.term;
    net->cut[1][3] = true; /* 3 no longer hears 1; everything else works */
    tnet_tick_all(net, 60);
    if (prevote) {
      assert_int_equal(tnet_status(net, 1).role, RAFT_LEADER);
      assert_int_equal(tnet_status(net, 1).hard.term, term);
      assert_int_equal(tnet_status(net, 2).leader, 1);
      assert_int_equal(tnet_status(net, 3).hard.term, term); /* and no term inflation */
    } else {
      assert_true(tnet_status(net, 1).hard.term > term); /* deposed by term bumps */
    }
    tnet_destroy(&net);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Check-quorum and vote leases. */

/* thesis §6.2: "a leader in Raft steps down if an election timeout elapses without a successful
 * round of heartbeats to a majority of its cluster". */
static void test_check_quorum_leader_steps_down(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_check_quorum);
  tnet_campaign(net, 1);
  assert_int_equal(tnet_status(net, 1).role, RAFT_LEADER);
  tnet_tick_all(net, 25); /* healthy: stays leader across check-quorum rounds */
  assert_int_equal(tnet_status(net, 1).role, RAFT_LEADER);
  tnet_isolate(net, 1);
  tnet_tick(net, 1, 2 * 10 + 1);
  assert_int_equal(tnet_status(net, 1).role, RAFT_FOLLOWER);
  tnet_destroy(&net);
}

/* Without check-quorum an isolated leader keeps believing it leads. */
static void test_without_check_quorum_isolated_leader_stays(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  tnet_isolate(net, 1);
  tnet_tick(net, 1, 50);
  assert_int_equal(tnet_status(net, 1).role, RAFT_LEADER);
  tnet_destroy(&net);
}

/* thesis §4.2.3: "if a server receives a RequestVote request within the minimum election timeout
 * of hearing from a current leader, it does not update its term or grant its vote." A vote
 * flagged as a leadership transfer is granted anyway. */
static void test_check_quorum_follower_ignores_votes_in_lease(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config_check_quorum(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .from = 1, .term = 1};
  tnet_core_step(f, hb);
  tnet_core_flush(f);
  raft_msg_t vote = {.type = RAFT_MSG_VOTE, .from = 3, .term = 2};
  tnet_core_step(f, vote);
  assert_int_equal(tnet_core_status(f).hard.term, 1);
  assert_int_equal(tnet_core_status(f).hard.vote, 0);
  assert_false(raft_core_ready(f)); /* ignored: no answer at all */
  /* A transfer vote overrides the lease. */
  vote.transfer = true;
  tnet_core_step(f, vote);
  assert_int_equal(tnet_core_status(f).hard.term, 2);
  assert_int_equal(tnet_core_status(f).hard.vote, 3);
  raft_core_destroy(&f);

  /* Once the minimum election timeout passes without the leader, votes are granted again. */
  f = tnet_core_new(&cfg, NULL);
  tnet_core_step(f, hb);
  for (int k = 0; k < 10; k++) raft_core_tick(f);
  vote.transfer = false;
  tnet_core_step(f, vote);
  assert_int_equal(tnet_core_status(f).hard.term, 2);
  assert_int_equal(tnet_core_status(f).hard.vote, 3);
  raft_core_destroy(&f);
}

/* The lease holds at any term. A follower in the old leader's lease (it answered its heartbeat)
 * that adopts a higher term from a rejected pre-vote answer (no leader, no vote at the new term)
 * must still refuse that term's candidate: its vote request now arrives at the follower's own
 * term, past the check of requests that would raise it. Found by the simulation (seed 3055241):
 * two leaders overlapped, the old one serving lease reads. */
static void test_check_quorum_lease_holds_after_term_bump(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config_both(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .from = 1, .term = 1, .ctx = 1};
  tnet_core_step(f, hb);
  tnet_core_flush(f);
  /* some other node, already at term 2, rejects a pre-vote of ours: we learn term 2 */
  raft_msg_t rej = {.type = RAFT_MSG_PRE_VOTE_RESP, .from = 3, .term = 2, .reject = true};
  tnet_core_step(f, rej);
  tnet_core_flush(f);
  assert_int_equal(tnet_core_status(f).hard.term, 2);
  raft_msg_t vote = {.type = RAFT_MSG_VOTE, .from = 3, .term = 2};
  tnet_core_step(f, vote);
  assert_int_equal(tnet_core_status(f).hard.vote, 0);
  tnet_msgs_t out = {0};
  tnet_core_drain(f, &out, NULL);
  const raft_msg_t *resp = tnet_msgs_find(&out, RAFT_MSG_VOTE_RESP, 3);
  assert_non_null(resp);
  assert_true(resp->reject);
  tnet_msgs_clear(&out);
  /* past the minimum election timeout without the leader, the same request is granted */
  for (int k = 0; k < 10; k++) raft_core_tick(f);
  tnet_core_flush(f);
  tnet_core_step(f, vote);
  assert_int_equal(tnet_core_status(f).hard.vote, 3);
  raft_core_destroy(&f);
}

/* A node whose term ran ahead (it campaigned alone) is not stuck forever: the leader learns the
 * higher term from its answer to a heartbeat and a new election follows. */
static void test_check_quorum_frees_stuck_candidate(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_check_quorum);
  tnet_campaign(net, 1);
  tnet_isolate(net, 3);
  tnet_tick(net, 3, 60);
  raft_term_t t3 = tnet_status(net, 3).hard.term;
  assert_true(t3 > tnet_status(net, 1).hard.term);
  tnet_heal(net);
  tnet_tick_all(net, 80);
  raft_id_t leader = tnet_status(net, 1).leader;
  assert_int_not_equal(leader, 0);
  for (raft_id_t id = 1; id <= 3; id++) {
    assert_int_equal(tnet_status(net, id).leader, leader);
    assert_true(tnet_status(net, id).hard.term > t3 - 1);
  }
  tnet_destroy(&net);
}

/* ------------------------------------------------------------------------------------------ */
/* Leadership transfer (thesis §3.10). */

/* Leadership transfer (thesis §3.10). */

static void test_transfer_leader_success(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_both);
  tnet_campaign(net, 1);
  raft_term_t term = tnet_status(net, 1).hard.term;
  assert_int_equal(raft_core_transfer_leader(net->nodes[1].r, 2), 0);
  tnet_settle(net);
  assert_int_equal(tnet_status(net, 2).role, RAFT_LEADER);
  assert_int_equal(tnet_status(net, 2).hard.term, term + 1);
  assert_int_equal(tnet_status(net, 1).role, RAFT_FOLLOWER);
  assert_int_equal(tnet_status(net, 1).leader, 2);
  tnet_destroy(&net);
}

/* "The prior leader fully updates the target server's log to match its own": TimeoutNow is sent
 * only once the target has caught up. */
static void test_transfer_leader_catches_up_target_first(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_both);
  tnet_campaign(net, 1);
  tnet_isolate(net, 3);
  for (int k = 0; k < 5; k++) tnet_propose(net, 1, "data");
  tnet_settle(net);
  raft_index_t last = tnet_status(net, 1).last_index;
  assert_true(tnet_status(net, 3).last_index < last);
  tnet_heal(net);
  tnet_msgs_clear(&net->delivered);
  assert_int_equal(raft_core_transfer_leader(net->nodes[1].r, 3), 0);
  tnet_settle(net);
  /* Every MsgApp to 3 was delivered before the TimeoutNow. */
  bool seen_timeout = false;
  for (size_t k = 0; k < net->delivered.n; k++) {
    const raft_msg_t *m = &net->delivered.v[k];
    if (m->type == RAFT_MSG_TIMEOUT_NOW) seen_timeout = true;
    if (m->type == RAFT_MSG_APP && m->from == 1 && m->to == 3) assert_false(seen_timeout);
  }
  assert_true(seen_timeout);
  assert_int_equal(tnet_status(net, 3).role, RAFT_LEADER);
  assert_true(tnet_status(net, 3).last_index > last);
  tnet_destroy(&net);
}

/* thesis §3.10: "the prior leader stops accepting new client requests" during the transfer, and
 * "If the transfer does not complete within one election timeout, the leader aborts the transfer
 * and resumes accepting client requests." */
static void test_transfer_leader_refuses_proposals_then_aborts(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_both);
  tnet_campaign(net, 1);
  tnet_isolate(net, 3);
  tnet_propose(net, 1, "x");
  tnet_settle(net);
  raft_core_t *l = net->nodes[1].r;
  assert_int_equal(raft_core_transfer_leader(l, 3), 0);
  assert_int_equal(tnet_core_status(l).transferee, 3);
  assert_int_equal(raft_core_transfer_leader(l, 3), RV_EEXIST);
  raft_proposal_t p;
  assert_int_equal(raft_core_propose(l, "y", 1, &p), RV_EBUSY);
  raft_conf_change_t cc = {.type = RAFT_CONF_ADD_LEARNER, .node = 9};
  assert_int_equal(raft_core_propose_conf_change(l, &cc, NULL), RV_EBUSY);
  for (int k = 0; k < 9; k++) tnet_tick_all(net, 1);
  assert_int_equal(tnet_core_status(l).transferee, 3);
  tnet_tick_all(net, 1);
  assert_int_equal(tnet_core_status(l).transferee, 0); /* aborted after one election timeout */
  assert_int_equal(tnet_core_status(l).role, RAFT_LEADER);
  assert_int_equal(raft_core_propose(l, "y", 1, &p), 0);
  tnet_destroy(&net);
}

static void test_transfer_leader_argument_checks(void **state) {
  (void)state;
  tnet_t *net = tnet_new(4, tnet_config_learner);
  tnet_campaign(net, 1);
  raft_core_t *l = net->nodes[1].r;
  assert_int_equal(raft_core_transfer_leader(l, 1), RV_EINVAL);
  assert_int_equal(raft_core_transfer_leader(l, 4), RV_EINVAL); /* a learner */
  assert_int_equal(raft_core_transfer_leader(l, 7), RV_EINVAL); /* not a member */
  assert_int_equal(raft_core_transfer_leader(net->nodes[2].r, 3), RV_ENOTLEADER);
  tnet_destroy(&net);
}

/* A node that may not campaign (raft_core_set_campaign: the shell's health verdict) starts no
 * election when the leader is gone and ignores TimeoutNow, so a transfer to it aborts after an
 * election timeout and the leader keeps leading; it still votes for another node. Allowed
 * again, it campaigns as before. */
static void test_no_campaign_knob(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, tnet_config_both);
  tnet_campaign(net, 1);
  raft_core_t *l = net->nodes[1].r;
  raft_core_set_campaign(net->nodes[3].r, false);
  assert_int_equal(raft_core_transfer_leader(l, 3), 0);
  tnet_settle(net);
  assert_int_equal(tnet_status(net, 3).role, RAFT_FOLLOWER);
  for (int k = 0; k < 10; k++) tnet_tick_all(net, 1);
  assert_int_equal(tnet_core_status(l).transferee, 0); /* aborted */
  assert_int_equal(tnet_core_status(l).role, RAFT_LEADER);
  /* the leader goes: only 2 may campaign, and 3 votes for it */
  raft_core_set_campaign(net->nodes[2].r, false);
  tnet_isolate(net, 1);
  tnet_tick(net, 2, 200);
  tnet_tick(net, 3, 200);
  tnet_settle(net);
  assert_int_not_equal(tnet_status(net, 2).role, RAFT_LEADER);
  assert_int_not_equal(tnet_status(net, 3).role, RAFT_LEADER);
  assert_int_not_equal(tnet_status(net, 2).role, RAFT_CANDIDATE);
  assert_int_not_equal(tnet_status(net, 3).role, RAFT_PRE_CANDIDATE);
  raft_core_set_campaign(net->nodes[2].r, true);
  for (int k = 0; k < 60 && tnet_status(net, 2).role != RAFT_LEADER; k++) {
    tnet_tick(net, 2, 1);
    tnet_tick(net, 3, 1);
    tnet_settle(net);
  }
  assert_int_equal(tnet_status(net, 2).role, RAFT_LEADER);
  assert_int_equal(tnet_status(net, 3).leader, 2);
  tnet_destroy(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prevote_partitioned_node_does_not_inflate_term),
      cmocka_unit_test(test_prevote_node_cut_from_leader_cannot_depose_it),
      cmocka_unit_test(test_check_quorum_leader_steps_down),
      cmocka_unit_test(test_without_check_quorum_isolated_leader_stays),
      cmocka_unit_test(test_check_quorum_follower_ignores_votes_in_lease),
      cmocka_unit_test(test_check_quorum_lease_holds_after_term_bump),
      cmocka_unit_test(test_check_quorum_frees_stuck_candidate),
      cmocka_unit_test(test_transfer_leader_success),
      cmocka_unit_test(test_transfer_leader_catches_up_target_first),
      cmocka_unit_test(test_transfer_leader_refuses_proposals_then_aborts),
      cmocka_unit_test(test_transfer_leader_argument_checks),
      cmocka_unit_test(test_no_campaign_knob),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
