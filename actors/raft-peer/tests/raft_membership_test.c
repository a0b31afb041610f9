/* raft_membership_test: conformance tests for learners and single-server membership changes
 * (thesis §4): who votes and counts, one change at a time, a configuration in force as soon as it
 * is appended and undone if truncated, a removed leader stepping down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

/* ------------------------------------------------------------------------------------------ */
/* Learners (thesis §4.2.1). */

/* Learners and membership (thesis §4). */

static void test_learner_does_not_vote_or_campaign(void **state) {
  (void)state;
  tnet_t *net = tnet_new(4, tnet_config_learner);
  tnet_tick(net, 4, 100);
  assert_int_equal(tnet_status(net, 4).role, RAFT_FOLLOWER);
  assert_int_equal(raft_core_campaign(net->nodes[4].r), RV_EINVAL);
  assert_false(raft_core_ready(net->nodes[4].r));
  /* A candidate does not count a learner's grant. */
  raft_config_t cfg;
  tnet_config_learner(&cfg, 1, 4);
  raft_core_t *c = tnet_core_new(&cfg, NULL);
  raft_core_campaign(c);
  raft_msg_t grant = {.type = RAFT_MSG_VOTE_RESP, .from = 4, .term = 1};
  tnet_core_step(c, grant);
  assert_int_equal(tnet_core_status(c).role, RAFT_CANDIDATE);
  grant.from = 2;
  tnet_core_step(c, grant);
  assert_int_equal(tnet_core_status(c).role, RAFT_LEADER);
  raft_core_destroy(&c);
  tnet_destroy(&net);
}

/* Learners receive the log but their acknowledgements do not commit anything. */
static void test_learner_receives_log_not_counted(void **state) {
  (void)state;
  tnet_t *net = tnet_new(4, tnet_config_learner);
  tnet_campaign(net, 1);
  tnet_cut(net, 1, 2);
  tnet_cut(net, 1, 3);
  raft_index_t commit = tnet_status(net, 1).hard.commit;
  tnet_propose(net, 1, "x");
  tnet_settle(net);
  assert_int_equal(tnet_status(net, 4).last_index, tnet_status(net, 1).last_index);
  assert_int_equal(tnet_status(net, 1).hard.commit, commit);
  tnet_heal(net);
  tnet_tick_all(net, 2);
  assert_int_equal(tnet_status(net, 1).hard.commit, tnet_status(net, 1).last_index);
  assert_int_equal(tnet_status(net, 4).hard.commit, tnet_status(net, 1).last_index);
  tnet_destroy(&net);
}

/* thesis §4.2.1: new servers join as non-voting members until they have caught up, then are
 * promoted. Node 4 is a brand-new machine (it knows no configuration). */
static void test_learner_promotion(void **state) {
  (void)state;
  tnet_t *net = tnet_new(4, tnet_config_joiners);
  tnet_campaign(net, 1);
  raft_core_t *l = net->nodes[1].r;
  raft_conf_change_t cc = {.type = RAFT_CONF_ADD_LEARNER, .node = 4,
                           .ctx = (const uint8_t *)"tcp://n4", .ctx_len = 8};
  raft_proposal_t p;
  assert_int_equal(raft_core_propose_conf_change(l, &cc, &p), 0);
  tnet_settle(net);
  tnet_tick_all(net, 2);
  raft_status_t s4 = tnet_status(net, 4);
  assert_true(raft_conf_is_learner(&s4.conf, 4));
  assert_int_equal(s4.last_index, tnet_status(net, 1).last_index);
  /* The conf entry decodes to the change and the whole new configuration. */
  raft_entry_t e;
  assert_int_equal(raft_core_entry(l, p.index, &e), 0);
  assert_int_equal(e.type, RAFT_ENTRY_CONF);
  raft_conf_change_t dec;
  raft_conf_t conf;
  assert_int_equal(raft_conf_change_decode(e.data, e.len, &dec, &conf), 0);
  assert_int_equal(dec.type, RAFT_CONF_ADD_LEARNER);
  assert_int_equal(dec.node, 4);
  assert_int_equal(dec.ctx_len, 8);
  assert_memory_equal(dec.ctx, "tcp://n4", 8);
  assert_int_equal(conf.n_voters, 3);
  assert_int_equal(conf.n_learners, 1);
  assert_int_equal(raft_conf_change_decode(e.data, e.len - 1, NULL, NULL), RV_EDECODE);

  cc.type = RAFT_CONF_ADD_VOTER;
  assert_int_equal(raft_core_propose_conf_change(l, &cc, &p), 0);
  tnet_settle(net);
  tnet_tick_all(net, 2);
  for (raft_id_t id = 1; id <= 4; id++) {
    raft_status_t st = tnet_status(net, id);
    assert_int_equal(st.conf.n_voters, 4);
    assert_true(raft_conf_is_voter(&st.conf, 4));
    assert_int_equal(st.conf.n_learners, 0);
  }
  /* Now 4 counts: with 1 and 4 cut off from 2 and 3, no majority of four commits. */
  tnet_cut(net, 1, 2);
  tnet_cut(net, 1, 3);
  raft_index_t commit = tnet_status(net, 1).hard.commit;
  tnet_propose(net, 1, "x");
  tnet_settle(net);
  assert_int_equal(tnet_status(net, 1).hard.commit, commit);
  /* And 4 can lead. */
  tnet_heal(net);
  assert_int_equal(raft_core_transfer_leader(l, 4), 0);
  tnet_settle(net);
  assert_int_equal(tnet_status(net, 4).role, RAFT_LEADER);
  tnet_destroy(&net);
}

/* ------------------------------------------------------------------------------------------ */
/* Membership changes (thesis §4.1, §4.2.2). */

/* thesis §4.1: one change at a time; none before the leader has committed an entry of its term;
 * argument checks. */
static void test_conf_change_one_at_a_time(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 1, 3);
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  raft_conf_change_t cc = {.type = RAFT_CONF_ADD_LEARNER, .node = 4};
  /* The empty entry of the new term is not committed yet. */
  assert_int_equal(raft_core_propose_conf_change(l, &cc, NULL), RV_EBUSY);
  tnet_core_ack(l, 2, 1);
  tnet_core_flush(l);
  assert_int_equal(raft_core_propose_conf_change(l, &cc, NULL), 0);
  raft_conf_change_t cc2 = {.type = RAFT_CONF_ADD_LEARNER, .node = 5};
  assert_int_equal(raft_core_propose_conf_change(l, &cc2, NULL), RV_EBUSY);
  tnet_core_flush(l);
  tnet_core_ack(l, 2, 2); /* committed ... */
  assert_int_equal(tnet_core_status(l).hard.commit, 2);
  assert_int_equal(raft_core_propose_conf_change(l, &cc2, NULL), RV_EBUSY); /* ... not applied */
  tnet_core_flush(l);                                                                /* applied */
  assert_int_equal(raft_core_propose_conf_change(l, &cc2, NULL), 0);
  tnet_core_flush(l);
  tnet_core_ack(l, 2, 3);
  tnet_core_flush(l);
  raft_conf_change_t bad[] = {
      {.type = RAFT_CONF_ADD_LEARNER, .node = 4}, /* already a learner */
      {.type = RAFT_CONF_ADD_VOTER, .node = 2},   /* already a voter */
      {.type = RAFT_CONF_REMOVE, .node = 9},      /* not a member */
      {.type = RAFT_CONF_ADD_LEARNER, .node = 2}, /* demotion */
      {.type = RAFT_CONF_ADD_VOTER, .node = 0},
  };
  int want[] = {RV_EEXIST, RV_EEXIST, RV_ENOTFOUND, RV_EINVAL, RV_EINVAL};
  for (size_t k = 0; k < 5; k++)
    assert_int_equal(raft_core_propose_conf_change(l, &bad[k], NULL), want[k]);
  raft_core_destroy(&l);

  /* The last voter cannot be removed; followers refuse. */
  tnet_config(&cfg, 1, 1);
  l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 1);
  tnet_core_flush(l);
  raft_conf_change_t rm = {.type = RAFT_CONF_REMOVE, .node = 1};
  assert_int_equal(raft_core_propose_conf_change(l, &rm, NULL), RV_EINVAL);
  raft_core_destroy(&l);
  tnet_config(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_proposal_t p;
  assert_int_equal(raft_core_propose_conf_change(f, &cc, &p), RV_ENOTLEADER);
  raft_core_destroy(&f);
}

/* thesis §4.1: "a server always uses the latest configuration in its log, regardless of whether
 * the entry is committed". */
static void test_conf_change_takes_effect_on_append(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  tnet_isolate(net, 3);
  tnet_cut(net, 1, 2);
  raft_core_t *l = net->nodes[1].r;
  raft_conf_change_t cc = {.type = RAFT_CONF_ADD_VOTER, .node = 4};
  raft_proposal_t p;
  assert_int_equal(raft_core_propose_conf_change(l, &cc, &p), 0);
  /* In force on the leader at once, uncommitted: quorum is now 3 of 4. */
  assert_int_equal(tnet_core_status(l).conf.n_voters, 4);
  assert_int_equal(tnet_core_status(l).conf_index, p.index);
  assert_true(tnet_core_status(l).hard.commit < p.index);
  /* A follower adopts it when appended: let 2 receive it but not answer. */
  net->cut[1][2] = false;
  tnet_settle(net);
  assert_int_equal(tnet_status(net, 2).conf.n_voters, 4);
  assert_true(tnet_status(net, 2).hard.commit < p.index);
  /* Committed once a majority of the new configuration (3 of 4) has it. */
  tnet_heal(net);
  tnet_tick_all(net, 2);
  assert_true(tnet_status(net, 1).hard.commit >= p.index);
  tnet_destroy(&net);
}

/* The same fallback, driven exactly on one follower: an uncommitted conf entry is replaced by a
 * new leader's entry and the configuration reverts to the previous one. */
static void test_conf_change_truncated_reverts_configuration(void **state) {
  (void)state;
  /* Build a conf entry with a real leader. */
  raft_config_t cfg;
  tnet_config(&cfg, 1, 3);
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  tnet_core_ack(l, 2, 1);
  tnet_core_flush(l);
  raft_conf_change_t cc = {.type = RAFT_CONF_ADD_VOTER, .node = 4};
  raft_proposal_t p;
  assert_int_equal(raft_core_propose_conf_change(l, &cc, &p), 0);
  raft_entry_t conf_entry;
  assert_int_equal(raft_core_entry(l, p.index, &conf_entry), 0);

  tnet_config(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_entry_t ents[2] = {{.term = 1, .index = 1, .type = RAFT_ENTRY_EMPTY}, conf_entry};
  raft_msg_t app = {.type = RAFT_MSG_APP, .from = 1, .term = 1, .entries = ents, .n_entries = 2,
                    .commit = 1};
  assert_int_equal(tnet_core_step(f, app), 0);
  assert_int_equal(tnet_core_status(f).conf.n_voters, 4);
  assert_int_equal(tnet_core_status(f).conf_index, 2);
  raft_entry_t other = {.term = 2, .index = 2, .type = RAFT_ENTRY_NORMAL};
  raft_msg_t app2 = {.type = RAFT_MSG_APP, .from = 3, .term = 2, .index = 1, .log_term = 1,
                     .entries = &other, .n_entries = 1, .commit = 1};
  assert_int_equal(tnet_core_step(f, app2), 0);
  assert_int_equal(tnet_core_status(f).conf.n_voters, 3);
  raft_status_t fst = tnet_core_status(f);
  assert_false(raft_conf_is_voter(&fst.conf, 4));
  assert_int_equal(tnet_core_status(f).conf_index, 0);
  raft_core_destroy(&f);
  raft_core_destroy(&l);
}

/* thesis §4.2.2: a leader removed from the configuration manages the cluster until the change
 * commits (without counting itself), then steps down; it never campaigns again. */
static void test_removed_leader_steps_down_after_commit(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  raft_core_t *l = net->nodes[1].r;
  raft_conf_change_t rm = {.type = RAFT_CONF_REMOVE, .node = 1};
  raft_proposal_t p;
  tnet_cut(net, 1, 2);
  tnet_cut(net, 1, 3);
  assert_int_equal(raft_core_propose_conf_change(l, &rm, &p), 0);
  tnet_core_flush(l);
  assert_int_equal(tnet_core_status(l).role, RAFT_LEADER); /* not committed yet */
  assert_int_equal(raft_core_propose(l, "x", 1, NULL), RV_ENOTLEADER);
  tnet_heal(net);
  tnet_tick_all(net, 1);
  assert_true(tnet_status(net, 1).hard.commit >= p.index);
  assert_int_equal(tnet_status(net, 1).role, RAFT_FOLLOWER);
  tnet_tick_all(net, 40);
  raft_id_t leader = tnet_status(net, 2).leader;
  assert_true(leader == 2 || leader == 3);
  assert_int_equal(tnet_status(net, 1).role, RAFT_FOLLOWER);
  assert_int_equal(raft_core_campaign(net->nodes[1].r), RV_EINVAL);
  tnet_destroy(&net);
}

/* A removed follower learns of its removal: the leader keeps sending it entries (counted in no
 * quorum) until the removal commits, so it appends the entry that removes it, sees itself
 * outside the configuration and never campaigns again. Before, the leader stopped sending at
 * once: the removed node kept believing it was a voter and ran pre-votes forever. */
static void test_removed_follower_learns_it_was_removed(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  tnet_propose(net, 1, "before");
  tnet_settle(net);
  raft_core_t *l = net->nodes[1].r;
  raft_conf_change_t rm = {.type = RAFT_CONF_REMOVE, .node = 3};
  raft_proposal_t p;
  assert_int_equal(raft_core_propose_conf_change(l, &rm, &p), 0);
  tnet_settle(net);
  tnet_tick_all(net, 3);
  raft_status_t s3 = tnet_status(net, 3);
  assert_true(s3.last_index >= p.index); /* it received its removal */
  assert_false(raft_conf_is_voter(&s3.conf, 3));
  assert_false(raft_conf_is_learner(&s3.conf, 3));
  assert_int_equal(raft_core_campaign(net->nodes[3].r), RV_EINVAL);
  /* the leader forgets it once the removal is committed and acknowledged */
  raft_progress_t pr;
  assert_int_equal(raft_core_progress(l, 3, &pr), RV_ENOTFOUND);
  /* and it stays quiet: no election, the leader keeps its term */
  raft_term_t term = tnet_status(net, 1).hard.term;
  tnet_isolate(net, 1); /* even without hearing from anyone */
  tnet_heal(net);
  tnet_tick_all(net, 60);
  assert_int_equal(tnet_status(net, 3).role, RAFT_FOLLOWER);
  assert_int_equal(tnet_status(net, 1).hard.term, term);
  assert_int_equal(tnet_status(net, 1).role, RAFT_LEADER);
  tnet_destroy(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_learner_does_not_vote_or_campaign),
      cmocka_unit_test(test_learner_receives_log_not_counted),
      cmocka_unit_test(test_learner_promotion),
      cmocka_unit_test(test_conf_change_one_at_a_time),
      cmocka_unit_test(test_conf_change_takes_effect_on_append),
      cmocka_unit_test(test_conf_change_truncated_reverts_configuration),
      cmocka_unit_test(test_removed_leader_steps_down_after_commit),
      cmocka_unit_test(test_removed_follower_learns_it_was_removed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
