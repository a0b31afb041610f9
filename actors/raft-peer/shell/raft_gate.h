/* raft_gate: what may reach the Raft core from the network, decided before it does (pure: no
 * I/O, no clock; raft_peer.c carries out the verdicts and raft_incarnation.c persists the table).
 *
 * Two gates, in this order, for every Raft message of a frame from a configured node:
 *
 * 1. Membership. A message from an id outside the voters and learners of the configuration in
 *    force is dropped, except what a membership change needs: leader-to-follower traffic
 *    (MsgApp, MsgHeartbeat, MsgSnap) reaching a node that is not leading, because a follower
 *    whose configuration lags behind the leader's must hear a leader its log does not name yet
 *    (thesis §4.1: servers process requests without consulting their configuration). Votes,
 *    vote requests, responses, TimeoutNow and ReadIndex traffic from a non-member never reach
 *    the core: a removed node cannot depose a leader with a higher term or give a vote.
 *
 * 2. Incarnation. Every node creates a random 64-bit incarnation id together with its Raft
 *    data-dir and carries it in every Raft frame. Each node remembers, durably, the incarnation
 *    of every member it has heard from (first seen wins), and the leader passes the table it
 *    knows to its followers on every batch, so that a member's incarnation is known to all
 *    before its data-dir can be lost. A member presenting another incarnation than the one
 *    remembered lost its data-dir (its term, its vote, its log): it is a stranger, and all its
 *    messages are dropped before the core, until it is removed from the configuration (which
 *    forgets its incarnation) and added again (`raftvisor raft rejoin NODE`). Without this, a
 *    node restarted with an empty data-dir during an election could vote a second time in the
 *    term it already voted in (Raft's safety rests on a vote being durable).
 *    Incarnation 0 is a peer of a build that had none: accepted, never recorded.
 *
 * The table holds at most RAFT_MAX_MEMBERS entries; its order is insertion order. */
#ifndef RAFT_GATE_H
#define RAFT_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "raft_core.h"

typedef enum {
  RAFT_GATE_PASS = 0,      /* step it into the core */
  RAFT_GATE_NOT_MEMBER,    /* the sender is not a voter or learner: dropped, counted */
  RAFT_GATE_STRANGER,      /* the sender presents a new incarnation: dropped, counted */
} raft_gate_verdict_t;

/* The incarnations remembered, by Raft id. A value; zero-initialised is empty. */
typedef struct {
  size_t n;
  raft_id_t ids[RAFT_MAX_MEMBERS];
  uint64_t incs[RAFT_MAX_MEMBERS];
} raft_gate_table_t;

/* Gate 1: may message type `type` from `from` reach the core of node `self`, whose configuration
 * in force is conf and whose role is role? */
bool raft_gate_member_ok(const raft_conf_t *conf, raft_id_t self, raft_role_t role,
                         raft_id_t from, raft_msg_type_t type);

/* The incarnation remembered for id, or 0 when none is. */
uint64_t raft_gate_known(const raft_gate_table_t *t, raft_id_t id);

/* Gate 2 for a frame from member `from` presenting incarnation inc: PASS when inc is 0 (an older
 * build) or is the one remembered, or when none is remembered (then *learn is set: the caller
 * records it durably with raft_gate_learn before stepping anything); STRANGER otherwise. */
raft_gate_verdict_t raft_gate_incarnation(const raft_gate_table_t *t, raft_id_t from,
                                          uint64_t inc, bool *learn);

/* Records inc for id when none is remembered (first seen wins; inc 0 is never recorded).
 * Returns true when the table changed (the caller persists it). */
bool raft_gate_learn(raft_gate_table_t *t, raft_id_t id, uint64_t inc);

/* Forgets every id that is neither a voter nor a learner of conf (a removed member: when it is
 * added again, its incarnation then is the one remembered). Returns true when the table
 * changed. */
bool raft_gate_forget_non_members(raft_gate_table_t *t, const raft_conf_t *conf);

/* How far above our own term a message's term may be. Real terms grow by one per election, so
 * a member this far ahead would have run four billion elections while we were away. Without a
 * bound, one message from a member (or anyone holding its key) at a term near RAFT_TERM_MAX was
 * adopted, and the next election found no higher term to use: the node stopped for good (found
 * by rv-fuzz --member). With it, a key holder needs 2^31 messages, each adopted, to get there. */
#define RAFT_GATE_TERM_JUMP_MAX (UINT64_C(1) << 32)

/* Gate 0, before the others: may a message at term msg_term reach a core at term ours? False
 * when msg_term is more than RAFT_GATE_TERM_JUMP_MAX above ours (dropped, counted malformed). */
bool raft_gate_term_ok(uint64_t ours, uint64_t msg_term);

/* A short name for a verdict ("pass", "not-member", "stranger"), for logs. */
const char *raft_gate_verdict_name(raft_gate_verdict_t v);

#endif
