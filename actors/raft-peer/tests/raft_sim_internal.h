/* raft_sim_internal: what the simulation's three files share: raft_sim.c (events, network, the
 * shell model), raft_sim_check.c (the invariants), raft_sim_nemesis.c (clients and faults).
 * Test-only. */
#ifndef RAFT_SIM_INTERNAL_H
#define RAFT_SIM_INTERNAL_H

#include "raft_core.h"
#include "raft_sim.h"

#define SIM_TICK 10       /* virtual time units per tick */
#define SIM_TRACE 256     /* events kept for the failure report */
#define SIM_INCOMING 4    /* received snapshots a shell keeps */

typedef struct {
  raft_entry_t *v;
  size_t n, cap;
} sim_ents_t;

/* A snapshot's data: the state machine (a running hash) at index. */
typedef struct {
  raft_index_t index;
  uint64_t hash;
} sim_snapdata_t;

typedef struct {
  raft_id_t id;
  raft_config_t cfg;
  unsigned phase;            /* the node's tick phase within a tick */
  bool exists;               /* started at least once (spares start when added) */
  bool alive;
  bool decommissioned;       /* removed from the cluster and stopped for good */
  bool decommission_scheduled;
  uint64_t paused_until;     /* SIGSTOP: handles nothing before this time (0 = running) */
  uint64_t inc;              /* incarnation: events of an older one are ignored */
  raft_core_t *r;
  /* What the node made durable. */
  raft_hard_state_t hard;
  raft_snapshot_meta_t snap;
  uint64_t snap_hash;
  sim_ents_t log;            /* entries after snap.index */
  raft_index_t sm_applied;   /* the state machine is durable, like RocksDB */
  uint64_t sm_hash;
  /* The shell. */
  bool persisting;
  raft_update_t u;
  sim_snapdata_t incoming[SIM_INCOMING]; /* snapshots received, until installed */
  size_t n_incoming;
  sim_snapdata_t kept[SIM_INCOMING];     /* own recent snapshots, for MsgSnap in flight */
  size_t n_kept;
  /* Checks. */
  raft_index_t last_commit;
  raft_index_t checked_commit;
  raft_term_t leader_checked_term;
} sim_node_t;

typedef struct {
  raft_msg_t m;       /* deep copy */
  uint64_t from_inc;
  uint64_t snap_hash; /* MsgSnap: the data streamed with it */
} sim_msg_t;

typedef enum {
  SIM_EV_TICK,
  SIM_EV_TICK_OWED, /* a tick a pause delayed: runs once, after the pause (zloop catches up) */
  SIM_EV_DELIVER,
  SIM_EV_PERSIST,
  SIM_EV_SNAP_REPORT,
  SIM_EV_RESTART,
  SIM_EV_DECOMMISSION,
  SIM_EV_NEMESIS,
  SIM_EV_CRASH,
} sim_ev_type_t;

typedef struct {
  uint64_t time, seq;
  sim_ev_type_t type;
  int node;
  uint64_t inc;
  size_t msg;
  int peer;
  bool ok;
} sim_ev_t;

typedef enum {
  SIM_TR_RECV, SIM_TR_DROP, SIM_TR_START, SIM_TR_CRASH, SIM_TR_DECOMMISSION, SIM_TR_INSTALL,
  SIM_TR_ROLE, SIM_TR_COMMIT, SIM_TR_PROPOSE, SIM_TR_PARTITION, SIM_TR_TRANSFER, SIM_TR_CONF,
  SIM_TR_COMPACT, SIM_TR_READ, SIM_TR_HEAL, SIM_TR_PAUSE,
} sim_trace_kind_t;

typedef struct {
  uint64_t time;
  sim_trace_kind_t kind;
  int node, peer;
  uint64_t a, b, c;
  uint64_t d, e; /* role: last term, voters (bit per id); recv/drop: reject, log term */
} sim_trace_t;

typedef struct {
  uint64_t ctx;
  raft_index_t min_index;
  int node;
} sim_read_t;

/* Log matching: (index, term) -> the entry's data hash and its predecessor's term. */
typedef struct {
  raft_index_t index;
  raft_term_t term;
  uint64_t data_hash;
  raft_term_t prev_term; /* 0 = unknown */
  bool used;
} sim_pair_t;

typedef struct {
  const raft_sim_opts_t *o;
  raft_sim_result_t *res;
  uint64_t seed, rng;
  uint64_t now, seq;
  sim_ev_t *heap;
  size_t n_heap, cap_heap;
  sim_msg_t *msgs;
  size_t n_msgs, cap_msgs;
  size_t *free_msgs;
  size_t n_free_msgs, cap_free_msgs;
  sim_node_t nodes[RAFT_SIM_MAX_NODES + 1]; /* ids 1..n_nodes */
  size_t n_nodes;
  bool conn[RAFT_SIM_MAX_NODES + 1][RAFT_SIM_MAX_NODES + 1]; /* conn[a][b]: a can reach b */
  bool quiet;       /* after healing: no faults */
  unsigned partition_max; /* longest partition or healed spell, in ticks (drawn per run) */
  unsigned leader_kill_pct; /* chance that a new leader crashes within 4 ticks (per run) */
  bool partitioned;
  uint64_t partition_until; /* when the current spell ends */
  uint64_t heal_time;
  /* Clients. */
  uint64_t next_data, next_ctx;
  raft_id_t client_leader; /* where clients send proposals until told otherwise */
  sim_read_t *reads;
  size_t n_reads, cap_reads;
  /* Liveness. */
  bool live_pending, live_done, live_leader_seen;
  uint64_t live_deadline;
  uint64_t live_done_time;
  sim_node_t *live_node;
  raft_index_t live_index;
  raft_term_t live_term;
  /* Checks (raft_sim_check.c). */
  raft_id_t *term_leader;       /* term -> leader seen */
  size_t cap_term_leader;
  raft_term_t *commit_term;     /* index -> term of the committed entry */
  raft_term_t *commit_in_term;  /* index -> term in which it was first seen committed */
  uint64_t *applied_hash;       /* index -> state machine hash after applying it */
  size_t cap_commit, cap_applied;
  raft_index_t max_commit;
  sim_pair_t *pairs;
  size_t cap_pairs, n_pairs;
  raft_role_t roles[RAFT_SIM_MAX_NODES + 1]; /* for the trace */
  /* Trace. */
  sim_trace_t trace[SIM_TRACE];
  size_t trace_pos;
} sim_t;

/* raft_sim.c */
uint64_t sim_rand(sim_t *s);
uint64_t sim_range(sim_t *s, uint64_t lo, uint64_t hi);
bool sim_pct(sim_t *s, unsigned pct);
void *sim_grow(void *p, size_t *cap, size_t need, size_t size);
void sim_trace(sim_t *s, sim_trace_kind_t kind, int node, int peer, uint64_t a, uint64_t b,
               uint64_t c);
void sim_trace_more(sim_t *s, sim_trace_kind_t kind, int node, int peer, uint64_t a, uint64_t b,
                    uint64_t c, uint64_t d, uint64_t e);
void sim_fail(sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_ents_drop_front(sim_ents_t *l, size_t n);
void sim_keep_snapshot(sim_node_t *nd, raft_index_t index, uint64_t hash);
void sim_crash(sim_t *s, sim_node_t *nd);
/* A new leader was seen: the nemesis may kill it soon (Figure 8 needs short-lived leaders). */
void sim_new_leader(sim_t *s, sim_node_t *nd);
void sim_start_spare(sim_t *s, sim_node_t *nd);
void sim_restart(sim_t *s, sim_node_t *nd);
void sim_after_input(sim_t *s, sim_node_t *nd);
/* Alive and not paused: a client or operator may call into its core now. */
bool sim_running(const sim_t *s, const sim_node_t *nd);
/* SIGSTOP for ticks ticks: the node handles nothing until then; what arrives meanwhile (and
 * the ticks it owes) is handled after, in an order drawn from the seed. */
void sim_pause(sim_t *s, sim_node_t *nd, unsigned ticks);

/* raft_sim_check.c */
uint64_t sim_hash_apply(uint64_t h, const raft_entry_t *e);
void sim_observe(sim_t *s, sim_node_t *nd);
void sim_check_update(sim_t *s, sim_node_t *nd, const raft_update_t *u);
void sim_check_applied(sim_t *s, sim_node_t *nd, raft_index_t index, uint64_t hash);
void sim_check_snapshot(sim_t *s, sim_node_t *nd, const sim_snapdata_t *d);
void sim_read_issued(sim_t *s, sim_node_t *nd, uint64_t ctx);
void sim_check_read(sim_t *s, sim_node_t *nd, const raft_read_state_t *rs);
void sim_check_close(sim_t *s);
void sim_trace_print(const sim_trace_t *t);

/* raft_sim_nemesis.c */
void sim_nemesis(sim_t *s);

#endif
