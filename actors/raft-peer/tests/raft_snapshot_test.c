/* raft_snapshot_test: conformance tests for log compaction and InstallSnapshot (§7): sending a
 * snapshot to a follower that lags behind the compaction point, restoring one, retrying a failed
 * transfer, restarting from snapshot + log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

/* ------------------------------------------------------------------------------------------ */
/* Snapshots (§7). */

/* Snapshots (§7). */

static void test_snapshot_sent_to_lagging_follower(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  tnet_isolate(net, 3);
  for (int k = 0; k < 20; k++) tnet_propose(net, 1, "payload");
  tnet_settle(net);
  raft_core_t *l = net->nodes[1].r;
  raft_index_t applied = tnet_core_status(l).applied;
  raft_snapshot_meta_t meta;
  assert_int_equal(raft_core_compact(l, applied + 1, &meta), RV_EINVAL);
  assert_int_equal(raft_core_compact(l, applied, &meta), 0);
  assert_int_equal(meta.index, applied);
  assert_int_equal(meta.conf.n_voters, 3);
  assert_int_equal(tnet_core_status(l).first_index, applied + 1);
  assert_int_equal(raft_core_compact(l, applied, &meta), RV_EINVAL); /* nothing new */
  tnet_propose(net, 1, "after");
  tnet_heal(net);
  tnet_tick_all(net, 3);
  assert_int_equal(net->snapshots_sent, 1);
  assert_int_equal(net->nodes[3].snapshots_installed, 1);
  raft_status_t s3 = tnet_status(net, 3), s1 = tnet_status(net, 1);
  assert_int_equal(s3.snapshot.index, applied);
  assert_int_equal(s3.last_index, s1.last_index);
  assert_int_equal(s3.hard.commit, s1.hard.commit);
  assert_int_equal(s3.applied, s1.applied);
  /* It applied only what followed the snapshot. */
  assert_int_equal(net->nodes[3].applied.v[net->nodes[3].applied.n - 1].index, s1.last_index);
  /* A restart from the durable state (snapshot + log) comes back identical. */
  tnet_restart(net, 3, NULL);
  raft_status_t r3 = tnet_status(net, 3);
  assert_int_equal(r3.snapshot.index, applied);
  assert_int_equal(r3.last_index, s1.last_index);
  tnet_destroy(&net);
}

/* A follower restarted from an empty disk (data-dir lost or replaced) holds less than the leader
 * knows it acknowledged. Its rejection must not be taken for a stale one (the leader would probe
 * it at its old match forever): the leader lowers its record of the follower's log and, the
 * entries being compacted, sends a snapshot. Found by wiping a caught-up follower and restarting
 * it at once (scripts/bench-fs.sh). */
static void test_snapshot_to_follower_restarted_empty(void **state) {
  (void)state;
  for (int probing = 0; probing < 2; probing++) {
    tnet_t *net = tnet_new(3, NULL);
    tnet_campaign(net, 1);
    for (int k = 0; k < 20; k++) tnet_propose(net, 1, "payload");
    tnet_settle(net);
    raft_core_t *l = net->nodes[1].r;
    raft_index_t applied = tnet_core_status(l).applied;
    raft_snapshot_meta_t meta;
    assert_int_equal(raft_core_compact(l, applied, &meta), 0);
    raft_storage_state_t empty = {0};
    tnet_restart(net, 3, &empty);
    /* replicate state: the next append is refused; probe state: a heartbeat round after a
     * period of silence brings the refusal of a probe */
    if (probing) {
      tnet_isolate(net, 3);
      tnet_propose(net, 1, "while away");
      tnet_tick_all(net, 3);
      tnet_heal(net);
    }
    tnet_propose(net, 1, "after");
    for (int k = 0; k < 5; k++) tnet_tick_all(net, 3);
    tnet_settle(net);
    assert_int_equal(net->nodes[3].snapshots_installed, 1);
    raft_status_t s3 = tnet_status(net, 3), s1 = tnet_status(net, 1);
    assert_int_equal(s3.snapshot.index, applied);
    assert_int_equal(s3.last_index, s1.last_index);
    assert_int_equal(s3.applied, s1.applied);
    tnet_destroy(&net);
  }
}

/* A follower given a snapshot beyond its log discards the log and reports the snapshot's index;
 * one that already has the snapshot's last entry keeps its log (§7). */
static void test_snapshot_restore_follower(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  tnet_ents_t ents = {0};
  raft_term_t terms[] = {1, 1, 2};
  tnet_ents_from_terms(&ents, 1, terms, 3);
  raft_storage_state_t st = {.hard = {2, 0, 1}, .entries = ents.v, .n_entries = 3, .applied = 1};
  raft_core_t *f = tnet_core_new(&cfg, &st);
  raft_msg_t snap = {.type = RAFT_MSG_SNAP, .from = 1, .term = 3,
                     .snapshot = {.index = 10, .term = 3, .conf = cfg.bootstrap}};
  assert_int_equal(tnet_core_step(f, snap), 0);
  raft_status_t s = tnet_core_status(f);
  assert_int_equal(s.first_index, 11);
  assert_int_equal(s.last_index, 10);
  assert_int_equal(s.hard.commit, 10);
  raft_update_t u;
  assert_int_equal(raft_core_get_update(f, &u), 0);
  assert_true(u.has_snapshot);
  assert_true(u.must_sync);
  assert_int_equal(u.snapshot.index, 10);
  assert_int_equal(u.n_entries, 0);
  assert_int_equal(u.n_committed, 0);
  assert_int_equal(u.n_msgs, 0);
  assert_int_equal(u.n_msgs_after_persist, 1);
  assert_int_equal(u.msgs_after_persist[0].type, RAFT_MSG_APP_RESP);
  assert_int_equal(u.msgs_after_persist[0].index, 10);
  assert_int_equal(raft_core_advance(f, &u), 0);
  assert_int_equal(tnet_core_status(f).applied, 10);
  raft_core_destroy(&f);

  f = tnet_core_new(&cfg, &st);
  snap.snapshot.index = 2;
  snap.snapshot.term = 1;
  tnet_core_step(f, snap);
  s = tnet_core_status(f);
  assert_int_equal(s.last_index, 3); /* entry 3 kept */
  assert_int_equal(s.hard.commit, 2);
  assert_int_equal(s.snapshot.index, 0);
  tnet_ents_clear(&ents);
  raft_core_destroy(&f);
}

/* A failed transfer is reported; the leader probes again and sends a new snapshot. */
static void test_snapshot_failure_retries(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 1, 3);
  raft_core_t *l = tnet_core_new(&cfg, NULL);
  tnet_core_make_leader(l, 3);
  tnet_core_ack(l, 2, 1);
  for (int k = 0; k < 3; k++) raft_core_propose(l, "x", 1, NULL);
  tnet_core_flush(l);
  tnet_core_ack(l, 2, 4);
  tnet_core_flush(l);
  raft_snapshot_meta_t meta;
  assert_int_equal(raft_core_compact(l, 4, &meta), 0);
  /* Follower 3 never got the probe sent on election (entries from 1); when it shows up (a
   * heartbeat response), the entries it needs are compacted: the leader sends the snapshot. */
  raft_msg_t back = {.type = RAFT_MSG_HEARTBEAT_RESP, .from = 3, .term = 1};
  tnet_core_step(l, back);
  tnet_msgs_t msgs = {0};
  tnet_core_drain(l, &msgs, NULL);
  raft_progress_t pr;
  assert_int_equal(raft_core_progress(l, 3, &pr), 0);
  assert_int_equal(pr.state, RAFT_PROGRESS_SNAPSHOT);
  assert_int_equal(pr.pending_snapshot, 4);
  const raft_msg_t *sm = tnet_msgs_find(&msgs, RAFT_MSG_SNAP, 3);
  assert_non_null(sm);
  assert_int_equal(sm->snapshot.index, 4);
  assert_int_equal(sm->snapshot.term, 1);
  assert_int_equal(sm->snapshot.conf.n_voters, 3);
  tnet_msgs_clear(&msgs);
  /* Nothing else goes to a follower receiving a snapshot. */
  raft_core_propose(l, "y", 1, NULL);
  tnet_core_drain(l, &msgs, NULL);
  assert_null(tnet_msgs_find(&msgs, RAFT_MSG_APP, 3));
  tnet_msgs_clear(&msgs);
  raft_core_report_snapshot(l, 3, RAFT_SNAPSHOT_FAILURE);
  raft_core_progress(l, 3, &pr);
  assert_int_equal(pr.state, RAFT_PROGRESS_PROBE);
  assert_true(pr.paused);
  /* The next heartbeat response resumes: the snapshot is sent again. */
  raft_msg_t hr = {.type = RAFT_MSG_HEARTBEAT_RESP, .from = 3, .term = 1};
  tnet_core_step(l, hr);
  tnet_core_drain(l, &msgs, NULL);
  assert_non_null(tnet_msgs_find(&msgs, RAFT_MSG_SNAP, 3));
  tnet_msgs_clear(&msgs);
  /* Success: the follower's answer after installing moves it to replicate. */
  raft_core_report_snapshot(l, 3, RAFT_SNAPSHOT_FINISH);
  raft_core_progress(l, 3, &pr);
  assert_int_equal(pr.next, 5);
  tnet_core_ack(l, 3, 4);
  raft_core_progress(l, 3, &pr);
  assert_int_equal(pr.state, RAFT_PROGRESS_REPLICATE);
  assert_int_equal(pr.match, 4);
  tnet_core_drain(l, &msgs, NULL);
  const raft_msg_t *app = tnet_msgs_find(&msgs, RAFT_MSG_APP, 3);
  assert_non_null(app);
  assert_int_equal(app->index, 4);
  tnet_msgs_clear(&msgs);
  raft_core_destroy(&l);
}

/* raftvisor streams a snapshot's data into the state machine before the MsgSnap reaches the
 * core, so the shell asks raft_core_snapshot_acceptable first, and again before the commit
 * point (issue: a deposed leader's stream was installed, then ignored by the core). It must say
 * yes exactly for the leader this follower follows, in its term, with something new. */
static void test_snapshot_acceptable_only_from_current_leader(void **state) {
  (void)state;
  tnet_t *net = tnet_new(3, NULL);
  tnet_campaign(net, 1);
  for (int k = 0; k < 5; k++) tnet_propose(net, 1, "payload");
  tnet_settle(net);
  raft_core_t *f = net->nodes[2].r;
  raft_status_t s2 = tnet_status(net, 2);
  raft_term_t t1 = s2.hard.term;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_snapshot_meta_t meta = {.index = s2.hard.commit + 10, .term = t1, .conf = cfg.bootstrap};
  rv_err_t why;
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1, &meta, &why), RV_OK);
  /* another member in our term: not the leader we follow (a forgery: one leader per term) */
  assert_int_equal(raft_core_snapshot_acceptable(f, 3, t1, &meta, &why), RV_ENOTLEADER);
  assert_non_null(strstr(why.msg, "not the leader we follow"));
  /* a term we have not reached: we follow nobody there yet */
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1 + 1, &meta, &why), RV_ENOTLEADER);
  /* nothing new: at or below our commit index */
  raft_snapshot_meta_t old = meta;
  old.index = s2.hard.commit;
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1, &old, &why), RV_EEXIST);
  /* malformed metadata */
  raft_snapshot_meta_t bad = meta;
  bad.term = t1 + 1;
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1, &bad, &why), RV_EINVAL);
  bad = meta;
  bad.index = 0;
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1, &bad, &why), RV_EINVAL);
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1, NULL, &why), RV_EINVAL);
  /* the leader itself takes no snapshot */
  assert_int_equal(raft_core_snapshot_acceptable(net->nodes[1].r, 2, t1, &meta, &why),
                   RV_ENOTLEADER);

  /* Node 3 takes over: node 1 is deposed, and a stream it started before is stale. */
  tnet_campaign(net, 3);
  tnet_settle(net);
  s2 = tnet_status(net, 2);
  raft_term_t t2 = s2.hard.term;
  assert_true(t2 > t1);
  meta.index = s2.hard.commit + 10;
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t1, &meta, &why), RV_ESTALE);
  assert_non_null(strstr(why.msg, "below our term"));
  assert_int_equal(raft_core_snapshot_acceptable(f, 1, t2, &meta, &why), RV_ENOTLEADER);
  meta.term = t2;
  assert_int_equal(raft_core_snapshot_acceptable(f, 3, t2, &meta, &why), RV_OK);

  /* The contract the shell relies on: accepted means the core installs it when stepped. */
  raft_msg_t snap = {.type = RAFT_MSG_SNAP, .from = 3, .to = 2, .term = t2, .snapshot = meta};
  tnet_core_flush(f);
  assert_int_equal(raft_core_step(f, &snap), 0);
  raft_update_t u;
  assert_int_equal(raft_core_get_update(f, &u), 0);
  assert_true(u.has_snapshot);
  assert_int_equal(u.snapshot.index, meta.index);
  assert_int_equal(raft_core_advance(f, &u), 0);
  /* and once installed, the same snapshot is old news */
  assert_int_equal(raft_core_snapshot_acceptable(f, 3, t2, &meta, &why), RV_EEXIST);
  tnet_destroy(&net);
}

/* A candidate (or pre-candidate) takes no snapshot: it follows nobody. */
static void test_snapshot_not_acceptable_while_campaigning(void **state) {
  (void)state;
  raft_config_t cfg;
  tnet_config(&cfg, 2, 3);
  raft_core_t *c = tnet_core_new(&cfg, NULL);
  assert_int_equal(raft_core_campaign(c), 0);
  raft_status_t st = tnet_core_status(c);
  raft_snapshot_meta_t meta = {.index = 5, .term = st.hard.term, .conf = cfg.bootstrap};
  rv_err_t why;
  assert_int_equal(raft_core_snapshot_acceptable(c, 1, st.hard.term, &meta, &why), RV_ENOTLEADER);
  assert_non_null(strstr(why.msg, "candidate"));
  raft_core_destroy(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_snapshot_sent_to_lagging_follower),
      cmocka_unit_test(test_snapshot_restore_follower),
      cmocka_unit_test(test_snapshot_to_follower_restarted_empty),
      cmocka_unit_test(test_snapshot_failure_retries),
      cmocka_unit_test(test_snapshot_acceptable_only_from_current_leader),
      cmocka_unit_test(test_snapshot_not_acceptable_while_campaigning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
