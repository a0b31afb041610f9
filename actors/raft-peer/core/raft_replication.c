/* raft_replication: log replication (§5.3), the commit rule (§5.3, §5.4.2), heartbeats and
 * client proposals. Pure.
 *
 * Leader side: MsgApp batches bounded by max_msg_entries / max_msg_bytes, pipelined within each
 * follower's inflight window while it replicates, one probe at a time while its next index is a
 * guess; rejections carry a hint (the follower's last index whose term is <= the leader's
 * previous term) so backtracking skips a whole term per round trip instead of one entry (§5.3
 * "the leader can decrement nextIndex to bypass all of the conflicting entries in that term").
 * Follower side: the consistency check, truncation of conflicting suffixes, commit propagation. */
#include <assert.h>

#include "raft_internal.h"

raft_index_t raft_replication_append_local(raft_core_t *r, raft_entry_type_t type,
                                           const void *data, size_t len) {
  assert(r->role == RAFT_LEADER);
  raft_index_t index = raft_log_append_new(&r->log, r->term, type, data, len);
  r->uncommitted_bytes += len;
  if (type == RAFT_ENTRY_CONF) raft_membership_log_changed(r, index);
  return index;
}

bool raft_replication_send_append(raft_core_t *r, raft_tracker_t *pr, bool send_if_empty) {
  if (pr->id == r->id || raft_tracker_is_paused(pr)) return false;
  raft_index_t last = raft_log_last_index(&r->log);
  if (pr->next > last + 1) pr->next = last + 1; /* never probe past our own log */
  raft_index_t prev = pr->next - 1;
  raft_term_t prev_term = 0;
  bool compacted = raft_log_term(&r->log, prev, &prev_term) != 0;
  const raft_entry_t *ents = NULL;
  size_t n = 0;
  /* A replicating follower with a full window gets an empty MsgApp (if anything): it elicits an
   * acknowledgement that frees the window even if every MsgApp in it was lost. */
  if (!compacted && (pr->state != RAFT_PROGRESS_REPLICATE || !raft_tracker_inflight_full(pr)))
    n = raft_log_slice(&r->log, pr->next, r->cfg.max_msg_entries, r->cfg.max_msg_bytes, &ents);
  if (n == 0 && !send_if_empty) return false;
  if (compacted) {
    /* §7: "the leader must occasionally send snapshots to followers that lag behind". */
    return raft_snapshot_send(r, pr);
  }
  raft_msg_t m = {.type = RAFT_MSG_APP,
                  .to = pr->id,
                  .index = prev,
                  .log_term = prev_term,
                  .commit = r->log.committed};
  raft_send_entries(r, &m, ents, n);
  raft_tracker_sent_entries(pr, prev + n, n);
  /* the follower commits min(commit, its last new entry): that much it is told */
  raft_index_t told = r->log.committed < prev + n ? r->log.committed : prev + n;
  if (told > pr->commit_sent) pr->commit_sent = told;
  return true;
}

void raft_replication_bcast_append(raft_core_t *r) {
  for (size_t k = 0; k < r->n_trk; k++) raft_replication_send_append(r, &r->trk[k], true);
}

void raft_replication_bcast_heartbeat(raft_core_t *r) {
  /* Every heartbeat broadcast is a numbered round: its acknowledgements confirm our leadership
   * at the time it was sent, which is what ReadIndex and leases need (§6.4). */
  uint64_t round = raft_read_new_round(r);
  for (size_t k = 0; k < r->n_trk; k++) {
    raft_tracker_t *pr = &r->trk[k];
    if (pr->id == r->id) continue;
    /* Send at most the follower's match as commit: it may not have the entries beyond it, and
     * it must not commit entries it has not been shown to hold (etcd's rule). */
    raft_index_t commit = pr->match < r->log.committed ? pr->match : r->log.committed;
    raft_msg_t m = {.type = RAFT_MSG_HEARTBEAT, .to = pr->id, .commit = commit, .ctx = round};
    raft_send(r, &m);
    if (commit > pr->commit_sent) pr->commit_sent = commit;
  }
}

void raft_replication_send_commit(raft_core_t *r, raft_tracker_t *pr, raft_index_t upto) {
  if (pr->id == r->id) return;
  raft_index_t commit = pr->match < r->log.committed ? pr->match : r->log.committed;
  if (upto < commit) commit = upto;
  if (commit <= pr->commit_sent) return;
  /* ctx 0 is no read round (rounds count from 1): the follower takes the commit and does not
   * answer; liveness and read rounds ride on the numbered heartbeats */
  raft_msg_t m = {.type = RAFT_MSG_HEARTBEAT, .to = pr->id, .commit = commit, .ctx = 0};
  raft_send(r, &m);
  pr->commit_sent = commit;
}

void raft_replication_tick_commit(raft_core_t *r) {
  for (size_t k = 0; k < r->n_trk; k++)
    raft_replication_send_commit(r, &r->trk[k], r->log.committed);
}

/* Entries (old, committed] of our term are no longer uncommitted. */
static void s_release_uncommitted(raft_core_t *r, raft_index_t old) {
  for (raft_index_t i = old + 1; i <= r->log.committed; i++) {
    const raft_entry_t *e = raft_log_entry(&r->log, i);
    if (!e || e->term != r->term) continue;
    r->uncommitted_bytes = e->len < r->uncommitted_bytes ? r->uncommitted_bytes - e->len : 0;
  }
}

bool raft_replication_maybe_commit(raft_core_t *r) {
  assert(r->role == RAFT_LEADER);
  /* §5.3: "If there exists an N such that N > commitIndex, a majority of matchIndex[i] >= N, and
   * log[N].term == currentTerm: set commitIndex = N". */
  raft_index_t n = raft_progress_quorum_match(r);
  if (n <= r->log.committed) return false;
  raft_term_t t;
  if (raft_log_term(&r->log, n, &t) != 0) return false;
  bool current_term = t == r->term;
#ifdef RAFT_TEST_KNOBS
  if (r->unsafe & RAFT_UNSAFE_COMMIT_ANY_TERM) current_term = true;
#endif
  /* §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
   * entries from the leader's current term are committed by counting replicas" (Figure 8). */
  if (!current_term) return false;
  raft_index_t old = r->log.committed;
  raft_log_commit_to(&r->log, n);
  s_release_uncommitted(r, old);
  raft_read_committed(r);
  raft_membership_committed(r); /* may step down: our own removal is now committed */
  /* §5.3: the leader "includes that index in future AppendEntries RPCs (including heartbeats)
   * so that the other servers eventually find out". Lazily: followers with entries to receive
   * get them now, the new commit riding along; the others learn it from the next MsgApp (the
   * next write) or at the latest at the next tick (raft_replication_tick_commit). An empty
   * MsgApp for the commit alone cost every write a second round trip to each follower
   * (issue 11). Delaying the commit's propagation is always safe: a follower only applies less. */
  if (r->role == RAFT_LEADER)
    for (size_t k = 0; k < r->n_trk; k++) raft_replication_send_append(r, &r->trk[k], false);
  return true;
}

/* Checks and appends one command, sending nothing. */
static int s_propose_local(raft_core_t *r, const void *data, size_t len, raft_proposal_t *out) {
  *out = (raft_proposal_t){0};
  if (len && !data) return RV_EINVAL;
  if (r->role != RAFT_LEADER) {
    out->leader = r->leader;
    return RV_ENOTLEADER;
  }
  /* A leader that removed itself only finishes committing its removal. */
  if (!raft_progress_find(r, r->id)) return RV_ENOTLEADER;
  /* thesis §3.10: "the leader stops accepting new client requests" during a transfer. */
  if (r->transferee) {
    out->leader = r->id;
    return RV_EBUSY;
  }
  if (r->cfg.max_uncommitted_bytes && r->uncommitted_bytes > 0 &&
      r->uncommitted_bytes + len > r->cfg.max_uncommitted_bytes) {
    out->leader = r->id;
    return RV_EBUSY;
  }
  out->index = raft_replication_append_local(r, RAFT_ENTRY_NORMAL, data, len);
  out->term = r->term;
  out->leader = r->id;
  return 0;
}

int raft_core_propose(raft_core_t *r, const void *data, size_t len, raft_proposal_t *out) {
  raft_proposal_t dummy;
  if (!out) out = &dummy;
  int rc = s_propose_local(r, data, len, out);
  if (rc) return rc;
  raft_replication_bcast_append(r);
  raft_ready_collect_garbage(r);
  return 0;
}

size_t raft_core_propose_batch(raft_core_t *r, const raft_command_t *cmds, size_t n,
                               raft_proposal_t *outs, int *codes) {
  size_t appended = 0;
  for (size_t i = 0; i < n; i++) {
    codes[i] = s_propose_local(r, cmds[i].data, cmds[i].len, &outs[i]);
    if (codes[i] == 0) appended++;
  }
  if (appended) {
    /* §5.3: the leader "issues AppendEntries RPCs in parallel to each of the other servers to
     * replicate the entry": here once for all the entries just appended */
    raft_replication_bcast_append(r);
    raft_ready_collect_garbage(r);
  }
  return appended;
}

/* ------------------------------------------------------------------------------------------ */
/* Follower side. */

static void s_reply_app(raft_core_t *r, raft_id_t to, raft_index_t index) {
  raft_msg_t resp = {.type = RAFT_MSG_APP_RESP, .to = to, .index = index};
  raft_send(r, &resp);
}

void raft_replication_handle_append(raft_core_t *r, const raft_msg_t *m) {
  raft_log_t *log = &r->log;
  /* Everything up to our commit index is already known to match (and is never rewritten).
   * §5.4 (Leader Completeness): a leader's log holds every committed entry, so an entry in the
   * message that disagrees with one we committed means our log is damaged (or the message is
   * forged). Acknowledging our commit index would livelock silently (the leader probes below
   * it forever): stop loudly instead (raft_core_fault). */
  if (m->index < log->committed) {
    for (size_t k = 0; k < m->n_entries && m->entries[k].index <= log->committed; k++) {
      const raft_entry_t *e = &m->entries[k];
      raft_term_t ours;
      if (e->index > log->snap.index && raft_log_term(log, e->index, &ours) == 0 &&
          ours != e->term) {
        raft_fault(r, "log conflict with committed entry %llu: term %llu here, term %llu in "
                      "MsgApp from %llu",
                   (unsigned long long)e->index, (unsigned long long)ours,
                   (unsigned long long)e->term, (unsigned long long)m->from);
        return;
      }
    }
    s_reply_app(r, m->from, log->committed);
    return;
  }
  /* §5.3: "Reply false if log doesn't contain an entry at prevLogIndex whose term matches
   * prevLogTerm". The hint: our last (index, term) with term <= the leader's prevLogTerm, so the
   * leader can skip every entry of ours from a term it does not have. */
  if (!raft_log_match_term(log, m->index, m->log_term)) {
    raft_term_t ours;
    if (m->index == log->committed && m->index > log->snap.index &&
        raft_log_term(log, m->index, &ours) == 0) {
      /* the leader's entry at our commit index differs from ours: as above */
      raft_fault(r, "log conflict with committed entry %llu: term %llu here, term %llu in "
                    "MsgApp from %llu",
                 (unsigned long long)m->index, (unsigned long long)ours,
                 (unsigned long long)m->log_term, (unsigned long long)m->from);
      return;
    }
    raft_index_t last = raft_log_last_index(log);
    raft_index_t hint_index;
    raft_term_t hint_term;
    raft_log_find_conflict_by_term(log, m->index < last ? m->index : last, m->log_term,
                                   &hint_index, &hint_term);
    raft_msg_t resp = {.type = RAFT_MSG_APP_RESP,
                       .to = m->from,
                       .index = m->index,
                       .reject = true,
                       .reject_hint = hint_index,
                       .log_term = hint_term};
    raft_send(r, &resp);
    return;
  }
  raft_index_t last_new = m->index + m->n_entries;
  raft_index_t ci = raft_log_find_conflict(log, m->entries, m->n_entries);
  if (ci != 0) {
    /* §5.3: "If an existing entry conflicts with a new one (same index but different terms),
     * delete the existing entry and all that follow it. Append any new entries not already in
     * the log." ci > m->index >= committed (checked above): committed entries are never
     * overwritten (§5.4), whatever a peer sends. */
    size_t skip = (size_t)(ci - (m->index + 1));
    raft_log_append(log, m->entries + skip, m->n_entries - skip);
    raft_membership_log_changed(r, ci);
  }
  /* §5.3: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new
   * entry)". Only entries this message proved to match may be committed. */
  raft_log_commit_to(log, m->commit < last_new ? m->commit : last_new);
  s_reply_app(r, m->from, last_new);
}

void raft_replication_handle_heartbeat(raft_core_t *r, const raft_msg_t *m) {
  raft_index_t last = raft_log_last_index(&r->log);
  raft_log_commit_to(&r->log, m->commit < last ? m->commit : last);
  if (m->ctx == 0) return; /* a commit-only heartbeat (lazy commit): nobody waits for an answer */
  raft_msg_t resp = {.type = RAFT_MSG_HEARTBEAT_RESP, .to = m->from, .ctx = m->ctx};
  raft_send(r, &resp);
}

/* ------------------------------------------------------------------------------------------ */
/* Leader side. */

void raft_replication_handle_append_resp(raft_core_t *r, const raft_msg_t *m) {
  raft_tracker_t *pr = raft_progress_find(r, m->from);
  if (!pr) return;
  pr->recent_active = true;
  if (m->reject) {
    /* §5.3: "After a rejection, the leader decrements nextIndex and retries". With the hint we
     * jump to the last index whose term the follower might share with us. */
    raft_index_t next_probe = m->reject_hint;
    if (m->log_term > 0) {
      raft_term_t unused;
      raft_log_find_conflict_by_term(&r->log, m->reject_hint, m->log_term, &next_probe, &unused);
    }
    if (raft_tracker_maybe_decr_to(pr, m->index, next_probe)) {
      if (pr->state == RAFT_PROGRESS_REPLICATE) raft_tracker_become_probe(pr);
      raft_replication_send_append(r, pr, true);
    }
    return;
  }
  bool old_paused = raft_tracker_is_paused(pr);
  if (!raft_tracker_maybe_update(pr, m->index) &&
      !(pr->match == m->index && pr->state == RAFT_PROGRESS_PROBE))
    return;
  switch (pr->state) {
    case RAFT_PROGRESS_PROBE:
      raft_tracker_become_replicate(pr);
      break;
    case RAFT_PROGRESS_SNAPSHOT:
      /* The follower caught up (by the snapshot, or by entries we still have). */
      if (pr->match + 1 >= raft_log_first_index(&r->log)) {
        raft_tracker_become_probe(pr);
        raft_tracker_become_replicate(pr);
      }
      break;
    case RAFT_PROGRESS_REPLICATE:
      raft_tracker_inflight_free_le(pr, m->index);
      break;
  }
  if (!raft_replication_maybe_commit(r) && old_paused) raft_replication_send_append(r, pr, true);
  if (r->role != RAFT_LEADER) return;
  /* The window may have opened by several messages (probe -> replicate, or one ack covering
   * several MsgApp): fill it, without empty messages. */
  while (raft_replication_send_append(r, pr, false)) {
  }
  raft_transfer_progressed(r, pr);
  if (pr->id == r->leaving) raft_membership_leaving_check(r); /* pr is stale after this */
}

void raft_replication_handle_heartbeat_resp(raft_core_t *r, const raft_msg_t *m) {
  raft_tracker_t *pr = raft_progress_find(r, m->from);
  if (!pr) return;
  pr->recent_active = true;
  pr->paused = false;
  /* A response proves the follower is reachable: resend what it lacks (this also recovers a
   * window whose MsgApp were all lost, with an empty MsgApp). */
  if (pr->match < raft_log_last_index(&r->log) || pr->state == RAFT_PROGRESS_PROBE)
    raft_replication_send_append(r, pr, true);
  if (m->ctx > pr->read_ack && m->ctx <= r->read_round) {
    pr->read_ack = m->ctx;
    raft_read_acked(r);
  }
}

void raft_core_report_unreachable(raft_core_t *r, raft_id_t id) {
  if (r->role != RAFT_LEADER) return;
  raft_tracker_t *pr = raft_progress_find(r, id);
  /* Pipelined MsgApp were probably lost: fall back to probing. */
  if (pr && pr->state == RAFT_PROGRESS_REPLICATE) raft_tracker_become_probe(pr);
}
