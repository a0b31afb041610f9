/* Unit tests of raft_gate: the membership gate, the incarnation table, and the scenario it
 * exists for: a node that lost its data-dir during an election votes a second time in the term
 * (as a fresh core would), and that vote never reaches the candidate's core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raft_gate.h"
#include "raft_test_net.h"

static raft_conf_t s_conf(const raft_id_t *voters, size_t nv, const raft_id_t *learners,
                          size_t nl) {
  raft_conf_t c = {0};
  for (size_t i = 0; i < nv; i++) c.voters[c.n_voters++] = voters[i];
  for (size_t i = 0; i < nl; i++) c.learners[c.n_learners++] = learners[i];
  return c;
}

static void test_members_pass_and_non_members_are_dropped(void **state) {
  (void)state;
  raft_conf_t c = s_conf((raft_id_t[]){1, 2, 3}, 3, (raft_id_t[]){4}, 1);
  for (raft_msg_type_t t = RAFT_MSG_PRE_VOTE; t <= RAFT_MSG_TYPE_MAX; t++) {
    assert_true(raft_gate_member_ok(&c, 1, RAFT_FOLLOWER, 2, t)); /* a voter */
    assert_true(raft_gate_member_ok(&c, 1, RAFT_LEADER, 4, t));   /* a learner */
  }
  /* node 5 (a spare, or a removed node): no vote, no vote request, no response reaches a core */
  raft_msg_type_t refused[] = {RAFT_MSG_PRE_VOTE, RAFT_MSG_PRE_VOTE_RESP, RAFT_MSG_VOTE,
                               RAFT_MSG_VOTE_RESP, RAFT_MSG_APP_RESP, RAFT_MSG_HEARTBEAT_RESP,
                               RAFT_MSG_TIMEOUT_NOW, RAFT_MSG_READ_INDEX,
                               RAFT_MSG_READ_INDEX_RESP};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    assert_false(raft_gate_member_ok(&c, 1, RAFT_FOLLOWER, 5, refused[i]));
    assert_false(raft_gate_member_ok(&c, 1, RAFT_LEADER, 5, refused[i]));
  }
  /* a leader the (lagging) configuration does not name yet is heard by a follower, never by a
   * leader */
  raft_msg_type_t leader_msgs[] = {RAFT_MSG_APP, RAFT_MSG_HEARTBEAT, RAFT_MSG_SNAP};
  for (size_t i = 0; i < 3; i++) {
    assert_true(raft_gate_member_ok(&c, 1, RAFT_FOLLOWER, 5, leader_msgs[i]));
    assert_false(raft_gate_member_ok(&c, 1, RAFT_LEADER, 5, leader_msgs[i]));
  }
}

static void test_incarnation_first_seen_wins(void **state) {
  (void)state;
  raft_gate_table_t t = {0};
  bool learn;
  assert_int_equal(raft_gate_incarnation(&t, 3, 0xaa, &learn), RAFT_GATE_PASS);
  assert_true(learn);
  assert_true(raft_gate_learn(&t, 3, 0xaa));
  assert_false(raft_gate_learn(&t, 3, 0xbb)); /* first seen wins */
  assert_int_equal(raft_gate_known(&t, 3), 0xaa);
  assert_int_equal(raft_gate_incarnation(&t, 3, 0xaa, &learn), RAFT_GATE_PASS);
  assert_false(learn);
  assert_int_equal(raft_gate_incarnation(&t, 3, 0xbb, &learn), RAFT_GATE_STRANGER);
  assert_false(learn);
  /* 0: a build without incarnations; passed, never recorded */
  assert_int_equal(raft_gate_incarnation(&t, 2, 0, &learn), RAFT_GATE_PASS);
  assert_false(learn);
  assert_false(raft_gate_learn(&t, 2, 0));
  /* removed: forgotten; added again: the new incarnation is the one remembered */
  raft_conf_t without3 = s_conf((raft_id_t[]){1, 2}, 2, NULL, 0);
  assert_true(raft_gate_forget_non_members(&t, &without3));
  assert_false(raft_gate_forget_non_members(&t, &without3));
  assert_int_equal(raft_gate_known(&t, 3), 0);
  assert_int_equal(raft_gate_incarnation(&t, 3, 0xbb, &learn), RAFT_GATE_PASS);
  assert_true(learn);
  assert_true(raft_gate_learn(&t, 3, 0xbb));
  assert_int_equal(raft_gate_incarnation(&t, 3, 0xaa, &learn), RAFT_GATE_STRANGER);
}

static void test_table_is_bounded(void **state) {
  (void)state;
  raft_gate_table_t t = {0};
  for (raft_id_t id = 1; id <= RAFT_MAX_MEMBERS; id++) assert_true(raft_gate_learn(&t, id, id));
  assert_false(raft_gate_learn(&t, RAFT_MAX_MEMBERS + 1, 1));
  assert_int_equal(t.n, RAFT_MAX_MEMBERS);
}

/* Delivers the VOTE_RESPs in msgs from `from` (presenting incarnation inc) to candidate c through
 * the gates, as raft-peer does; returns how many reached the core. */
static int s_deliver_votes(raft_core_t *c, raft_gate_table_t *t, const tnet_msgs_t *msgs,
                           raft_id_t from, uint64_t inc, bool gated) {
  int stepped = 0;
  raft_status_t st;
  raft_core_status(c, &st);
  for (size_t i = 0; i < msgs->n; i++) {
    const raft_msg_t *m = &msgs->v[i];
    if (m->type != RAFT_MSG_VOTE_RESP || m->from != from) continue;
    if (gated) {
      bool learn;
      if (raft_gate_incarnation(t, from, inc, &learn) != RAFT_GATE_PASS) continue;
      if (learn) raft_gate_learn(t, from, inc);
      if (!raft_gate_member_ok(&st.conf, st.id, st.role, from, m->type)) continue;
    }
    assert_int_equal(tnet_core_step(c, *m), RV_OK);
    stepped++;
  }
  return stepped;
}

/* Node 3 voted for node 1 in term 2, then lost its data-dir and came back, fresh, while node 2
 * campaigns in that same term 2. A fresh core grants the vote (it has no memory of the first):
 * the gate must keep it from the candidate, or two leaders are elected in term 2. Run once
 * without the gate to prove the scenario really produces the second vote. */
static void test_wiped_node_cannot_vote_twice_in_a_term(void **state) {
  (void)state;
  const uint64_t before_wipe = 0x1111, after_wipe = 0x2222;
  for (int gated = 0; gated < 2; gated++) {
    raft_gate_table_t n2_knows = {0};
    assert_true(raft_gate_learn(&n2_knows, 3, before_wipe)); /* heard from node 3 earlier */
    raft_core_t *n2 = tnet_core_with_log(2, 3, 1, 0, NULL, 0, 0);
    tnet_msgs_t out = {0};
    tnet_core_drain(n2, &out, NULL);
    tnet_msgs_clear(&out);
    assert_int_equal(raft_core_campaign(n2), RV_OK);
    tnet_core_drain(n2, &out, NULL);
    const raft_msg_t *req = tnet_msgs_find(&out, RAFT_MSG_VOTE, 3);
    assert_non_null(req);
    assert_int_equal(req->term, 2);

    /* node 3, wiped: a fresh core, at term 1 with no vote, grants node 2's request in term 2 */
    raft_config_t cfg3;
    tnet_config(&cfg3, 3, 3);
    raft_storage_state_t empty = {.hard = {1, 0, 0}};
    raft_core_t *n3 = tnet_core_new(&cfg3, &empty);
    assert_int_equal(tnet_core_step(n3, *req), RV_OK);
    tnet_msgs_t resp = {0};
    tnet_core_drain(n3, &resp, NULL);
    const raft_msg_t *vote = tnet_msgs_find(&resp, RAFT_MSG_VOTE_RESP, 2);
    assert_non_null(vote);
    assert_false(vote->reject); /* the second vote in term 2 */

    int stepped = s_deliver_votes(n2, &n2_knows, &resp, 3, after_wipe, gated);
    tnet_core_drain(n2, NULL, NULL);
    raft_status_t st;
    raft_core_status(n2, &st);
    if (gated) {
      assert_int_equal(stepped, 0);
      assert_int_not_equal(st.role, RAFT_LEADER); /* one vote of three: no leader */
      assert_int_equal(raft_gate_known(&n2_knows, 3), before_wipe);
    } else {
      assert_int_equal(stepped, 1);
      assert_int_equal(st.role, RAFT_LEADER); /* what the gate prevents */
    }
    tnet_msgs_clear(&resp);
    tnet_msgs_clear(&out);
    raft_core_destroy(&n3);
    raft_core_destroy(&n2);
  }
}

/* A term far above ours is refused before the core (a jump to near RAFT_TERM_MAX would leave no
 * term for the next election); terms up to the bound above ours, and any below, pass. */
static void test_term_jump_is_bounded(void **state) {
  (void)state;
  assert_true(raft_gate_term_ok(5, 5));
  assert_true(raft_gate_term_ok(5, 0));
  assert_true(raft_gate_term_ok(5, 6));
  assert_true(raft_gate_term_ok(5, 5 + RAFT_GATE_TERM_JUMP_MAX));
  assert_false(raft_gate_term_ok(5, 6 + RAFT_GATE_TERM_JUMP_MAX));
  assert_false(raft_gate_term_ok(0, RAFT_TERM_MAX));
  assert_false(raft_gate_term_ok(383040, UINT64_C(9223372036854775807)));
  assert_true(raft_gate_term_ok(RAFT_TERM_MAX, RAFT_TERM_MAX));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_members_pass_and_non_members_are_dropped),
      cmocka_unit_test(test_incarnation_first_seen_wins),
      cmocka_unit_test(test_table_is_bounded),
      cmocka_unit_test(test_wiped_node_cannot_vote_twice_in_a_term),
      cmocka_unit_test(test_term_jump_is_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
