/* raft_read: linearizable reads without writing to the log (§6.4 ReadIndex, thesis §6.4.1
 * leases). Pure.
 *
 * The leader numbers every heartbeat broadcast (a "round"); followers echo the round in their
 * response. A read records the commit index when it arrives and the round that will confirm it;
 * once a quorum of voters has acknowledged that round (or a later one), no other leader could
 * have been elected before the read arrived, so the read may be served at that commit index.
 *
 * §6.4 step 1: "If the leader has not yet marked an entry from its current term committed, it
 * waits until it has done so": reads arriving earlier wait (round 0) for the first commit.
 *
 * Lease reads (cfg.lease_read, with check_quorum): a quorum that acknowledged round q, sent at
 * tick t, refuses to vote for anyone else until at least t + election_tick on their clocks (the
 * vote lease, raft_election.c). With equal tick rates, within one tick of drift, the leader may
 * serve reads without a round while now < t + election_tick - 2. TimeoutNow makes other nodes
 * ignore their leases, so a leader that sent one never uses its lease again in that term.
 *
 * Ticks measure real time only while the process runs: a leader paused (SIGSTOP, a starved
 * host, a VM stall) for longer than its lease resumes with its tick counter where it stopped,
 * and would serve reads while a newer leader commits. So both ends also measure the lease on
 * the shell's clock (raft_config_t.clock_us): the leader from when the round was sent, a voter
 * from when it heard the leader, which is later; a voter refuses votes for
 * (election_tick - 1) * tick_us, the leader trusts its lease one tick less (the margin for
 * the clocks' rates, which NTP keeps within 500 ppm). */
#include <string.h>

#include "raft_internal.h"

uint64_t raft_read_new_round(raft_core_t *r) {
  uint64_t round = ++r->read_round;
  r->round_id[round % RAFT_READ_ROUNDS] = round;
  r->round_tick[round % RAFT_READ_ROUNDS] = r->now;
  r->round_us[round % RAFT_READ_ROUNDS] = raft_clock_us(r);
  return round;
}

void raft_core_allow_lease(raft_core_t *r, bool allow) { r->lease_disallowed = !allow; }

bool raft_lease_uses_clock(const raft_core_t *r) {
#ifdef RAFT_TEST_KNOBS
  if (r->unsafe & RAFT_UNSAFE_LEASE_TICKS_ONLY) return false;
#endif
  return r->cfg.lease_read && r->cfg.clock_us != NULL; /* only lease reads need real time */
}

static bool s_committed_in_term(const raft_core_t *r) {
  raft_term_t t;
  return raft_log_term(&r->log, r->log.committed, &t) == 0 && t == r->term;
}

bool raft_read_lease_valid(const raft_core_t *r) {
  if (!r->cfg.lease_read || r->role != RAFT_LEADER || r->lease_forbidden || r->transferee ||
      r->lease_disallowed)
    return false;
  if (!s_committed_in_term(r)) return false;
  uint64_t q = raft_progress_quorum_read_ack(r);
  if (q == 0 || r->round_id[q % RAFT_READ_ROUNDS] != q) return false;
#ifdef RAFT_TEST_KNOBS
  if (r->unsafe & RAFT_UNSAFE_LEASE_UNTIL_STEPDOWN) return true;
#endif
  if (r->now + 2 >= r->round_tick[q % RAFT_READ_ROUNDS] + r->cfg.election_tick) return false;
  /* Ticks stall while the process is paused or starved: the clock says how long ago the round
   * really went out (the voters' leases run that long in real time too, raft_election.c). */
  return !raft_lease_uses_clock(r) ||
         raft_clock_us(r) < r->round_us[q % RAFT_READ_ROUNDS] +
                                (uint64_t)(r->cfg.election_tick - 2) * r->cfg.tick_us;
}

static void s_push_ready(raft_core_t *r, uint64_t ctx, raft_index_t index) {
  if (r->n_ready_reads == r->cap_ready_reads) {
    r->cap_ready_reads = r->cap_ready_reads ? 2 * r->cap_ready_reads : 8;
    r->ready_reads = raft_xrealloc(r->ready_reads, r->cap_ready_reads * sizeof *r->ready_reads);
  }
  r->ready_reads[r->n_ready_reads++] = (raft_read_state_t){ctx, index};
}

static void s_release(raft_core_t *r, const raft_read_req_t *q) {
  if (q->from == r->id) {
    s_push_ready(r, q->ctx, q->index);
  } else {
    /* the follower serves the read once it has applied q->index: tell it that commit first if
     * no message did yet (commits propagate lazily, raft_replication_maybe_commit) */
    raft_tracker_t *pr = raft_progress_find(r, q->from);
    if (pr) raft_replication_send_commit(r, pr, q->index);
    raft_msg_t m = {.type = RAFT_MSG_READ_INDEX_RESP, .to = q->from, .ctx = q->ctx,
                    .index = q->index};
    raft_send(r, &m);
  }
}

static void s_push_req(raft_core_t *r, raft_read_req_t q) {
  if (r->n_reads == r->cap_reads) {
    r->cap_reads = r->cap_reads ? 2 * r->cap_reads : 8;
    r->reads = raft_xrealloc(r->reads, r->cap_reads * sizeof *r->reads);
  }
  r->reads[r->n_reads++] = q;
}

static void s_leader_read(raft_core_t *r, uint64_t ctx, raft_id_t from) {
  raft_read_req_t q = {.ctx = ctx, .from = from};
  if (!s_committed_in_term(r)) {
    s_push_req(r, q); /* round 0: waits for the first commit of the term */
    return;
  }
  q.index = r->log.committed;
  if (raft_read_lease_valid(r)) {
    r->reads_lease++;
    s_release(r, &q);
    return;
  }
  /* §6.4 step 3: "the leader needs to make sure it hasn't been superseded by a newer leader ...
   * it issues a new round of heartbeats and waits for their acknowledgments from a majority". */
  raft_replication_bcast_heartbeat(r);
  q.round = r->read_round;
  s_push_req(r, q);
  raft_read_acked(r); /* a single voter confirms itself */
}

int raft_core_read_index(raft_core_t *r, uint64_t ctx) {
  if (r->role == RAFT_LEADER) {
    s_leader_read(r, ctx, r->id);
  } else {
    if (r->leader == 0) return RV_ENOTLEADER;
    /* thesis §6.4: followers "issue a request to the leader to learn the current commit index". */
    raft_msg_t m = {.type = RAFT_MSG_READ_INDEX, .to = r->leader, .ctx = ctx};
    raft_send(r, &m);
  }
  raft_ready_collect_garbage(r);
  return 0;
}

void raft_read_handle_request(raft_core_t *r, const raft_msg_t *m) {
  s_leader_read(r, m->ctx, m->from);
}

void raft_read_handle_resp(raft_core_t *r, const raft_msg_t *m) {
  s_push_ready(r, m->ctx, m->index);
}

void raft_read_acked(raft_core_t *r) {
  uint64_t q = raft_progress_quorum_read_ack(r);
  size_t keep = 0;
  for (size_t k = 0; k < r->n_reads; k++) {
    raft_read_req_t req = r->reads[k];
    if (req.round != 0 && req.round <= q) {
      r->reads_round++;
      s_release(r, &req);
    } else
      r->reads[keep++] = req;
  }
  r->n_reads = keep;
}

void raft_read_committed(raft_core_t *r) {
  if (!s_committed_in_term(r)) return;
  bool waiting = false;
  for (size_t k = 0; k < r->n_reads; k++) waiting |= r->reads[k].round == 0;
  if (!waiting) return;
  raft_replication_bcast_heartbeat(r);
  for (size_t k = 0; k < r->n_reads; k++) {
    if (r->reads[k].round != 0) continue;
    r->reads[k].round = r->read_round;
    r->reads[k].index = r->log.committed;
  }
  raft_read_acked(r);
}

void raft_read_reset(raft_core_t *r) {
  /* Pending reads die with the leadership; the shell times them out. Reads already confirmed
   * (ready_reads) stay valid and are still handed out. */
  r->n_reads = 0;
  r->read_round = 0;
  memset(r->round_id, 0, sizeof r->round_id);
}
