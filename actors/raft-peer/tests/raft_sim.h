/* raft_sim: a deterministic simulation of a raft-peer cluster, for the sim tests.
 *
 * One run is a pure function of (options, seed). It builds 3 or 5 cores, and for each node a
 * model of the shell that honours the core's contract: send update.msgs at once, persist after an
 * fsync delay, then send msgs_after_persist, apply, advance; a crash loses everything not yet
 * persisted and the node restarts from its durable state. Between them a virtual network with
 * delays (and long delays, so reordering), loss, duplication and partitions of many shapes:
 * random splits, one node or the leader isolated, bridges, one-way links, and the 5-node ring in
 * which every node sees a majority but no two see the same one. Clients propose, read (ReadIndex
 * and leases), transfer leadership, compact logs (so snapshots stream), and change membership
 * (learners join, get promoted, voters are removed and decommissioned). Nodes are paused
 * (SIGSTOP): their ticks stall while virtual time, which is also the cores' clock (clock_us),
 * runs on; on resume they handle what arrived and the ticks they owe, in a drawn order.
 *
 * After every event the harness checks:
 *   - election safety: at most one leader per term, over every (term, leader) ever seen;
 *   - log matching: an (index, term) pair always names the same entry with the same
 *     predecessor term, on every node and every update (so equal pairs mean equal prefixes);
 *   - leader completeness: an entry committed in term t is in the log of every leader of a
 *     later term;
 *   - state machine safety: no two nodes apply different entries at one index; each applies a
 *     contiguous sequence, and an installed snapshot equals the applied state at its index;
 *   - the commit index of a node never decreases between crashes;
 *   - reads: a served read index is at least every commit index observed when it was asked;
 *   - leases: while a leader's lease holds, no leader of a later term exists;
 *   - liveness: after the chaos phase the network heals and quiets; a leader must then emerge
 *     and commit a proposal within liveness_bound ticks.
 * A violation stops the run, with a description and the recent trace. */
#ifndef RAFT_SIM_H
#define RAFT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_SIM_MAX_NODES 8

typedef struct {
  size_t voters;            /* initial voters: 3 or 5 */
  size_t spares;            /* nodes that may join by membership changes (0 = none) */
  unsigned chaos_ticks;     /* ticks of faults before the quiet period */
  unsigned liveness_bound;  /* ticks after healing to elect and commit */
  unsigned loss_pct;        /* message loss during chaos */
  unsigned dup_pct;         /* duplication during chaos */
  unsigned long_delay_pct;  /* messages delayed by up to 30 ticks (reordering) */
  unsigned crash_pct;       /* per tick, chance that some node crashes */
  unsigned max_msg_entries; /* 0 = random per run */
  bool partitions, transfers, snapshots, reads, membership;
  bool pauses;              /* SIGSTOP of a node (often the leader) for up to 30 ticks */
  uint32_t unsafe;          /* RAFT_UNSAFE_* (needs the raft_core_knobs library) */
  bool trace;               /* print every event to stderr */
  bool silent;              /* do not print the trace of a violation */
} raft_sim_opts_t;

/* Everything on, 3 or 5 voters, 500 chaos ticks. */
void raft_sim_opts_default(raft_sim_opts_t *o, size_t voters);

typedef struct {
  bool violated;
  char what[512];          /* the violated property and its witnesses */
  unsigned leader_ticks;   /* ticks from healing to a leader */
  unsigned liveness_ticks; /* ticks from healing to the probe's commit */
  /* what happened, for the test's summary */
  uint64_t events, elections, commits, crashes, pauses, snapshots_installed, reads_served,
      transfers, conf_changes, max_term;
} raft_sim_result_t;

/* Runs one schedule. Returns 0, or -1 on a violation (res->what says which; the last events are
 * printed to stderr). */
int raft_sim_run(const raft_sim_opts_t *o, uint64_t seed, raft_sim_result_t *res);

#endif
