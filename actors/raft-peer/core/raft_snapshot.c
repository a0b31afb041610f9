/* raft_snapshot: log compaction and InstallSnapshot (§7). Pure.
 *
 * The snapshot data belongs to the state machine and the shell; the core only tracks its
 * metadata (index, term, configuration). Compaction: the shell saves a snapshot at an applied
 * index, then calls raft_core_compact, which drops the entries it covers. Sending: when a
 * follower needs an entry that was compacted, the leader queues a MSG_SNAP with its snapshot's
 * metadata and puts the follower in snapshot state; the shell streams the data in chunks and
 * reports the outcome (raft_core_report_snapshot). Receiving: the shell steps MSG_SNAP once the
 * whole data has arrived; if accepted, the next update carries the snapshot to install. */
#include "raft_internal.h"

int raft_core_compact(raft_core_t *r, raft_index_t index, raft_snapshot_meta_t *meta) {
  if (!meta || index <= r->log.snap.index || index > r->log.applied ||
      index > raft_log_last_index(&r->log))
    return RV_EINVAL;
  raft_snapshot_meta_t s = {.index = index};
  if (raft_log_term(&r->log, index, &s.term) != 0) return RV_EINVAL;
  raft_membership_conf_at(r, index, &s.conf);
  /* §7: "Each server takes snapshots independently, covering just the committed entries in its
   * log"; index <= applied <= committed. */
  raft_log_compact(&r->log, &s);
  *meta = s;
  /* Snapshots queued but not yet handed out now name the new one, so the shell only ever needs
   * its latest snapshot (plus those named by the outstanding update). */
  raft_msgq_t *queues[2] = {&r->msgs, &r->msgs_after};
  for (int q = 0; q < 2; q++)
    for (size_t k = 0; k < queues[q]->n; k++)
      if (queues[q]->v[k].type == RAFT_MSG_SNAP) queues[q]->v[k].snapshot = s;
  for (size_t k = 0; k < r->n_trk; k++)
    if (r->trk[k].state == RAFT_PROGRESS_SNAPSHOT) r->trk[k].pending_snapshot = s.index;
  raft_ready_collect_garbage(r);
  return 0;
}

bool raft_snapshot_send(raft_core_t *r, raft_tracker_t *pr) {
  /* Do not start a (large) transfer to a member that has not answered lately. */
  if (!pr->recent_active) return false;
  raft_msg_t m = {.type = RAFT_MSG_SNAP, .to = pr->id, .snapshot = r->log.snap};
  raft_send(r, &m);
  raft_tracker_become_snapshot(pr, r->log.snap.index);
  return true;
}

void raft_snapshot_handle(raft_core_t *r, const raft_msg_t *m) {
  const raft_snapshot_meta_t *s = &m->snapshot;
  raft_msg_t resp = {.type = RAFT_MSG_APP_RESP, .to = m->from};
  if (s->index <= r->log.committed) {
    /* Old news: we already have everything it covers. */
    resp.index = r->log.committed;
  } else if (raft_log_match_term(&r->log, s->index, s->term)) {
    /* §7: "If the follower receives a snapshot that describes a prefix of its log, then log
     * entries covered by the snapshot are deleted but entries following the snapshot are still
     * valid and must be retained." We keep them and only learn that they are committed. */
    raft_log_commit_to(&r->log, s->index);
    resp.index = r->log.committed;
  } else {
    /* §7: "Usually the snapshot will contain new information not already in the recipient's
     * log. In this case, the follower discards its entire log". */
    raft_log_restore(&r->log, s);
    r->snapshot_pending = true;
    r->conf = s->conf;
    r->conf_index = s->index;
    raft_progress_sync(r);
    resp.index = raft_log_last_index(&r->log);
  }
  raft_send(r, &resp);
}

int raft_core_snapshot_acceptable(const raft_core_t *r, raft_id_t from, raft_term_t term,
                                  const raft_snapshot_meta_t *meta, rv_err_t *why) {
  if (!meta || meta->index == 0 || meta->term > term || !raft_conf_valid(&meta->conf))
    return rv_err_set(why, RV_EINVAL, "malformed snapshot metadata");
  /* §5.1: "If a server receives a request with a stale term number, it rejects the request." */
  if (term < r->term)
    return rv_err_set(why, RV_ESTALE, "sent at term %llu, below our term %llu",
                      (unsigned long long)term, (unsigned long long)r->term);
  /* §5.2: at most one leader per term; every snapshot follows an AppendEntries of the leader's
   * term that made us its follower. A higher term we have not reached, or another sender in our
   * term, is not the leader we follow: a deposed leader, a late stream, or a forgery. */
  if (term > r->term || r->role != RAFT_FOLLOWER || r->leader != from)
    return rv_err_set(why, RV_ENOTLEADER,
                      "node %llu at term %llu is not the leader we follow (we are %s at term "
                      "%llu, leader %llu)",
                      (unsigned long long)from, (unsigned long long)term, raft_role_name(r->role),
                      (unsigned long long)r->term, (unsigned long long)r->leader);
  /* §7: a snapshot at or below our commit index holds nothing we lack. */
  if (meta->index <= r->log.committed)
    return rv_err_set(why, RV_EEXIST, "snapshot index %llu is not above our commit index %llu",
                      (unsigned long long)meta->index, (unsigned long long)r->log.committed);
  return RV_OK;
}

void raft_core_report_snapshot(raft_core_t *r, raft_id_t id, raft_snapshot_status_t status) {
  if (r->role != RAFT_LEADER) return;
  raft_tracker_t *pr = raft_progress_find(r, id);
  if (!pr || pr->state != RAFT_PROGRESS_SNAPSHOT) return;
  /* On failure, forget the snapshot so the next probe starts from match + 1 (and sends a new
   * snapshot if still needed). Either way wait for the follower's answer, or the next heartbeat
   * response, before sending again. */
  if (status != RAFT_SNAPSHOT_FINISH) pr->pending_snapshot = 0;
  raft_tracker_become_probe(pr);
  pr->paused = true;
}
