/* raft_core: construction, the term rules every message goes through, per-role dispatch, role
 * conversion and the tick. Pure.
 *
 * raft_core_step first applies the rules that hold in every role (§5.1: a higher term converts
 * to follower, a lower term is stale; thesis §4.2.3 / §9.6 vote leases), then hands the message
 * to the role's function (s_step_follower, s_step_candidate, s_step_leader), etcd style. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#include "raft_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Allocation and randomness. */

void *raft_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort(); /* see raft_core.h: a crash is safe, a half-applied step is not */
  return p;
}

void *raft_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) abort();
  return q;
}

/* splitmix64: small, fast, and a pure function of the seed. */
static uint64_t s_rand_next(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* §5.2: "Raft uses randomized election timeouts to ensure that split votes are rare". */
static void s_reset_randomized_timeout(raft_core_t *r) {
  unsigned span = r->cfg.election_tick_max - r->cfg.election_tick;
  r->randomized_timeout = r->cfg.election_tick + (unsigned)(s_rand_next(&r->rng) % span);
}

/* ------------------------------------------------------------------------------------------ */
/* Configuration. */

void raft_config_default(raft_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->election_tick = 10;
  cfg->heartbeat_tick = 1;
  cfg->max_inflight_msgs = 64;
  cfg->max_uncommitted_bytes = 4u << 20;
  cfg->max_msg_entries = 64;
  cfg->max_msg_bytes = 1u << 20;
  cfg->pre_vote = true;
  cfg->check_quorum = true;
}

static int s_config_check(const raft_config_t *c, rv_err_t *err) {
  if (c->id == 0) return rv_err_set(err, RV_ECONFIG, "raft.id: must be non-zero");
  if (c->heartbeat_tick < 1)
    return rv_err_set(err, RV_ECONFIG, "raft.heartbeat_tick: must be >= 1");
  if (c->election_tick <= c->heartbeat_tick)
    return rv_err_set(err, RV_ECONFIG, "raft.election_tick: must exceed heartbeat_tick (%u), got %u",
                      c->heartbeat_tick, c->election_tick);
  if (c->election_tick_max != 0 && c->election_tick_max <= c->election_tick)
    return rv_err_set(err, RV_ECONFIG, "raft.election_tick_max: must exceed election_tick (%u)",
                      c->election_tick);
  if (c->max_inflight_msgs < 1 || c->max_inflight_msgs > 65536)
    return rv_err_set(err, RV_ECONFIG, "raft.max_inflight_msgs: expected 1..65536");
  if (c->max_msg_entries < 1) return rv_err_set(err, RV_ECONFIG, "raft.max_msg_entries: >= 1");
  if (c->max_msg_bytes < 1) return rv_err_set(err, RV_ECONFIG, "raft.max_msg_bytes: >= 1");
  if (c->lease_read && !c->check_quorum)
    return rv_err_set(err, RV_ECONFIG, "raft.lease_read: requires check_quorum");
  if (c->lease_read && (!c->clock_us || c->tick_us == 0))
    return rv_err_set(err, RV_ECONFIG, "raft.lease_read: requires clock_us and tick_us");
  if (!raft_conf_valid(&c->bootstrap))
    return rv_err_set(err, RV_ECONFIG, "raft.bootstrap: ids must be distinct and non-zero");
#ifndef RAFT_TEST_KNOBS
  if (c->test_unsafe)
    return rv_err_set(err, RV_ECONFIG, "raft.test_unsafe: only the test build honours it");
#endif
  return 0;
}

static int s_restored_check(const raft_storage_state_t *s, rv_err_t *err) {
  const raft_snapshot_meta_t *sn = &s->snapshot;
  if (s->hard.term > RAFT_TERM_MAX)
    return rv_err_set(err, RV_ECORRUPT, "hard state: term %llu beyond the largest term %llu",
                      (unsigned long long)s->hard.term, (unsigned long long)RAFT_TERM_MAX);
  if (sn->index > 0 && !raft_conf_valid(&sn->conf))
    return rv_err_set(err, RV_ECORRUPT, "snapshot %llu: invalid configuration",
                      (unsigned long long)sn->index);
  if (sn->index > 0 && sn->term > s->hard.term)
    return rv_err_set(err, RV_ECORRUPT, "snapshot %llu: term %llu beyond current term %llu",
                      (unsigned long long)sn->index, (unsigned long long)sn->term,
                      (unsigned long long)s->hard.term);
  if (s->n_entries && !s->entries) return rv_err_set(err, RV_ECORRUPT, "log: entries missing");
  raft_term_t prev = sn->term;
  for (size_t k = 0; k < s->n_entries; k++) {
    const raft_entry_t *e = &s->entries[k];
    if (e->index != sn->index + 1 + k)
      return rv_err_set(err, RV_ECORRUPT, "log: entry %zu has index %llu, expected %llu", k,
                        (unsigned long long)e->index, (unsigned long long)(sn->index + 1 + k));
    if (e->term < prev || e->term > s->hard.term)
      return rv_err_set(err, RV_ECORRUPT, "log: entry %llu has term %llu out of order",
                        (unsigned long long)e->index, (unsigned long long)e->term);
    if (e->len && !e->data)
      return rv_err_set(err, RV_ECORRUPT, "log: entry %llu has no data",
                        (unsigned long long)e->index);
    prev = e->term;
  }
  raft_index_t last = sn->index + s->n_entries;
  if (s->hard.commit > last)
    return rv_err_set(err, RV_ECORRUPT, "hard state: commit %llu beyond last index %llu",
                      (unsigned long long)s->hard.commit, (unsigned long long)last);
  /* applied may exceed the persisted commit (the shell may write a commit-only hard state
   * lazily), but applied entries were persisted before they were applied. */
  if (s->applied < sn->index || s->applied > last)
    return rv_err_set(err, RV_ECORRUPT, "applied %llu outside [snapshot %llu, last index %llu]",
                      (unsigned long long)s->applied, (unsigned long long)sn->index,
                      (unsigned long long)last);
  return 0;
}

raft_core_t *raft_core_new(const raft_config_t *cfg, const raft_storage_state_t *restored,
                           rv_err_t *err) {
  static const raft_storage_state_t empty;
  if (!restored) restored = &empty;
  if (s_config_check(cfg, err) != 0 || s_restored_check(restored, err) != 0) return NULL;

  raft_core_t *r = raft_xmalloc(sizeof *r);
  memset(r, 0, sizeof *r);
  r->cfg = *cfg;
  if (r->cfg.election_tick_max == 0) r->cfg.election_tick_max = 2 * r->cfg.election_tick;
  r->id = cfg->id;
#ifdef RAFT_TEST_KNOBS
  r->unsafe = cfg->test_unsafe;
#endif
  r->rng = cfg->seed ^ (cfg->id * 0xD1B54A32D192ED03ull);
  r->inflight_pool = raft_xmalloc(RAFT_MAX_MEMBERS * cfg->max_inflight_msgs *
                                  sizeof *r->inflight_pool);

  raft_snapshot_meta_t snap = restored->snapshot;
  if (snap.index == 0) {
    snap.term = 0;
    snap.conf = cfg->bootstrap;
  }
  raft_log_init(&r->log, &snap);
  raft_log_append(&r->log, restored->entries, restored->n_entries);
  r->log.stable = raft_log_last_index(&r->log); /* what was restored is durable */
  /* Entries the state machine applied were committed, even if the commit index was not yet
   * written; the snapshot is committed too. */
  r->log.committed = restored->hard.commit;
  if (r->log.committed < restored->applied) r->log.committed = restored->applied;
  if (r->log.committed < snap.index) r->log.committed = snap.index;
  r->log.applied = restored->applied > snap.index ? restored->applied : snap.index;
  r->term = restored->hard.term;
  r->vote = restored->hard.vote;

  r->conf = snap.conf;
  r->conf_index = snap.index;
  raft_progress_sync(r);
  raft_membership_log_changed(r, snap.index + 1);

  raft_become_follower(r, r->term, 0);
  /* A restarted node may have acknowledged a leader just before it crashed: keep the vote lease
   * a freshly heard leader would get, so leader leases stay sound across restarts (thesis
   * §6.4.1). A node that never saw a term cannot have acknowledged anyone. */
  if (r->term > 0) {
    r->vote_lease_until = r->cfg.election_tick;
    r->vote_lease_until_us = raft_vote_lease_end_us(r);
  }
  r->prev_hard = (raft_hard_state_t){r->term, r->vote, restored->hard.commit};
  r->durable_term = r->term;
  r->prev_soft = (raft_soft_state_t){RAFT_FOLLOWER, 0};
  return r;
}

void raft_core_destroy(raft_core_t **rp) {
  if (!rp || !*rp) return;
  raft_core_t *r = *rp;
  raft_msgq_free(&r->msgs);
  raft_msgq_free(&r->msgs_after);
  raft_msgq_free(&r->out_msgs);
  raft_msgq_free(&r->out_msgs_after);
  free(r->out_entries);
  free(r->out_committed);
  free(r->out_reads);
  free(r->reads);
  free(r->ready_reads);
  free(r->inflight_pool);
  raft_log_close(&r->log);
  free(r);
  *rp = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Role conversion. */

bool raft_is_promotable(const raft_core_t *r) { return raft_conf_is_voter(&r->conf, r->id); }

static void s_reset(raft_core_t *r, raft_term_t term) {
  if (r->term != term) {
    r->term = term;
    r->vote = 0;
    r->lease_forbidden = false;
  }
  r->leader = 0;
  r->election_elapsed = 0;
  r->heartbeat_elapsed = 0;
  s_reset_randomized_timeout(r);
  raft_transfer_abort(r);
  r->n_votes = 0;
  if (r->leaving) { /* only a leader sends to a removed member */
    r->leaving = 0;
    raft_progress_sync(r);
  }
  raft_progress_reset_all(r);
  r->pending_conf_index = 0;
  r->uncommitted_bytes = 0;
  raft_read_reset(r);
}

void raft_become_follower(raft_core_t *r, raft_term_t term, raft_id_t leader) {
  s_reset(r, term);
  r->role = RAFT_FOLLOWER;
  r->leader = leader;
}

void raft_become_pre_candidate(raft_core_t *r) {
  assert(r->role != RAFT_LEADER);
  /* Pre-vote changes no persistent state: same term, same vote (thesis §9.6). */
  r->role = RAFT_PRE_CANDIDATE;
  r->leader = 0;
  r->n_votes = 0;
}

void raft_become_candidate(raft_core_t *r) {
  assert(r->role != RAFT_LEADER);
  /* §5.2: "To begin an election, a follower increments its current term and transitions to
   * candidate state. It then votes for itself". */
  s_reset(r, r->term + 1);
  r->vote = r->id;
  r->role = RAFT_CANDIDATE;
}

void raft_become_leader(raft_core_t *r) {
  assert(r->role == RAFT_CANDIDATE);
  r->role = RAFT_LEADER; /* first: the trackers' reset makes ours replicate at our durable index */
  s_reset(r, r->term);
  r->leader = r->id;
  /* Any change in our log may be an unapplied conf change: allow the next one only once
   * everything we have is applied (thesis §4.1, one change at a time). */
  r->pending_conf_index = raft_log_last_index(&r->log);
  /* §5.4.2 / §8: "each leader commit a blank no-op entry into the log at the start of its
   * term", so entries of earlier terms commit and ReadIndex can start. */
  raft_replication_append_local(r, RAFT_ENTRY_EMPTY, NULL, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Step. */

static bool s_valid_entry_type(raft_entry_type_t t) {
  return t == RAFT_ENTRY_NORMAL || t == RAFT_ENTRY_EMPTY || t == RAFT_ENTRY_CONF;
}

/* Messages come from the network: check everything the protocol relies on. */
static int s_msg_check(const raft_core_t *r, const raft_msg_t *m) {
  if (!m || m->type < RAFT_MSG_PRE_VOTE || m->type > RAFT_MSG_TYPE_MAX) return RV_EINVAL;
  if (m->to != r->id || m->from == 0 || m->from == r->id) return RV_EINVAL;
  if (m->term > RAFT_TERM_MAX || m->log_term > RAFT_TERM_MAX) return RV_EINVAL;
  if (m->n_entries > 0 && (m->type != RAFT_MSG_APP || !m->entries)) return RV_EINVAL;
  switch (m->type) {
    case RAFT_MSG_APP: {
      if (m->log_term > m->term) return RV_EINVAL;
      if (m->index > UINT64_MAX - 1 - m->n_entries) return RV_EINVAL;
      raft_term_t prev = m->log_term;
      for (size_t k = 0; k < m->n_entries; k++) {
        const raft_entry_t *e = &m->entries[k];
        if (e->index != m->index + 1 + k || e->term < prev || e->term > m->term) return RV_EINVAL;
        if (!s_valid_entry_type(e->type) || (e->len && !e->data)) return RV_EINVAL;
        prev = e->term;
      }
      break;
    }
    case RAFT_MSG_SNAP:
      if (m->snapshot.index == 0 || m->snapshot.term > m->term) return RV_EINVAL;
      if (!raft_conf_valid(&m->snapshot.conf)) return RV_EINVAL;
      break;
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PRE_VOTE:
      if (m->log_term > m->term) return RV_EINVAL;
      break;
    default:
      break;
  }
  return 0;
}

/* The message comes from the leader of our term: restart the election timer and the vote lease
 * (thesis §4.2.3: "if a server receives a RequestVote request within the minimum election timeout
 * of hearing from a current leader, it does not update its term or grant its vote"). */
static void s_heard_from_leader(raft_core_t *r, raft_id_t leader) {
  r->election_elapsed = 0;
  r->leader = leader;
  r->vote_lease_until = r->now + r->cfg.election_tick;
  r->vote_lease_until_us = raft_vote_lease_end_us(r);
}

static int s_step_follower(raft_core_t *r, const raft_msg_t *m) {
  switch (m->type) {
    case RAFT_MSG_APP:
      s_heard_from_leader(r, m->from);
      raft_replication_handle_append(r, m);
      break;
    case RAFT_MSG_HEARTBEAT:
      s_heard_from_leader(r, m->from);
      raft_replication_handle_heartbeat(r, m);
      break;
    case RAFT_MSG_SNAP:
      s_heard_from_leader(r, m->from);
      raft_snapshot_handle(r, m);
      break;
    case RAFT_MSG_TIMEOUT_NOW:
      raft_transfer_handle_timeout_now(r, m);
      break;
    case RAFT_MSG_READ_INDEX_RESP:
      raft_read_handle_resp(r, m);
      break;
    default:
      break; /* stale responses, or a read forwarded to a node that is no longer leader */
  }
  return 0;
}

static int s_step_candidate(raft_core_t *r, const raft_msg_t *m) {
  switch (m->type) {
    case RAFT_MSG_APP:
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_SNAP:
      /* §5.2: "If the leader's term is at least as large as the candidate's current term, then
       * the candidate recognizes the leader as legitimate and returns to follower state." */
      raft_become_follower(r, m->term, m->from);
      return s_step_follower(r, m);
    case RAFT_MSG_PRE_VOTE_RESP:
      if (r->role == RAFT_PRE_CANDIDATE) raft_election_handle_vote_resp(r, m);
      break;
    case RAFT_MSG_VOTE_RESP:
      if (r->role == RAFT_CANDIDATE) raft_election_handle_vote_resp(r, m);
      break;
    default:
      break; /* TimeoutNow while campaigning, stale responses */
  }
  return 0;
}

static int s_step_leader(raft_core_t *r, const raft_msg_t *m) {
  switch (m->type) {
    case RAFT_MSG_APP_RESP:
      raft_replication_handle_append_resp(r, m);
      break;
    case RAFT_MSG_HEARTBEAT_RESP:
      raft_replication_handle_heartbeat_resp(r, m);
      break;
    case RAFT_MSG_READ_INDEX:
      raft_read_handle_request(r, m);
      break;
    default:
      break; /* §5.2 allows one leader per term: nothing else is expected at our term */
  }
  return 0;
}

static int s_step(raft_core_t *r, const raft_msg_t *m) {
  bool vote_request = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE;
  if (m->term > r->term) {
    if (vote_request && !m->transfer && raft_election_in_lease(r, m)) return 0;
    if (m->type == RAFT_MSG_PRE_VOTE) {
      /* Never change our term for a pre-vote (thesis §9.6). */
    } else if (m->type == RAFT_MSG_PRE_VOTE_RESP && !m->reject) {
      /* A granted pre-vote carries the term we will campaign in; adopted on a quorum. */
    } else {
      /* §5.1: "If one server's current term is smaller than the other's, then it updates its
       * current term to the larger value. If a candidate or leader discovers that its term is
       * out of date, it immediately reverts to follower state." */
      bool from_leader = m->type == RAFT_MSG_APP || m->type == RAFT_MSG_HEARTBEAT ||
                         m->type == RAFT_MSG_SNAP;
      /* Figure 2: a follower's election timer restarts when it hears the current leader or
       * grants a vote, not when a candidate merely raises its term. A vote request keeps our
       * timer running (raft_election_handle_vote restarts it if we grant): restarting it let
       * candidates that could never win (behind in the log) hold back, each round, the one
       * voter that could, until no leader came for 200 ticks (raft_sim_test, membership seed
       * 3066153: pre-vote off, four voters, two of them behind). */
      unsigned elapsed = r->election_elapsed, timeout = r->randomized_timeout;
      raft_become_follower(r, m->term, from_leader ? m->from : 0);
      if (m->type == RAFT_MSG_VOTE) {
        r->election_elapsed = elapsed;
        r->randomized_timeout = timeout;
      }
    }
  } else if (m->term < r->term) {
    /* §5.1: "If a server receives a request with a stale term number, it rejects the request."
     * A stale leader learns our term from the reply: with check-quorum or pre-vote we may never
     * send it a higher-term vote request, so without this it would lead its minority forever. */
    if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
        (m->type == RAFT_MSG_APP || m->type == RAFT_MSG_HEARTBEAT)) {
      raft_msg_t resp = {.type = RAFT_MSG_APP_RESP, .to = m->from};
      raft_send(r, &resp);
    } else if (m->type == RAFT_MSG_PRE_VOTE) {
      raft_msg_t resp = {.type = RAFT_MSG_PRE_VOTE_RESP, .to = m->from, .term = r->term,
                         .reject = true};
      raft_send(r, &resp);
    }
    return 0;
  }

  if (vote_request) {
    raft_election_handle_vote(r, m);
    return 0;
  }
  switch (r->role) {
    case RAFT_FOLLOWER:
      return s_step_follower(r, m);
    case RAFT_PRE_CANDIDATE:
    case RAFT_CANDIDATE:
      return s_step_candidate(r, m);
    case RAFT_LEADER:
      return s_step_leader(r, m);
  }
  return 0;
}

int raft_core_step(raft_core_t *r, const raft_msg_t *m) {
  if (r->fault[0]) return RV_ECORRUPT;
  int rc = s_msg_check(r, m);
  if (rc != 0) return rc;
  rc = s_step(r, m);
  raft_ready_collect_garbage(r);
  return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Tick. */

static void s_tick_election(raft_core_t *r) {
  r->election_elapsed++;
  /* §5.2: "If a follower receives no communication over a period of time called the election
   * timeout, then it assumes there is no viable leader and begins an election". */
  if (raft_is_promotable(r) && r->election_elapsed >= r->randomized_timeout) {
    r->election_elapsed = 0;
    raft_election_hup(r, r->cfg.pre_vote ? RAFT_CAMPAIGN_PRE_VOTE : RAFT_CAMPAIGN_ELECTION);
  }
}

static void s_tick_heartbeat(raft_core_t *r) {
  r->heartbeat_elapsed++;
  r->election_elapsed++;
  if (r->election_elapsed >= r->cfg.election_tick) {
    r->election_elapsed = 0;
    if (r->cfg.check_quorum && !raft_election_check_quorum(r)) return;
    /* thesis §3.10: "If the transfer does not complete within one election timeout, the
     * leader aborts the transfer and resumes accepting client requests." */
    if (r->transferee) raft_transfer_abort(r);
  }
  if (r->role != RAFT_LEADER) return;
  if (r->heartbeat_elapsed >= r->cfg.heartbeat_tick) {
    r->heartbeat_elapsed = 0;
    raft_replication_bcast_heartbeat(r);
  }
  raft_replication_tick_commit(r); /* a commit no message carried yet goes out now */
}

void raft_core_tick(raft_core_t *r) {
  if (r->fault[0]) return; /* a faulted node never campaigns nor leads */
  r->now++;
  if (r->role == RAFT_LEADER)
    s_tick_heartbeat(r);
  else
    s_tick_election(r);
  raft_ready_collect_garbage(r);
}

void raft_core_set_campaign(raft_core_t *r, bool allowed) { r->no_campaign = !allowed; }

int raft_core_campaign(raft_core_t *r) {
  if (r->fault[0]) return RV_ECORRUPT;
  if (r->role == RAFT_LEADER) return RV_EEXIST;
  if (!raft_is_promotable(r)) return RV_EINVAL;
  raft_election_hup(r, r->cfg.pre_vote ? RAFT_CAMPAIGN_PRE_VOTE : RAFT_CAMPAIGN_ELECTION);
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Inspection. */

void raft_core_status(const raft_core_t *r, raft_status_t *st) {
  memset(st, 0, sizeof *st);
  st->id = r->id;
  st->role = r->role;
  st->leader = r->leader;
  st->hard = (raft_hard_state_t){r->term, r->vote, r->log.committed};
  st->applied = r->log.applied;
  st->first_index = raft_log_first_index(&r->log);
  st->last_index = raft_log_last_index(&r->log);
  st->last_term = raft_log_last_term(&r->log);
  st->stable_index = r->log.stable;
  st->snapshot = r->log.snap;
  st->conf = r->conf;
  st->conf_index = r->conf_index;
  st->transferee = r->transferee;
  st->uncommitted_bytes = r->uncommitted_bytes;
  st->lease_valid = raft_read_lease_valid(r);
  st->reads_lease = r->reads_lease;
  st->reads_round = r->reads_round;
  st->bad_conf_entries = r->bad_conf_entries;
  st->fault = r->fault;
}

const char *raft_core_fault(const raft_core_t *r) { return r->fault; }

void raft_fault(raft_core_t *r, const char *fmt, ...) {
  if (r->fault[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->fault, sizeof r->fault, fmt, ap);
  va_end(ap);
  if (!r->fault[0]) snprintf(r->fault, sizeof r->fault, "fault");
  /* stop leading at once: a faulted leader must not go on replicating its log */
  if (r->role != RAFT_FOLLOWER) raft_become_follower(r, r->term, 0);
}

int raft_core_entry(const raft_core_t *r, raft_index_t index, raft_entry_t *out) {
  const raft_entry_t *e = raft_log_entry(&r->log, index);
  if (!e) return RV_ENOTFOUND;
  *out = *e;
  return 0;
}

int raft_core_term(const raft_core_t *r, raft_index_t index, raft_term_t *term) {
  return raft_log_term(&r->log, index, term);
}

const char *raft_msg_type_name(raft_msg_type_t t) {
  static const char *names[] = {
      [RAFT_MSG_PRE_VOTE] = "MsgPreVote",     [RAFT_MSG_PRE_VOTE_RESP] = "MsgPreVoteResp",
      [RAFT_MSG_VOTE] = "MsgVote",            [RAFT_MSG_VOTE_RESP] = "MsgVoteResp",
      [RAFT_MSG_APP] = "MsgApp",              [RAFT_MSG_APP_RESP] = "MsgAppResp",
      [RAFT_MSG_HEARTBEAT] = "MsgHeartbeat",  [RAFT_MSG_HEARTBEAT_RESP] = "MsgHeartbeatResp",
      [RAFT_MSG_SNAP] = "MsgSnap",            [RAFT_MSG_TIMEOUT_NOW] = "MsgTimeoutNow",
      [RAFT_MSG_READ_INDEX] = "MsgReadIndex", [RAFT_MSG_READ_INDEX_RESP] = "MsgReadIndexResp",
  };
  if (t < RAFT_MSG_PRE_VOTE || t > RAFT_MSG_TYPE_MAX) return "MsgUnknown";
  return names[t];
}

const char *raft_role_name(raft_role_t role) {
  switch (role) {
    case RAFT_FOLLOWER: return "follower";
    case RAFT_PRE_CANDIDATE: return "pre-candidate";
    case RAFT_CANDIDATE: return "candidate";
    case RAFT_LEADER: return "leader";
  }
  return "unknown";
}
