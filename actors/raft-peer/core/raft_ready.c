/* raft_ready: the outbox and the update (etcd's Ready). Pure.
 *
 * Messages are queued in two lists. A leader's replication messages (MsgApp, MsgHeartbeat,
 * MsgSnap, TimeoutNow) may leave before its own log write is durable (thesis §10.2.1: the
 * leader counts itself only once its write is durable, see raft_progress.c), provided its term
 * is already durable. Everything else - vote requests and grants, append and heartbeat
 * responses, forwarded reads - acknowledges or depends on state in the same update and waits
 * until the shell has made that update durable (§5.2: votes, §5.3: acknowledged entries).
 *
 * Zero-copy: messages and the update point at the log's entry data. Entries dropped by
 * truncation, compaction or a snapshot go to the log's graveyard; the data is freed once no
 * queued message and no outstanding update can refer to it: everything buried before an update
 * was handed out is freed when that update is advanced. */
#include <stdlib.h>
#include <string.h>

#include "raft_internal.h"

static void s_msgq_push(raft_msgq_t *q, const raft_msg_t *m) {
  if (q->n == q->cap) {
    q->cap = q->cap ? 2 * q->cap : 16;
    q->v = raft_xrealloc(q->v, q->cap * sizeof *q->v);
  }
  q->v[q->n++] = *m;
}

void raft_msgq_free(raft_msgq_t *q) {
  for (size_t k = 0; k < q->n; k++) free(q->v[k].entries);
  free(q->v);
  memset(q, 0, sizeof *q);
}

static bool s_is_vote_type(raft_msg_type_t t) {
  return t == RAFT_MSG_VOTE || t == RAFT_MSG_VOTE_RESP || t == RAFT_MSG_PRE_VOTE ||
         t == RAFT_MSG_PRE_VOTE_RESP;
}

static bool s_may_skip_persist(const raft_core_t *r, raft_msg_type_t t) {
  if (r->role != RAFT_LEADER || r->durable_term != r->term) return false;
  return t == RAFT_MSG_APP || t == RAFT_MSG_HEARTBEAT || t == RAFT_MSG_SNAP ||
         t == RAFT_MSG_TIMEOUT_NOW;
}

void raft_send(raft_core_t *r, raft_msg_t *m) {
  m->from = r->id;
  /* Vote messages carry the term of the election they are about; everything else ours. */
  if (!s_is_vote_type(m->type)) m->term = r->term;
  s_msgq_push(s_may_skip_persist(r, m->type) ? &r->msgs : &r->msgs_after, m);
}

void raft_send_entries(raft_core_t *r, raft_msg_t *m, const raft_entry_t *ents, size_t n) {
  m->entries = NULL;
  m->n_entries = n;
  if (n) {
    m->entries = raft_xmalloc(n * sizeof *m->entries);
    memcpy(m->entries, ents, n * sizeof *m->entries);
  }
  raft_send(r, m);
}

void raft_ready_collect_garbage(raft_core_t *r) {
  if (!r->outstanding && r->msgs.n == 0 && r->msgs_after.n == 0)
    raft_log_grave_free_all(&r->log);
}

static raft_hard_state_t s_hard(const raft_core_t *r) {
  return (raft_hard_state_t){r->term, r->vote, r->log.committed};
}

static bool s_hard_equal(raft_hard_state_t a, raft_hard_state_t b) {
  return a.term == b.term && a.vote == b.vote && a.commit == b.commit;
}

/* Entries from here on are to be applied next. */
static raft_index_t s_apply_from(const raft_core_t *r) {
  return r->snapshot_pending ? r->log.snap.index : r->log.applied;
}

bool raft_core_ready(const raft_core_t *r) {
  if (r->outstanding) return false;
  raft_soft_state_t soft = {r->role, r->leader};
  return soft.role != r->prev_soft.role || soft.leader != r->prev_soft.leader ||
         !s_hard_equal(s_hard(r), r->prev_hard) || r->snapshot_pending ||
         r->log.stable < raft_log_last_index(&r->log) || r->msgs.n || r->msgs_after.n ||
         r->log.committed > s_apply_from(r) || r->n_ready_reads;
}

/* A shallow copy of the log's entries in [lo, hi] (data stays the log's). */
static raft_entry_t *s_copy_range(const raft_core_t *r, raft_index_t lo, raft_index_t hi,
                                  size_t *n) {
  *n = 0;
  if (hi < lo) return NULL;
  *n = (size_t)(hi - lo + 1);
  raft_entry_t *v = raft_xmalloc(*n * sizeof *v);
  memcpy(v, raft_log_entry(&r->log, lo), *n * sizeof *v);
  return v;
}

int raft_core_get_update(raft_core_t *r, raft_update_t *u) {
  if (r->outstanding) return RV_EBUSY;
  if (!raft_core_ready(r)) return RV_EAGAIN;
  memset(u, 0, sizeof *u);

  raft_soft_state_t soft = {r->role, r->leader};
  if (soft.role != r->prev_soft.role || soft.leader != r->prev_soft.leader) {
    u->has_soft_state = true;
    u->soft = soft;
    r->prev_soft = soft;
  }
  raft_hard_state_t hard = s_hard(r);
  if (!s_hard_equal(hard, r->prev_hard)) {
    u->has_hard_state = true;
    u->hard = hard;
    /* Term and vote must be durable before anything is sent (§5 Figure 2: "updated on stable
     * storage before responding to RPCs"); the commit index alone may be written lazily. */
    u->must_sync |= hard.term != r->prev_hard.term || hard.vote != r->prev_hard.vote;
    r->prev_hard = hard;
  }
  raft_index_t apply_from = s_apply_from(r);
  if (r->snapshot_pending) {
    u->has_snapshot = true;
    u->snapshot = r->log.snap;
    u->must_sync = true;
    r->snapshot_pending = false;
    r->out_has_snapshot = true;
    r->out_snapshot = u->snapshot;
  }
  r->out_entries = s_copy_range(r, r->log.stable + 1, raft_log_last_index(&r->log),
                                &r->n_out_entries);
  u->entries = r->out_entries;
  u->n_entries = r->n_out_entries;
  u->must_sync |= u->n_entries > 0;

  r->out_committed = s_copy_range(r, apply_from + 1, r->log.committed, &r->n_out_committed);
  u->committed = r->out_committed;
  u->n_committed = r->n_out_committed;

  r->out_msgs = r->msgs;
  r->out_msgs_after = r->msgs_after;
  memset(&r->msgs, 0, sizeof r->msgs);
  memset(&r->msgs_after, 0, sizeof r->msgs_after);
  u->msgs = r->out_msgs.v;
  u->n_msgs = r->out_msgs.n;
  u->msgs_after_persist = r->out_msgs_after.v;
  u->n_msgs_after_persist = r->out_msgs_after.n;

  r->out_reads = r->ready_reads;
  r->n_out_reads = r->n_ready_reads;
  r->ready_reads = NULL;
  r->n_ready_reads = r->cap_ready_reads = 0;
  u->reads = r->out_reads;
  u->n_reads = r->n_out_reads;

  r->outstanding = true;
  u->seq = ++r->update_seq;
  r->log.n_grave_handed = r->log.n_grave;
  return 0;
}

/* The longest prefix of the persisted entries that still is our log's becomes stable. A newer
 * leader may have truncated some of them while the update was out; those are written again by
 * the next update (the shell overwrites from its first index). */
static void s_mark_stable(raft_core_t *r) {
  if (r->n_out_entries == 0) return;
  raft_index_t first = r->out_entries[0].index;
  if (first > r->log.stable + 1) return; /* a truncation below it: the disk has a gap */
  raft_index_t upto = first - 1;
  for (size_t k = 0; k < r->n_out_entries; k++) {
    const raft_entry_t *e = &r->out_entries[k];
    if (!raft_log_match_term(&r->log, e->index, e->term) || e->index <= r->log.snap.index) break;
    upto = e->index;
  }
  if (upto > r->log.stable) r->log.stable = upto;
}

int raft_core_advance(raft_core_t *r, const raft_update_t *u) {
  if (!r->outstanding || !u || u->seq != r->update_seq) return RV_EINVAL;
  if (r->out_has_snapshot && r->log.applied < r->out_snapshot.index)
    r->log.applied = r->out_snapshot.index;
  s_mark_stable(r);
  if (r->n_out_committed) {
    raft_index_t last = r->out_committed[r->n_out_committed - 1].index;
    if (last > r->log.applied) r->log.applied = last;
  }
  if (u->has_hard_state) r->durable_term = u->hard.term;

  raft_msgq_free(&r->out_msgs);
  raft_msgq_free(&r->out_msgs_after);
  free(r->out_entries);
  free(r->out_committed);
  free(r->out_reads);
  r->out_entries = r->out_committed = NULL;
  r->out_reads = NULL;
  r->n_out_entries = r->n_out_committed = r->n_out_reads = 0;
  r->out_has_snapshot = false;
  r->outstanding = false;
  raft_log_grave_release(&r->log, r->log.n_grave_handed);

  /* Our own entries are now durable: they count towards the quorum (thesis §10.2.1). */
  if (r->role == RAFT_LEADER) raft_replication_maybe_commit(r);
  raft_ready_collect_garbage(r);
  return 0;
}
