/* raft_election: leader election (§5.2, §5.4.1), pre-vote (thesis §9.6), vote leases (thesis
 * §4.2.3) and check-quorum (thesis §6.2). Pure.
 *
 * A campaign is either a pre-vote (ask whether we could win, without touching our term), a real
 * election, or a transfer election started by TimeoutNow, which skips the pre-vote and overrides
 * the voters' leases because the current leader asked for it. */
#include <assert.h>

#include "raft_internal.h"

typedef enum { S_VOTE_PENDING, S_VOTE_WON, S_VOTE_LOST } s_vote_result_t;

/* Records id's answer (the first one counts) and tallies the voters. */
static s_vote_result_t s_poll(raft_core_t *r, raft_id_t id, bool granted) {
  size_t k;
  for (k = 0; k < r->n_votes; k++)
    if (r->vote_ids[k] == id) break;
  if (k == r->n_votes && r->n_votes < RAFT_MAX_MEMBERS) {
    r->vote_ids[k] = id;
    r->vote_states[k] = granted ? RAFT_VOTE_GRANTED : RAFT_VOTE_REJECTED;
    r->n_votes++;
  }
  size_t yes = 0, no = 0;
  for (k = 0; k < r->n_votes; k++) {
    /* Only voters of our configuration count; learners and strangers may answer. */
    if (!raft_conf_is_voter(&r->conf, r->vote_ids[k])) continue;
    if (r->vote_states[k] == RAFT_VOTE_GRANTED) yes++;
    if (r->vote_states[k] == RAFT_VOTE_REJECTED) no++;
  }
  size_t q = raft_membership_quorum(r);
  if (yes >= q) return S_VOTE_WON;
  if (no > r->conf.n_voters - q) return S_VOTE_LOST;
  return S_VOTE_PENDING;
}

static void s_campaign(raft_core_t *r, raft_campaign_t t);

static void s_won(raft_core_t *r) {
  if (r->role == RAFT_PRE_CANDIDATE) {
    /* A quorum would vote for us: now run the real election. */
    s_campaign(r, RAFT_CAMPAIGN_ELECTION);
  } else {
    /* §5.2: "A candidate wins an election if it receives votes from a majority of the servers
     * in the full cluster for the same term." */
    raft_become_leader(r);
    raft_replication_bcast_append(r);
  }
}

static void s_campaign(raft_core_t *r, raft_campaign_t t) {
  raft_msg_type_t type;
  raft_term_t term;
  if (r->term >= RAFT_TERM_MAX) { /* never reached by real elections; refused, not wrapped */
    raft_fault(r, "term %llu: no higher term may be used", (unsigned long long)r->term);
    return;
  }
  if (t == RAFT_CAMPAIGN_PRE_VOTE) {
    raft_become_pre_candidate(r);
    type = RAFT_MSG_PRE_VOTE;
    term = r->term + 1; /* the term we would campaign in; not adopted yet */
  } else {
    raft_become_candidate(r);
    type = RAFT_MSG_VOTE;
    term = r->term;
  }
  /* Our own vote. It is in the hard state of the coming update; the vote requests below wait
   * for that update to be durable, so no grant can arrive before our vote is on disk. */
  if (s_poll(r, r->id, true) == S_VOTE_WON) {
    s_won(r);
    return;
  }
  for (size_t k = 0; k < r->conf.n_voters; k++) {
    raft_id_t id = r->conf.voters[k];
    if (id == r->id) continue;
    raft_msg_t m = {.type = type,
                    .to = id,
                    .term = term,
                    .index = raft_log_last_index(&r->log),
                    .log_term = raft_log_last_term(&r->log),
                    .transfer = t == RAFT_CAMPAIGN_TRANSFER};
    raft_send(r, &m);
  }
}

void raft_election_hup(raft_core_t *r, raft_campaign_t t) {
  if (r->role == RAFT_LEADER || !raft_is_promotable(r) || r->no_campaign) return;
  s_campaign(r, t);
}

/* Should a vote request at a higher term be ignored because we believe a leader is alive? */
bool raft_election_in_lease(const raft_core_t *r, const raft_msg_t *m) {
  /* thesis §4.2.3: "if a server receives a RequestVote request within the minimum election
   * timeout of hearing from a current leader, it does not update its term or grant its vote."
   * For real votes this is the check-quorum lease (and what makes lease reads sound); a
   * pre-vote changes no state, so we always refuse it while a leader is alive: that is what
   * stops a node rejoining from a partition from deposing a healthy leader (thesis §9.6). */
  if (r->role == RAFT_LEADER) return m->type == RAFT_MSG_PRE_VOTE || r->cfg.check_quorum;
  /* The lease runs for election_tick ticks and, with a clock, for as long in real time: a
   * follower resumed after a pause handles its leader's last heartbeat before the ticks it owes
   * (they catch up one per loop turn), which would end a tick-only lease at once. */
  bool held = r->now < r->vote_lease_until ||
              (raft_lease_uses_clock(r) && raft_clock_us(r) < r->vote_lease_until_us);
  if (m->type == RAFT_MSG_PRE_VOTE) return r->leader != 0 && held;
  /* A real vote: the lease also covers the first election timeout after a restart, when we do
   * not know whom we acknowledged before the crash. */
  return r->cfg.check_quorum && held;
}

void raft_election_handle_vote(raft_core_t *r, const raft_msg_t *m) {
  /* §5.2: "Each server will vote for at most one candidate in a given term, on a
   * first-come-first-served basis". We may repeat a vote we already cast, vote if we have not
   * voted and know no leader in this term, or grant any pre-vote for a later term. */
  bool can_vote = r->vote == m->from || (r->vote == 0 && r->leader == 0) ||
                  (m->type == RAFT_MSG_PRE_VOTE && m->term > r->term);
  /* The vote lease holds at any term, not only for requests that would raise ours (s_step): a
   * rejected pre-vote answered at a higher term makes us adopt that term with no leader and no
   * vote, and the candidate's own request then arrives at our new term. Granting it while we
   * still acknowledge the old leader's lease let two leaders overlap: the old one serving lease
   * reads, the new one committing (raft_sim_test, RAFT_SIM_RUNS=100000, seed 3055241). A vote we
   * already cast may be repeated; a transfer's (TimeoutNow) ignores leases by design. */
  if (m->type == RAFT_MSG_VOTE && r->vote != m->from && !m->transfer &&
      raft_election_in_lease(r, m))
    can_vote = false;
  /* §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
   * candidate." */
  bool up_to_date = raft_log_is_up_to_date(&r->log, m->index, m->log_term);
#ifdef RAFT_TEST_KNOBS
  if (r->unsafe & RAFT_UNSAFE_SKIP_UP_TO_DATE) up_to_date = true;
#endif
  raft_msg_type_t resp_type =
      m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP : RAFT_MSG_PRE_VOTE_RESP;
  if (can_vote && up_to_date) {
    raft_msg_t resp = {.type = resp_type, .to = m->from, .term = m->term};
    raft_send(r, &resp);
    if (m->type == RAFT_MSG_VOTE) {
      /* Only real votes are recorded; the grant goes out after the vote is durable. */
      r->election_elapsed = 0;
      r->vote = m->from;
    }
  } else {
    raft_msg_t resp = {.type = resp_type, .to = m->from, .term = r->term, .reject = true};
    raft_send(r, &resp);
  }
}

void raft_election_handle_vote_resp(raft_core_t *r, const raft_msg_t *m) {
  /* A granted pre-vote must be for the term we would campaign in now, not for an earlier
   * round (a delayed grant). */
  if (m->type == RAFT_MSG_PRE_VOTE_RESP && !m->reject && m->term != r->term + 1) return;
  switch (s_poll(r, m->from, !m->reject)) {
    case S_VOTE_WON:
      s_won(r);
      break;
    case S_VOTE_LOST:
      /* §5.2: the candidate lost; wait for a leader or the next timeout as follower. */
      raft_become_follower(r, r->term, 0);
      break;
    case S_VOTE_PENDING:
      break;
  }
}

bool raft_election_check_quorum(raft_core_t *r) {
  assert(r->role == RAFT_LEADER);
  /* thesis §6.2: "a leader in Raft steps down if an election timeout elapses without a
   * successful round of heartbeats to a majority of its cluster". */
  if (!raft_progress_quorum_active(r)) {
    raft_become_follower(r, r->term, 0);
    return false;
  }
  for (size_t k = 0; k < r->n_trk; k++)
    if (r->trk[k].id != r->id) r->trk[k].recent_active = false;
  return true;
}
