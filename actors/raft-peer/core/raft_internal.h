/* raft_internal: the node's state and the functions the core's files share. Private to
 * actors/raft-peer/core; the shell and tests see only raft_core.h. Pure (libc only).
 *
 * One file per concern: raft_core.c (construction, the term rules of Step, role conversion,
 * tick), raft_election.c, raft_replication.c, raft_log.c, raft_progress.c, raft_read.c,
 * raft_transfer.c, raft_membership.c, raft_snapshot.c, raft_ready.c (the update). */
#ifndef RAFT_INTERNAL_H
#define RAFT_INTERNAL_H

#include "raft_core.h"

/* ---------------------------------------------------------------------------------------------
 * The log (raft_log.c): the compaction point (the snapshot), every entry after it in memory, and
 * the indexes that say what is durable, committed and applied:
 *   snap.index <= applied <= committed, and stable <= last index.
 * Entry data is owned by the log. Entries dropped by truncation or compaction are not freed at
 * once: messages and the outstanding update may still point at their data, so the data goes to a
 * graveyard that raft_ready.c empties when no reference can remain. */
typedef struct {
  raft_snapshot_meta_t snap;  /* compaction point; index 0 = none (conf = the bootstrap) */
  raft_entry_t *ents;         /* ents[k].index == snap.index + 1 + k */
  size_t n, cap;
  raft_index_t stable;        /* entries <= stable are durable on this node */
  raft_index_t committed;     /* §5.3 commitIndex */
  raft_index_t applied;       /* the shell applied up to here (acknowledged by advance) */
  uint8_t **grave;            /* data of dropped entries, freed later (see above) */
  size_t n_grave, cap_grave;
  size_t n_grave_handed;      /* grave[0..n_grave_handed) predate the outstanding update */
} raft_log_t;

void raft_log_init(raft_log_t *log, const raft_snapshot_meta_t *snap);
void raft_log_close(raft_log_t *log);
raft_index_t raft_log_first_index(const raft_log_t *log);
raft_index_t raft_log_last_index(const raft_log_t *log);
raft_term_t raft_log_last_term(const raft_log_t *log);
/* 0 or RV_ENOTFOUND (compacted, or past the end). */
int raft_log_term(const raft_log_t *log, raft_index_t index, raft_term_t *term);
bool raft_log_match_term(const raft_log_t *log, raft_index_t index, raft_term_t term);
/* The entry at index, borrowed; NULL when compacted or past the end. */
raft_entry_t *raft_log_entry(const raft_log_t *log, raft_index_t index);
bool raft_log_is_up_to_date(const raft_log_t *log, raft_index_t last_index, raft_term_t last_term);
/* Appends copies of ents, first dropping every entry at index >= ents[0].index. ents[0].index
 * must be in (committed, last + 1]. Returns the lowest index that changed. */
raft_index_t raft_log_append(raft_log_t *log, const raft_entry_t *ents, size_t n);
/* Appends one entry at last + 1 whose data is a copy of data[len]. */
raft_index_t raft_log_append_new(raft_log_t *log, raft_term_t term, raft_entry_type_t type,
                                 const void *data, size_t len);
/* The first index where ents disagree with the log or go past its end; 0 if all are present. */
raft_index_t raft_log_find_conflict(const raft_log_t *log, const raft_entry_t *ents, size_t n);
/* The largest index <= index whose term is <= term, and that term (0 when unknown: compacted). */
void raft_log_find_conflict_by_term(const raft_log_t *log, raft_index_t index, raft_term_t term,
                                    raft_index_t *out_index, raft_term_t *out_term);
void raft_log_commit_to(raft_log_t *log, raft_index_t index);
/* Up to max_n entries from lo whose data fits max_bytes (at least one), borrowed from the log. */
size_t raft_log_slice(const raft_log_t *log, raft_index_t lo, size_t max_n, uint64_t max_bytes,
                      const raft_entry_t **out);
/* Replaces the whole log with a snapshot (§7 "discard the entire log"). */
void raft_log_restore(raft_log_t *log, const raft_snapshot_meta_t *snap);
/* Drops entries <= index (which must be <= applied and present); snap becomes the new point. */
void raft_log_compact(raft_log_t *log, const raft_snapshot_meta_t *snap);
/* The graveyard: see raft_ready.c. */
void raft_log_grave_release(raft_log_t *log, size_t n);
void raft_log_grave_free_all(raft_log_t *log);

/* ---------------------------------------------------------------------------------------------
 * Per-member replication trackers (raft_progress.c), etcd's tracker.Progress. */
typedef struct {
  raft_id_t id;
  bool learner;
  raft_index_t match;         /* highest index known replicated on the member */
  raft_index_t next;          /* next index to send */
  raft_progress_state_t state;
  bool paused;                /* probe: a probe is out; replicate: the window is full */
  raft_index_t pending_snapshot; /* snapshot state: the index being sent */
  bool recent_active;         /* heard from it since the last check-quorum */
  uint64_t read_ack;          /* highest heartbeat round it acknowledged this term */
  raft_index_t commit_sent;   /* the highest commit index a message told it (as it will apply
                                 it: a MsgApp's commit capped at its last entry, a heartbeat's
                                 at match): the tick sends what is left (lazy commit) */
  raft_index_t *inflight;     /* ring of the last index of each MsgApp in flight */
  size_t in_start, in_count, in_cap;
} raft_tracker_t;

void raft_tracker_become_probe(raft_tracker_t *pr);
void raft_tracker_become_replicate(raft_tracker_t *pr);
void raft_tracker_become_snapshot(raft_tracker_t *pr, raft_index_t index);
bool raft_tracker_maybe_update(raft_tracker_t *pr, raft_index_t n);
bool raft_tracker_maybe_decr_to(raft_tracker_t *pr, raft_index_t rejected, raft_index_t hint);
bool raft_tracker_is_paused(const raft_tracker_t *pr);
void raft_tracker_sent_entries(raft_tracker_t *pr, raft_index_t last, size_t n);
bool raft_tracker_inflight_full(const raft_tracker_t *pr);
void raft_tracker_inflight_free_le(raft_tracker_t *pr, raft_index_t index);

/* ---------------------------------------------------------------------------------------------
 * The node. */

typedef struct {
  raft_msg_t *v;
  size_t n, cap;
} raft_msgq_t;

/* A read waiting for its heartbeat round (or, round 0, for the first commit of the term). */
typedef struct {
  uint64_t ctx;
  raft_index_t index;
  raft_id_t from; /* who asked: this node or a follower */
  uint64_t round;
} raft_read_req_t;

typedef enum { RAFT_CAMPAIGN_PRE_VOTE, RAFT_CAMPAIGN_ELECTION, RAFT_CAMPAIGN_TRANSFER } raft_campaign_t;

typedef enum { RAFT_VOTE_NONE = 0, RAFT_VOTE_GRANTED, RAFT_VOTE_REJECTED } raft_vote_state_t;

struct raft_core {
  raft_config_t cfg;
  raft_id_t id;
  uint32_t unsafe; /* cfg.test_unsafe, only in the knobs build */

  /* Persistent state (§5 Figure 2), and the log. */
  raft_term_t term;
  raft_id_t vote;
  raft_log_t log;

  /* Set once, never cleared: this node stopped taking part (raft_core_fault). */
  char fault[192];
  bool no_campaign;          /* raft_core_set_campaign(false): no elections, no TimeoutNow */

  /* Volatile state. */
  raft_role_t role;
  raft_id_t leader;
  raft_conf_t conf;          /* in force: the latest configuration in the log (thesis §4.1) */
  raft_id_t leaving;         /* leader: a member the latest change removed, still sent entries
                                (counted nowhere) until that change commits, so that it learns
                                of its removal and stops campaigning; 0 = none */
  raft_index_t leaving_index;/* the conf entry that removed it */
  raft_index_t conf_index;   /* entry that defined conf; snap.index or 0 when not in the log */
  uint64_t bad_conf_entries;
  raft_tracker_t trk[RAFT_MAX_MEMBERS]; /* one per member (voters + learners), self included */
  size_t n_trk;
  raft_index_t *inflight_pool; /* RAFT_MAX_MEMBERS rings of cfg.max_inflight_msgs */
  raft_id_t vote_ids[RAFT_MAX_MEMBERS]; /* votes received in this election */
  raft_vote_state_t vote_states[RAFT_MAX_MEMBERS];
  size_t n_votes;

  /* Time, in ticks. */
  uint64_t now;                 /* ticks since this core was built */
  unsigned election_elapsed;
  unsigned heartbeat_elapsed;
  unsigned randomized_timeout;  /* [election_tick, election_tick_max) */
  uint64_t vote_lease_until;    /* refuse non-transfer votes until now reaches this (§4.2.3) */
  uint64_t vote_lease_until_us; /* ... and until clock_us reaches this (0 without a clock) */
  uint64_t rng;                 /* splitmix64 state */

  /* Leader state. */
  raft_id_t transferee;         /* leadership transfer target, 0 = none */
  bool lease_forbidden;         /* TimeoutNow sent this term: no lease reads any more */
  uint64_t uncommitted_bytes;
  raft_index_t pending_conf_index; /* a conf change may be proposed once applied >= this */

  /* ReadIndex (raft_read.c). */
  raft_read_req_t *reads;
  size_t n_reads, cap_reads;
  uint64_t read_round;          /* last heartbeat round broadcast in this term */
  uint64_t round_tick[RAFT_READ_ROUNDS]; /* now when round r was sent, at r % RAFT_READ_ROUNDS */
  uint64_t round_us[RAFT_READ_ROUNDS];   /* clock_us when round r was sent (0 without a clock) */
  uint64_t reads_lease, reads_round;     /* read indexes given by lease / after a round */
  bool lease_disallowed;                 /* the shell said no (raft_core_allow_lease) */
  uint64_t round_id[RAFT_READ_ROUNDS];
  raft_read_state_t *ready_reads;
  size_t n_ready_reads, cap_ready_reads;

  /* Output being gathered for the next update. */
  raft_msgq_t msgs;             /* may be sent before the update is durable */
  raft_msgq_t msgs_after;       /* must wait for the update to be durable */
  raft_hard_state_t prev_hard;  /* as last handed to the shell */
  raft_soft_state_t prev_soft;
  bool snapshot_pending;        /* log.snap came from a leader and is not yet handed out */
  raft_term_t durable_term;     /* term of the last hard state known durable */

  /* The outstanding update's storage, owned until advance. */
  bool outstanding;
  uint64_t update_seq;
  raft_msgq_t out_msgs, out_msgs_after;
  raft_entry_t *out_entries;
  size_t n_out_entries;
  raft_entry_t *out_committed;
  size_t n_out_committed;
  raft_read_state_t *out_reads;
  size_t n_out_reads;
  bool out_has_snapshot;
  raft_snapshot_meta_t out_snapshot;
};

/* Allocation that cannot fail (aborts the process instead; see raft_core.h). */
void *raft_xmalloc(size_t n);
void *raft_xrealloc(void *p, size_t n);

/* raft_core.c: role conversion and common checks. */
/* Stops this node for good (first reason kept): see raft_core_fault. */
void raft_fault(raft_core_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void raft_become_follower(raft_core_t *r, raft_term_t term, raft_id_t leader);
void raft_become_pre_candidate(raft_core_t *r);
void raft_become_candidate(raft_core_t *r);
void raft_become_leader(raft_core_t *r);
bool raft_is_promotable(const raft_core_t *r);
/* Real time from the configured clock (raft_config_t.clock_us), 0 without one. */
static inline uint64_t raft_clock_us(const raft_core_t *r) {
  return r->cfg.clock_us ? r->cfg.clock_us(r->cfg.clock_arg) : 0;
}
/* Leases also judged by the clock? (Only with lease_read and a clock; not under the test knob.) */
bool raft_lease_uses_clock(const raft_core_t *r);
/* When a vote lease that starts now ends on the clock: election_tick - 1 ticks of real time,
 * which a lease of election_tick ticks lasts at least when the ticks run on time (the next
 * tick may come at once), and one tick more than a leader trusts its own (raft_read.c). */
static inline uint64_t raft_vote_lease_end_us(const raft_core_t *r) {
  return raft_clock_us(r) + (uint64_t)(r->cfg.election_tick - 1) * r->cfg.tick_us;
}

/* raft_ready.c: queues m for sending (copies the struct; m->entries must be NULL: use
 * raft_send_entries). Fills from, and term for all but vote messages. */
void raft_send(raft_core_t *r, raft_msg_t *m);
/* As raft_send, with a borrowed slice of the log's entries (shallow: data stays the log's). */
void raft_send_entries(raft_core_t *r, raft_msg_t *m, const raft_entry_t *ents, size_t n);
void raft_msgq_free(raft_msgq_t *q);
/* Frees dropped entry data now if nothing can refer to it. */
void raft_ready_collect_garbage(raft_core_t *r);

/* raft_election.c */
void raft_election_hup(raft_core_t *r, raft_campaign_t t);
bool raft_election_in_lease(const raft_core_t *r, const raft_msg_t *m);
void raft_election_handle_vote(raft_core_t *r, const raft_msg_t *m);
void raft_election_handle_vote_resp(raft_core_t *r, const raft_msg_t *m);
/* Leader: §6.2 / thesis §6.2 check-quorum; returns false when the leader stepped down. */
bool raft_election_check_quorum(raft_core_t *r);

/* raft_replication.c */
bool raft_replication_send_append(raft_core_t *r, raft_tracker_t *pr, bool send_if_empty);
void raft_replication_bcast_append(raft_core_t *r);
void raft_replication_bcast_heartbeat(raft_core_t *r);
/* Leader: tells pr the commit index it can take (min(commit, match), etcd's heartbeat rule) in a
 * commit-only heartbeat (ctx 0, unanswered) if no message told it that much yet. */
void raft_replication_send_commit(raft_core_t *r, raft_tracker_t *pr, raft_index_t upto);
/* Leader, on each tick: raft_replication_send_commit to every follower (lazy commit). */
void raft_replication_tick_commit(raft_core_t *r);
void raft_replication_handle_append(raft_core_t *r, const raft_msg_t *m);
void raft_replication_handle_heartbeat(raft_core_t *r, const raft_msg_t *m);
void raft_replication_handle_append_resp(raft_core_t *r, const raft_msg_t *m);
void raft_replication_handle_heartbeat_resp(raft_core_t *r, const raft_msg_t *m);
/* Leader: commit what a quorum holds (§5.3, §5.4.2); returns true if the commit index moved. */
bool raft_replication_maybe_commit(raft_core_t *r);
/* Leader: appends one entry of the current term to the local log. */
raft_index_t raft_replication_append_local(raft_core_t *r, raft_entry_type_t type,
                                           const void *data, size_t len);

/* raft_progress.c */
raft_tracker_t *raft_progress_find(raft_core_t *r, raft_id_t id);
/* Rebuilds the tracker set after the configuration changed, keeping existing trackers. */
void raft_progress_sync(raft_core_t *r);
/* Every tracker back to probe at last + 1 (term change). */
void raft_progress_reset_all(raft_core_t *r);
/* The largest index a quorum of voters has (§5.3); uses self's durable match. */
raft_index_t raft_progress_quorum_match(const raft_core_t *r);
/* check-quorum: do a quorum of voters count as recently active? */
bool raft_progress_quorum_active(const raft_core_t *r);
/* The largest heartbeat round a quorum of voters acknowledged. */
uint64_t raft_progress_quorum_read_ack(const raft_core_t *r);

/* raft_membership.c */
size_t raft_membership_quorum(const raft_core_t *r);
/* The log changed from index on: recompute the configuration (thesis §4.1: the latest conf entry
 * in the log, committed or not). */
void raft_membership_log_changed(raft_core_t *r, raft_index_t from);
/* The configuration in force at index (for snapshots). */
void raft_membership_conf_at(const raft_core_t *r, raft_index_t index, raft_conf_t *out);
/* Leader: the commit index moved; step down once our own removal is committed. */
void raft_membership_committed(raft_core_t *r);
/* Leader: forgets the removed member (raft_core.leaving) once its removal is committed and it
 * holds that entry. May rebuild the trackers: no tracker pointer survives the call. */
void raft_membership_leaving_check(raft_core_t *r);
bool raft_conf_valid(const raft_conf_t *c);

/* raft_read.c */
void raft_read_handle_request(raft_core_t *r, const raft_msg_t *m);
void raft_read_handle_resp(raft_core_t *r, const raft_msg_t *m);
/* Leader: a heartbeat response acknowledged a round; release reads a quorum confirmed. */
void raft_read_acked(raft_core_t *r);
/* Leader: the commit index moved; the first commit of the term releases waiting reads. */
void raft_read_committed(raft_core_t *r);
/* Starts a new heartbeat round; returns its number. */
uint64_t raft_read_new_round(raft_core_t *r);
bool raft_read_lease_valid(const raft_core_t *r);
/* Drops every pending read (leadership lost or term changed). */
void raft_read_reset(raft_core_t *r);

/* raft_transfer.c */
void raft_transfer_abort(raft_core_t *r);
/* Leader: pr made progress; send TimeoutNow if it is the caught-up transferee. */
void raft_transfer_progressed(raft_core_t *r, raft_tracker_t *pr);
void raft_transfer_handle_timeout_now(raft_core_t *r, const raft_msg_t *m);

/* raft_snapshot.c */
/* Leader: pr needs entries that were compacted: send the snapshot (if pr is active). */
bool raft_snapshot_send(raft_core_t *r, raft_tracker_t *pr);
void raft_snapshot_handle(raft_core_t *r, const raft_msg_t *m);

#endif
