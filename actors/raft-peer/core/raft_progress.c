/* raft_progress: the leader's tracker of each member (etcd's tracker.Progress). Pure.
 *
 * A tracker is in one of three states:
 *   probe      next is a guess; one MsgApp at a time (paused until answered or a heartbeat
 *              response arrives), backtracking on rejections;
 *   replicate  next is optimistic; MsgApp are pipelined up to max_inflight_msgs, each
 *              remembered by its last index in the inflight ring and freed when acknowledged;
 *   snapshot   the follower needs a snapshot; nothing is sent until the shell reports.
 * Also the quorum computations over the voters' trackers (§5.3 commit, check-quorum, reads). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft_internal.h"

static void s_inflight_reset(raft_tracker_t *pr) {
  pr->in_start = 0;
  pr->in_count = 0;
}

bool raft_tracker_inflight_full(const raft_tracker_t *pr) { return pr->in_count == pr->in_cap; }

static void s_inflight_add(raft_tracker_t *pr, raft_index_t last) {
  assert(!raft_tracker_inflight_full(pr));
  pr->inflight[(pr->in_start + pr->in_count) % pr->in_cap] = last;
  pr->in_count++;
}

void raft_tracker_inflight_free_le(raft_tracker_t *pr, raft_index_t index) {
  while (pr->in_count > 0 && pr->inflight[pr->in_start] <= index) {
    pr->in_start = (pr->in_start + 1) % pr->in_cap;
    pr->in_count--;
  }
}

static void s_reset_state(raft_tracker_t *pr, raft_progress_state_t state) {
  pr->paused = false;
  pr->pending_snapshot = 0;
  pr->state = state;
  s_inflight_reset(pr);
}

void raft_tracker_become_probe(raft_tracker_t *pr) {
  /* After a snapshot, resume right after it (or after match, if that is further). */
  if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
    raft_index_t pending = pr->pending_snapshot;
    s_reset_state(pr, RAFT_PROGRESS_PROBE);
    pr->next = (pr->match + 1 > pending + 1) ? pr->match + 1 : pending + 1;
  } else {
    s_reset_state(pr, RAFT_PROGRESS_PROBE);
    pr->next = pr->match + 1;
  }
}

void raft_tracker_become_replicate(raft_tracker_t *pr) {
  s_reset_state(pr, RAFT_PROGRESS_REPLICATE);
  pr->next = pr->match + 1;
}

void raft_tracker_become_snapshot(raft_tracker_t *pr, raft_index_t index) {
  s_reset_state(pr, RAFT_PROGRESS_SNAPSHOT);
  pr->pending_snapshot = index;
}

bool raft_tracker_maybe_update(raft_tracker_t *pr, raft_index_t n) {
  bool updated = false;
  if (pr->match < n) {
    pr->match = n;
    updated = true;
    pr->paused = false;
  }
  if (pr->next < n + 1) pr->next = n + 1;
  return updated;
}

/* A MsgApp with prev index `rejected` was refused; hint is the follower's guess of the last
 * index that may match. Returns false when the rejection is stale (reordered). */
bool raft_tracker_maybe_decr_to(raft_tracker_t *pr, raft_index_t rejected, raft_index_t hint) {
  if (pr->state == RAFT_PROGRESS_REPLICATE) {
    if (rejected <= pr->match) {
      /* Stale (reordered) if the follower still holds what it acknowledged: etcd stops here.
       * But a follower restarted from an empty or older disk (its data-dir lost or restored)
       * answers with a hint below what it once acknowledged, and would be probed at match + 1
       * forever. Believe it: match only ever counts towards commits, so lowering it is safe
       * (commits already made stand; later ones wait for others), and at worst a really stale
       * answer costs a resend. */
      if (hint >= pr->match) return false;
      pr->match = hint;
      pr->next = hint + 1;
      return true;
    }
    pr->next = pr->match + 1;
    return true;
  }
  /* Probing sends one MsgApp at a time: a rejection of anything but next - 1 is stale. */
  if (pr->next == 0 || pr->next - 1 != rejected) return false;
  if (hint < pr->match) pr->match = hint; /* it lost what it had: see above */
  raft_index_t next = rejected < hint + 1 ? rejected : hint + 1;
  if (next < pr->match + 1) next = pr->match + 1;
  pr->next = next;
  pr->paused = false;
  return true;
}

bool raft_tracker_is_paused(const raft_tracker_t *pr) {
  switch (pr->state) {
    case RAFT_PROGRESS_PROBE:
    case RAFT_PROGRESS_REPLICATE:
      return pr->paused;
    case RAFT_PROGRESS_SNAPSHOT:
      return true;
  }
  return true;
}

/* A MsgApp carrying n entries ending at last was sent. */
void raft_tracker_sent_entries(raft_tracker_t *pr, raft_index_t last, size_t n) {
  if (pr->state == RAFT_PROGRESS_REPLICATE) {
    if (n > 0) {
      pr->next = last + 1;
      s_inflight_add(pr, last);
    }
    pr->paused = raft_tracker_inflight_full(pr);
  } else if (pr->state == RAFT_PROGRESS_PROBE) {
    if (n > 0) pr->paused = true;
  }
}

raft_tracker_t *raft_progress_find(raft_core_t *r, raft_id_t id) {
  for (size_t k = 0; k < r->n_trk; k++)
    if (r->trk[k].id == id) return &r->trk[k];
  return NULL;
}

static const raft_tracker_t *s_find_const(const raft_core_t *r, raft_id_t id) {
  for (size_t k = 0; k < r->n_trk; k++)
    if (r->trk[k].id == id) return &r->trk[k];
  return NULL;
}

static void s_tracker_init(raft_core_t *r, raft_tracker_t *pr, raft_id_t id, bool learner,
                           raft_index_t *ring) {
  memset(pr, 0, sizeof *pr);
  pr->id = id;
  pr->learner = learner;
  pr->next = raft_log_last_index(&r->log) + 1;
  pr->state = RAFT_PROGRESS_PROBE;
  /* A new member gets the benefit of the doubt until the next check-quorum. */
  pr->recent_active = true;
  pr->inflight = ring;
  pr->in_cap = r->cfg.max_inflight_msgs;
  if (id == r->id && r->role == RAFT_LEADER) {
    pr->match = r->log.stable;
    pr->state = RAFT_PROGRESS_REPLICATE;
  }
}

void raft_progress_sync(raft_core_t *r) {
  raft_id_t ids[RAFT_MAX_MEMBERS];
  bool learner[RAFT_MAX_MEMBERS];
  size_t n = 0;
  for (size_t k = 0; k < r->conf.n_voters; k++) ids[n] = r->conf.voters[k], learner[n++] = false;
  for (size_t k = 0; k < r->conf.n_learners; k++)
    ids[n] = r->conf.learners[k], learner[n++] = true;
  /* a member just removed keeps a tracker, as a learner (quorums count conf's voters only),
   * until its removal commits: it must receive that entry to know it was removed */
  if (r->role == RAFT_LEADER && r->leaving && r->leaving != r->id && n < RAFT_MAX_MEMBERS &&
      !raft_conf_is_voter(&r->conf, r->leaving) && !raft_conf_is_learner(&r->conf, r->leaving))
    ids[n] = r->leaving, learner[n++] = true;

  /* Members that stay keep their tracker (and its inflight ring); new ones take a free ring of
   * the pool and start probing. */
  raft_tracker_t fresh[RAFT_MAX_MEMBERS];
  bool ring_used[RAFT_MAX_MEMBERS] = {false}, kept[RAFT_MAX_MEMBERS] = {false};
  for (size_t k = 0; k < n; k++) {
    const raft_tracker_t *old = s_find_const(r, ids[k]);
    if (!old) continue;
    fresh[k] = *old;
    fresh[k].learner = learner[k];
    ring_used[(size_t)(old->inflight - r->inflight_pool) / r->cfg.max_inflight_msgs] = true;
    kept[k] = true;
  }
  for (size_t k = 0; k < n; k++) {
    if (kept[k]) continue;
    size_t ring = 0;
    while (ring_used[ring]) ring++;
    ring_used[ring] = true;
    s_tracker_init(r, &fresh[k], ids[k], learner[k],
                   r->inflight_pool + ring * r->cfg.max_inflight_msgs);
  }
  memcpy(r->trk, fresh, n * sizeof *fresh);
  r->n_trk = n;
}

void raft_progress_reset_all(raft_core_t *r) {
  for (size_t k = 0; k < r->n_trk; k++) {
    raft_tracker_t *pr = &r->trk[k];
    s_tracker_init(r, pr, pr->id, pr->learner, pr->inflight);
  }
}

static int s_cmp_desc(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The value v such that a quorum of voters has a value >= v. */
static uint64_t s_quorum_value(const raft_core_t *r, uint64_t (*get)(const raft_core_t *,
                                                                      const raft_tracker_t *)) {
  uint64_t vals[RAFT_MAX_MEMBERS];
  size_t n = 0;
  for (size_t k = 0; k < r->conf.n_voters; k++) {
    const raft_tracker_t *pr = s_find_const(r, r->conf.voters[k]);
    vals[n++] = pr ? get(r, pr) : 0;
  }
  if (n == 0) return 0;
  qsort(vals, n, sizeof *vals, s_cmp_desc);
  return vals[raft_membership_quorum(r) - 1];
}

static uint64_t s_get_match(const raft_core_t *r, const raft_tracker_t *pr) {
  /* Our own entries count once they are durable (thesis §10.2.1: the leader may send before its
   * own write, but counts itself only after it). */
  return pr->id == r->id ? r->log.stable : pr->match;
}

raft_index_t raft_progress_quorum_match(const raft_core_t *r) {
  return s_quorum_value(r, s_get_match);
}

static uint64_t s_get_active(const raft_core_t *r, const raft_tracker_t *pr) {
  return pr->id == r->id || pr->recent_active;
}

bool raft_progress_quorum_active(const raft_core_t *r) {
  return s_quorum_value(r, s_get_active) == 1;
}

static uint64_t s_get_read_ack(const raft_core_t *r, const raft_tracker_t *pr) {
  return pr->id == r->id ? r->read_round : pr->read_ack;
}

uint64_t raft_progress_quorum_read_ack(const raft_core_t *r) {
  return s_quorum_value(r, s_get_read_ack);
}

int raft_core_progress(const raft_core_t *r, raft_id_t id, raft_progress_t *out) {
  if (r->role != RAFT_LEADER) return RV_ENOTLEADER;
  const raft_tracker_t *pr = s_find_const(r, id);
  if (!pr) return RV_ENOTFOUND;
  out->id = pr->id;
  out->learner = pr->learner;
  out->match = s_get_match(r, pr);
  out->next = pr->next;
  out->state = pr->state;
  out->paused = raft_tracker_is_paused(pr);
  out->inflight = pr->in_count;
  out->recent_active = pr->recent_active;
  out->pending_snapshot = pr->pending_snapshot;
  return 0;
}
