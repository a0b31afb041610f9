/* raft_contract_test: the core's contract with its shell: flow control (probe, pipelining,
 * batching), the uncommitted-bytes bound, persist-before-send ordering, an update that survives
 * steps until it is advanced, restarts, and the checks on untrusted messages, configurations and
 * restored state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

/* ------------------------------------------------------------------------------------------ */
/* Flow control and limits. */

/* Probe: one MsgApp at a time. Replicate: pipelined up to max_inflight_msgs, then paused until
 * acknowledged. Batches respect max_msg_entries / max_msg_bytes. */
static void test_probe_and_replicate_flow_control(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 1, 2);
  cfg.max_inflight_msgs = 3;
  cfg.max_msg_entries = 2;
  cfg.max_msg_bytes = 1000;
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 2);
  for (int k = 0; k < 4; k++) raft_core_propose(l, "x", 1, NULL);
  tnet_msgs_t msgs = {0};
  tnet_core_drain(l, &msgs, NULL);
  /* Probe: the MsgApp sent on election is still unanswered, so nothing more goes out. */
  assert_int_equal(tnet_msgs_count(&msgs, RAFT_MSG_APP), 0);
  tnet_msgs_clear(&msgs);
  tnet_core_ack(l, 2, 1); /* probe succeeded: replicate, and fill the window */
  tnet_core_drain(l, &msgs, NULL);
  for (int k = 0; k < 20; k++) raft_core_propose(l, "y", 1, NULL);
  tnet_core_drain(l, &msgs, NULL);
  size_t apps = 0;
  for (size_t k = 0; k < msgs.n; k++) {
    if (msgs.v[k].type != RAFT_MSG_APP || msgs.v[k].n_entries == 0) continue;
    apps++;
    assert_true(msgs.v[k].n_entries <= 2);
  }
  assert_int_equal(apps, 3);
  raft_progress_t pr;
  raft_core_progress(l, 2, &pr);
  assert_int_equal(pr.state, RAFT_PROGRESS_REPLICATE);
  assert_int_equal(pr.inflight, 3);
  assert_true(pr.paused);
  tnet_msgs_clear(&msgs);
  /* An ack for the first two messages frees two slots. */
  tnet_core_ack(l, 2, 5);
  tnet_core_drain(l, &msgs, NULL);
  assert_int_equal(tnet_msgs_count(&msgs, RAFT_MSG_APP), 2);
  tnet_msgs_clear(&msgs);
  raft_core_destroy(&l);

  /* Byte bound: entries of 600 bytes under a 1000-byte bound go one per message. */
  l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 2);
  tnet_core_ack(l, 2, 1);
  tnet_core_flush(l);
  char big[600] = {0};
  for (int k = 0; k < 2; k++) raft_core_propose(l, big, sizeof big, NULL);
  tnet_core_drain(l, &msgs, NULL);
  for (size_t k = 0; k < msgs.n; k++)
    if (msgs.v[k].type == RAFT_MSG_APP) assert_true(msgs.v[k].n_entries <= 1);
  tnet_msgs_clear(&msgs);
  raft_core_destroy(&l);
}

/* Bounded memory: proposals past max_uncommitted_bytes get RV_EBUSY until entries commit. */
static void test_uncommitted_limit(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 1, 3);
  cfg.max_uncommitted_bytes = 100;
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  char ten[10] = "0123456789";
  int accepted = 0;
  raft_proposal_t p;
  while (raft_core_propose(l, ten, 10, &p) == 0) accepted++;
  assert_int_equal(accepted, 10);
  assert_int_equal(raft_core_propose(l, ten, 10, &p), RV_EBUSY);
  assert_int_equal(p.leader, 1);
  assert_int_equal(tnet_core_status(l).uncommitted_bytes, 100);
  tnet_core_flush(l);
  tnet_core_ack(l, 2, tnet_core_status(l).last_index);
  assert_int_equal(tnet_core_status(l).uncommitted_bytes, 0);
  assert_int_equal(raft_core_propose(l, ten, 10, &p), 0);
  raft_core_destroy(&l);
  /* One entry larger than the bound is accepted when nothing is uncommitted. */
  l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  char big[500] = {0};
  assert_int_equal(raft_core_propose(l, big, sizeof big, &p), 0);
  assert_int_equal(raft_core_propose(l, "a", 1, &p), RV_EBUSY);
  raft_core_destroy(&l);
  /* Followers redirect. */
  tnet_config(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .from = 1, .term = 1};
  tnet_core_step(f, hb);
  assert_int_equal(raft_core_propose(f, "a", 1, &p), RV_ENOTLEADER);
  assert_int_equal(p.leader, 1);
  raft_core_destroy(&f);
}

/* ------------------------------------------------------------------------------------------ */
/* Persistence and the update contract. */

/* §5 Figure 2: persistent state is "updated on stable storage before responding to RPCs": a vote
 * grant and an append acknowledgement wait for the update to be durable. */
static void test_responses_wait_for_persistence(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_msg_t vote = {.type = RAFT_MSG_VOTE, .from = 1, .term = 1};
  tnet_core_step(f, vote);
  raft_update_t u;
  assert_int_equal(raft_core_get_update(f, &u), 0);
  assert_true(u.has_hard_state);
  assert_true(u.must_sync);
  assert_int_equal(u.hard.vote, 1);
  assert_int_equal(u.n_msgs, 0);
  assert_int_equal(u.n_msgs_after_persist, 1);
  assert_int_equal(u.msgs_after_persist[0].type, RAFT_MSG_VOTE_RESP);
  assert_false(raft_core_ready(f)); /* one update at a time */
  assert_int_equal(raft_core_get_update(f, &u), RV_EBUSY);
  raft_core_advance(f, &u);
  raft_entry_t e = {.term = 1, .index = 1, .type = RAFT_ENTRY_NORMAL};
  raft_msg_t app = {.type = RAFT_MSG_APP, .from = 1, .term = 1, .entries = &e, .n_entries = 1};
  tnet_core_step(f, app);
  assert_int_equal(raft_core_get_update(f, &u), 0);
  assert_int_equal(u.n_entries, 1);
  assert_int_equal(u.n_msgs, 0);
  assert_int_equal(u.n_msgs_after_persist, 1);
  assert_int_equal(u.msgs_after_persist[0].type, RAFT_MSG_APP_RESP);
  assert_int_equal(raft_core_advance(f, &u), 0);
  assert_int_equal(raft_core_advance(f, &u), RV_EINVAL); /* not outstanding any more */
  raft_core_destroy(&f);
}

/* thesis §10.2.1: the leader sends MsgApp in parallel with its own write, but counts itself
 * towards the commit quorum only once the write is durable. */
static void test_leader_counts_itself_only_after_persistence(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 1, 3);
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  tnet_core_ack(l, 2, 1);
  tnet_core_flush(l);
  raft_proposal_t p;
  raft_core_propose(l, "x", 1, &p);
  raft_update_t u;
  assert_int_equal(raft_core_get_update(l, &u), 0);
  assert_int_equal(u.n_entries, 1);
  assert_true(u.n_msgs >= 1); /* the MsgApp (to 2, replicating) may go before the write */
  assert_int_equal(u.msgs[0].type, RAFT_MSG_APP);
  tnet_core_ack(l, 2, p.index); /* one follower + an undurable leader: no quorum of three */
  assert_true(tnet_core_status(l).hard.commit < p.index);
  raft_core_advance(l, &u);
  assert_int_equal(tnet_core_status(l).hard.commit, p.index);
  raft_core_destroy(&l);

  /* A single voter commits on advance, not before. */
  tnet_config(&cfg, 1, 1);
  l = tnet_core_new(&cfg, NULL);
  raft_core_campaign(l);
  assert_int_equal(tnet_core_status(l).role, RAFT_LEADER);
  assert_int_equal(tnet_core_status(l).hard.commit, 0);
  tnet_core_flush(l);
  assert_int_equal(tnet_core_status(l).hard.commit, 1);
  raft_core_destroy(&l);
}

/* The update stays valid while the shell keeps stepping (e.g. during an asynchronous fsync),
 * even if a new leader truncates the very entries being written. */
static void test_update_survives_truncation_before_advance(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_core_t *f = tnet_core_new(&cfg, NULL);
  raft_entry_t e1[3] = {{.term = 1, .index = 1, .data = (uint8_t *)"aaaa", .len = 4},
                        {.term = 1, .index = 2, .data = (uint8_t *)"bbbb", .len = 4},
                        {.term = 1, .index = 3, .data = (uint8_t *)"cccc", .len = 4}};
  raft_msg_t app = {.type = RAFT_MSG_APP, .from = 1, .term = 1, .entries = e1, .n_entries = 3};
  tnet_core_step(f, app);
  raft_update_t u;
  assert_int_equal(raft_core_get_update(f, &u), 0);
  assert_int_equal(u.n_entries, 3);
  raft_entry_t e2 = {.term = 2, .index = 2, .data = (uint8_t *)"zzzz", .len = 4};
  raft_msg_t app2 = {.type = RAFT_MSG_APP, .from = 3, .term = 2, .index = 1, .log_term = 1,
                     .entries = &e2, .n_entries = 1};
  assert_int_equal(tnet_core_step(f, app2), 0);
  /* Still readable (ASan would object otherwise). */
  assert_memory_equal(u.entries[1].data, "bbbb", 4);
  assert_memory_equal(u.entries[2].data, "cccc", 4);
  raft_core_advance(f, &u);
  /* Entry 1 is durable; 2 must be written again, over the stale 2 and 3. */
  assert_int_equal(tnet_core_status(f).stable_index, 1);
  assert_int_equal(raft_core_get_update(f, &u), 0);
  assert_int_equal(u.n_entries, 1);
  assert_int_equal(u.entries[0].index, 2);
  assert_int_equal(u.entries[0].term, 2);
  raft_core_advance(f, &u);
  raft_core_destroy(&f);
}

/* A restart keeps term and vote: no second vote in the same term (§5.2 across crashes). */
static void test_restart_keeps_term_and_vote(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  raft_msg_t vote = {.type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 5};
  raft_core_step(net->nodes[2].r, &vote);
  tnet_settle(net);
  tnet_restart(net, 2, NULL);
  assert_int_equal(tnet_status(net, 2).hard.term, 5);
  assert_int_equal(tnet_status(net, 2).hard.vote, 1);
  raft_msg_t other = {.type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 5};
  raft_core_step(net->nodes[2].r, &other);
  tnet_msgs_t msgs = {0};
  tnet_core_drain(net->nodes[2].r, &msgs, NULL);
  const raft_msg_t *resp = tnet_msgs_find(&msgs, RAFT_MSG_VOTE_RESP, 3);
  assert_non_null(resp);
  assert_true(resp->reject);
  tnet_msgs_clear(&msgs);
  tnet_destroy(&net);
}

/* ------------------------------------------------------------------------------------------ */
/* Untrusted input. */

/* Messages come off the network: malformed ones are refused, and an attempt to overwrite a
 * committed entry changes nothing. */
static void test_step_checks_untrusted_messages(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_term_t terms[] = {1, 1};
  tnet_ents_t ents = {0};
  tnet_ents_from_terms(&ents, 1, terms, 2);
  raft_storage_state_t st = {.hard = {1, 0, 2}, .entries = ents.v, .n_entries = 2, .applied = 2};
  raft_core_t *f = tnet_core_new(&cfg, &st);
  raft_msg_t m = {.type = RAFT_MSG_APP, .from = 1, .to = 3, .term = 1};
  assert_int_equal(raft_core_step(f, &m), RV_EINVAL); /* not for us */
  m.to = 2;
  m.from = 0;
  assert_int_equal(raft_core_step(f, &m), RV_EINVAL);
  m.from = 1;
  m.type = 99;
  assert_int_equal(raft_core_step(f, &m), RV_EINVAL);
  m.type = RAFT_MSG_APP;
  raft_entry_t bad = {.term = 1, .index = 5};
  m.entries = &bad;
  m.n_entries = 1;
  m.index = 2;
  m.log_term = 1;
  assert_int_equal(raft_core_step(f, &m), RV_EINVAL); /* index not prev + 1 */
  bad.index = 3;
  bad.term = 4;
  assert_int_equal(raft_core_step(f, &m), RV_EINVAL); /* term beyond the message's */
  bad.term = 1;
  bad.len = 3;
  assert_int_equal(raft_core_step(f, &m), RV_EINVAL); /* data missing */
  raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .to = 2, .from = 1, .term = 1, .n_entries = 1};
  assert_int_equal(raft_core_step(f, &hb), RV_EINVAL);
  raft_msg_t snap = {.type = RAFT_MSG_SNAP, .to = 2, .from = 1, .term = 1};
  assert_int_equal(raft_core_step(f, &snap), RV_EINVAL);
  /* Terms that could wrap: beyond RAFT_TERM_MAX, in any field, is malformed. */
  raft_msg_t big = {.type = RAFT_MSG_HEARTBEAT, .to = 2, .from = 1, .term = UINT64_MAX};
  assert_int_equal(raft_core_step(f, &big), RV_EINVAL);
  big.term = RAFT_TERM_MAX + 1;
  assert_int_equal(raft_core_step(f, &big), RV_EINVAL);
  raft_msg_t vote = {.type = RAFT_MSG_VOTE, .to = 2, .from = 1, .term = 3,
                     .log_term = RAFT_TERM_MAX + 1};
  assert_int_equal(raft_core_step(f, &vote), RV_EINVAL);
  assert_int_equal(tnet_core_status(f).hard.term, 1); /* none of them moved the term */
  assert_string_equal(tnet_core_status(f).fault, "");
  tnet_ents_clear(&ents);
  raft_core_destroy(&f);
}

/* §5.4 Leader Completeness: a leader's log holds every entry this follower committed. A message
 * that disagrees with one means this node's log is damaged (or the message forged). Answering
 * "I have everything up to my commit index" livelocks silently (the leader probes below it
 * forever); etcd panics. The core stops for good and says why (raft_core_fault). */
static void test_conflict_with_committed_entry_stops_the_node(void **state) {
  (void)state;
  for (int variant = 0; variant < 2; variant++) {
    raft_config_t cfg;
    tnet_config(&cfg, 2, 3);
    raft_term_t terms[] = {1, 1};
    tnet_ents_t ents = {0};
    tnet_ents_from_terms(&ents, 1, terms, 2);
    raft_storage_state_t st = {.hard = {1, 0, 2}, .entries = ents.v, .n_entries = 2,
                               .applied = 2};
    raft_core_t *f = tnet_core_new(&cfg, &st);
    raft_msg_t evil;
    raft_entry_t over = {.term = 2, .index = 2};
    if (variant == 0) /* a "leader" of term 2 sending a different committed entry 2 */
      evil = (raft_msg_t){.type = RAFT_MSG_APP, .to = 2, .from = 3, .term = 2, .index = 1,
                          .log_term = 1, .entries = &over, .n_entries = 1};
    else /* one whose entry at our commit index has another term */
      evil = (raft_msg_t){.type = RAFT_MSG_APP, .to = 2, .from = 3, .term = 2, .index = 2,
                          .log_term = 2};
    assert_int_equal(raft_core_step(f, &evil), 0);
    const char *fault = raft_core_fault(f);
    assert_non_null(strstr(fault, "log conflict with committed entry 2"));
    assert_string_equal(tnet_core_status(f).fault, fault);
    /* no acknowledgement, nothing rewritten */
    tnet_msgs_t msgs = {0};
    tnet_core_drain(f, &msgs, NULL);
    assert_null(tnet_msgs_find(&msgs, RAFT_MSG_APP_RESP, 3));
    tnet_msgs_clear(&msgs);
    raft_entry_t kept;
    assert_int_equal(raft_core_entry(f, 2, &kept), 0);
    assert_int_equal(kept.term, 1);
    /* from now on it takes no part: steps refused, never campaigns */
    raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .to = 2, .from = 1, .term = 2};
    assert_int_equal(raft_core_step(f, &hb), RV_ECORRUPT);
    assert_int_equal(raft_core_campaign(f), RV_ECORRUPT);
    for (int k = 0; k < 10 * (int)cfg.election_tick; k++) raft_core_tick(f);
    tnet_core_drain(f, &msgs, NULL);
    assert_int_equal(msgs.n, 0);
    assert_int_equal(tnet_core_status(f).role, RAFT_FOLLOWER);
    tnet_msgs_clear(&msgs);
    tnet_ents_clear(&ents);
    raft_core_destroy(&f);
  }
}

/* A node whose term reached RAFT_TERM_MAX does not campaign into a larger one: it stops. */
static void test_term_never_passes_the_maximum(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_storage_state_t st = {.hard = {RAFT_TERM_MAX, 0, 0}};
  raft_core_t *f = tnet_core_new(&cfg, &st);
  assert_int_equal(tnet_core_status(f).hard.term, RAFT_TERM_MAX);
  for (int k = 0; k < 10 * (int)cfg.election_tick; k++) raft_core_tick(f);
  assert_true(tnet_core_status(f).hard.term <= RAFT_TERM_MAX);
  assert_non_null(strstr(raft_core_fault(f), "no higher term"));
  raft_core_destroy(&f);
  /* and a restored term beyond it is corrupt state */
  st.hard.term = RAFT_TERM_MAX + 1;
  rv_err_t err;
  assert_null(raft_core_new(&cfg, &st, &err));
  assert_int_equal(err.code, RV_ECORRUPT);
}

static void test_config_and_restore_validation(void **state) {
  (void)state;
  raft_config_t cfg;
  rv_err_t err;
  tnet_config(&cfg, 0, 3);
  assert_null(raft_core_new(&cfg, NULL, &err));
  assert_int_equal(err.code, RV_ECONFIG);
  tnet_config(&cfg, 1, 3);
  cfg.election_tick = 1;
  assert_null(raft_core_new(&cfg, NULL, &err));
  assert_non_null(strstr(err.msg, "election_tick"));
  tnet_config(&cfg, 1, 3);
  cfg.lease_read = true; /* without check_quorum */
  assert_null(raft_core_new(&cfg, NULL, &err));
  assert_non_null(strstr(err.msg, "check_quorum"));
  tnet_config_both(&cfg, 1, 3);
  cfg.lease_read = true;
  cfg.clock_us = NULL; /* leases need real time */
  assert_null(raft_core_new(&cfg, NULL, &err));
  assert_non_null(strstr(err.msg, "clock_us"));
  tnet_config(&cfg, 1, 3);
  cfg.test_unsafe = RAFT_UNSAFE_COMMIT_ANY_TERM; /* the production core refuses the knobs */
  assert_null(raft_core_new(&cfg, NULL, &err));
  assert_non_null(strstr(err.msg, "test_unsafe"));
  tnet_config(&cfg, 1, 3);
  cfg.bootstrap.voters[1] = 1; /* duplicate */
  assert_null(raft_core_new(&cfg, NULL, &err));
  /* Restored state that cannot be right. */
  tnet_config(&cfg, 1, 3);
  raft_term_t terms[] = {2, 1};
  tnet_ents_t ents = {0};
  tnet_ents_from_terms(&ents, 1, terms, 2);
  raft_storage_state_t st = {.hard = {2, 0, 0}, .entries = ents.v, .n_entries = 2};
  assert_null(raft_core_new(&cfg, &st, &err));
  assert_int_equal(err.code, RV_ECORRUPT);
  st.n_entries = 1;
  st.hard.commit = 5;
  assert_null(raft_core_new(&cfg, &st, &err));
  st.hard.commit = 0;
  st.applied = 2; /* applied beyond the log */
  assert_null(raft_core_new(&cfg, &st, &err));
  tnet_ents_clear(&ents);
}

/* The shell may write a commit-only hard state lazily; after a crash its state machine may be
 * ahead of the persisted commit index. Applied entries were committed: the core trusts them. */
static void test_restore_trusts_applied_over_lazy_commit(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_term_t terms[] = {1, 1, 1};
  tnet_ents_t ents = {0};
  tnet_ents_from_terms(&ents, 1, terms, 3);
  raft_storage_state_t st = {.hard = {1, 0, 1}, .entries = ents.v, .n_entries = 3, .applied = 2};
  raft_core_t *f = tnet_core_new(&cfg, &st);
  raft_status_t s = tnet_core_status(f);
  assert_int_equal(s.hard.commit, 2);
  assert_int_equal(s.applied, 2);
  raft_update_t u;
  assert_int_equal(raft_core_get_update(f, &u), 0); /* the raised commit is written back */
  assert_true(u.has_hard_state);
  assert_int_equal(u.hard.commit, 2);
  assert_int_equal(u.n_committed, 0); /* nothing is applied twice */
  raft_core_advance(f, &u);
  tnet_ents_clear(&ents);
  raft_core_destroy(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_probe_and_replicate_flow_control),
      cmocka_unit_test(test_uncommitted_limit),
      cmocka_unit_test(test_responses_wait_for_persistence),
      cmocka_unit_test(test_leader_counts_itself_only_after_persistence),
      cmocka_unit_test(test_update_survives_truncation_before_advance),
      cmocka_unit_test(test_restart_keeps_term_and_vote),
      cmocka_unit_test(test_step_checks_untrusted_messages),
      cmocka_unit_test(test_conflict_with_committed_entry_stops_the_node),
      cmocka_unit_test(test_term_never_passes_the_maximum),
      cmocka_unit_test(test_config_and_restore_validation),
      cmocka_unit_test(test_restore_trusts_applied_over_lazy_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
