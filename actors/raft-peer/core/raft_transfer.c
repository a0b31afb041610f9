/* raft_transfer: leadership transfer (thesis §3.10). Pure.
 *
 * "1. The prior leader stops accepting new client requests. 2. The prior leader fully updates
 * the target server's log to match its own ... 3. The prior leader sends a TimeoutNow request to
 * the target server. This request has the same effect as the target server's election timer
 * firing: the target server starts a new election". The target's vote requests carry the
 * transfer flag, so voters grant them despite their leases and no pre-vote is run: the leader
 * itself asked. The transfer is aborted after an election timeout (raft_core.c, tick). */
#include "raft_internal.h"

static void s_send_timeout_now(raft_core_t *r, raft_id_t to) {
  raft_msg_t m = {.type = RAFT_MSG_TIMEOUT_NOW, .to = to};
  raft_send(r, &m);
  /* Voters will ignore their leases for the target: ours is no longer a promise. */
  r->lease_forbidden = true;
}

int raft_core_transfer_leader(raft_core_t *r, raft_id_t target) {
  if (r->role != RAFT_LEADER) return RV_ENOTLEADER;
  if (target == 0 || target == r->id) return RV_EINVAL;
  raft_tracker_t *pr = raft_progress_find(r, target);
  if (!pr || pr->learner) return RV_EINVAL;
  if (r->transferee == target) return RV_EEXIST;
  raft_transfer_abort(r);
  /* The transfer must finish within one election timeout. */
  r->election_elapsed = 0;
  r->transferee = target;
  if (pr->match == raft_log_last_index(&r->log))
    s_send_timeout_now(r, target);
  else
    raft_replication_send_append(r, pr, true);
  raft_ready_collect_garbage(r);
  return 0;
}

void raft_transfer_progressed(raft_core_t *r, raft_tracker_t *pr) {
  if (r->transferee == pr->id && pr->match == raft_log_last_index(&r->log))
    s_send_timeout_now(r, pr->id);
}

void raft_transfer_abort(raft_core_t *r) { r->transferee = 0; }

void raft_transfer_handle_timeout_now(raft_core_t *r, const raft_msg_t *m) {
  (void)m;
  /* A learner or a removed node cannot campaign; raft_election_hup checks. */
  raft_election_hup(r, RAFT_CAMPAIGN_TRANSFER);
}
