/* raft_peer_int: the raft-peer actor's state and the functions its files share (raft_peer.c:
 * life cycle, the update cycle, kv-store delivery; raft_snap_stream.c: snapshot streaming, both
 * as leader and as follower). Not an API: only the actor's own files include it. */
#ifndef RAFT_PEER_INT_H
#define RAFT_PEER_INT_H

#include "raft_core.h"
#include "raft_gate.h"
#include "raft_peer.h"
#include "raft_snap_flow.h"
#include "raft_store.h"
#include "rv_hist.h"
#include "rv_peers.h"


#define RAFT_SNAP_WINDOW (4u << 20)   /* snapshot bytes in flight to one follower */
#define RAFT_SNAP_TIMEOUT_MS 10000    /* a stream that has not moved this long has failed */
#define RAFT_ADMIN_TRANSFER_MS 10000  /* a transfer not complete by then is answered as timed out
                                         (below the supervisor's 15 s relay timeout) */

/* A snapshot this node (as leader) streams to one follower. */
typedef struct {
  bool active;
  raft_snap_send_t flow;
  raft_snapshot_meta_t meta; /* the core's MsgSnap: what the follower steps at the end */
  raft_term_t term;
  uint64_t applied;          /* kv-store's applied index of the data, once known */
} raft_snap_out_t;

/* A snapshot this node (as follower) receives. */
typedef struct {
  raft_snap_recv_t flow;
  int node;                  /* the sender's node index */
  raft_snapshot_meta_t meta;
  raft_term_t term;
  uint64_t applied;
} raft_snap_in_t;

/* The `raftvisor raft` request waiting for its membership change to commit (raft_admin.c). */
typedef struct {
  bool active;
  uint64_t corr;             /* the requester's correlation id, echoed in the Reply */
  char to[CFG_ID_MAX + 1];   /* the requester (supervisor, or kv-store for haadmin) */
  raft_index_t index;        /* where the change was proposed ... */
  raft_term_t term;          /* ... and in which term: it committed iff applied with this term */
  char what[96];             /* "promote n4", for the answer */
} raft_admin_pending_t;

/* The `raftvisor raft transfer` (or HA admin) request waiting for the transfer to complete. */
typedef struct {
  bool active;
  uint64_t corr;             /* the requester's correlation id */
  char to[CFG_ID_MAX + 1];   /* the requester (supervisor, or kv-store for haadmin) */
  raft_id_t target;
  raft_term_t term;          /* our term when it started: the target leads in a later one */
  int64_t deadline_ms;       /* answered as timed out past this (monotonic) */
} raft_admin_transfer_t;

/* Health-driven leadership (raft_ha.c): ha.automatic-failover and ha.preferred-leader. */
typedef struct {
  bool fit;                  /* the health-monitor's last can_lead (true before any report) */
  int64_t report_ms;         /* when it came (monotonic), 0 = never */
  int64_t unfit_since_ms;    /* 0 while fit */
  char reason[256];          /* the verdict's reason when unfit */
  int64_t next_try_ms;       /* the next automatic handover attempt */
  raft_id_t last_target;     /* the last automatic handover's target (tried last next time) */
  int64_t preferred_next_ms; /* the next attempt to move leadership to the preferred node */
  int preferred_backoff_ms;
  char cannot_persist[256];  /* the last report's HealthReport.cannot_persist ("" = can) */
  bool persist_failing;      /* this node cannot persist (the report, or its own log saves) */
  int64_t persist_since_ms;  /* since when, while persist_failing */
  bool campaign;             /* what raft_core_set_campaign was last told */
} raft_ha_t;

/* Fencing the previous leader before a new leader takes writes (raft_fence.c). */
typedef struct {
  raft_id_t last_leader;     /* the last other node this one followed */
  raft_id_t handover_from;   /* TimeoutNow came from it ... */
  uint64_t handover_term;    /* ... in this term (a handover, not a departure) */
  bool pending;              /* leader, and the previous leader is not fenced yet */
  raft_id_t target;
  uint64_t term;             /* the term this node leads in */
  bool in_flight;            /* a FenceRequest waits for its FenceResult */
  uint64_t corr;
  int attempts;
  int64_t next_try_ms;
  char text[384];            /* RaftState.fence */
} raft_fence_t;

/* The gates in front of the core (raft_gate.h, raft_peer_gate.c). */
typedef struct {
  char dir[CFG_PATH_MAX + 8];    /* <data-dir>/raft, where the incarnation files live */
  uint64_t incarnation;          /* this node's, sent in every frame */
  raft_gate_table_t known;       /* the members' incarnations remembered (durable) */
  uint64_t stranger[CFG_MAX_NODES]; /* by node index: the new incarnation it presents, 0 = none */
  uint64_t dropped_not_member;   /* Raft messages from outside the voters and learners */
  uint64_t dropped_stranger;     /* frames from strangers */
  uint64_t dropped_malformed;    /* Raft messages refused at decoding */
  uint64_t not_member_logged_ms; /* rate limit of the not-member warning */
  uint64_t malformed_logged_ms;  /* rate limit of the malformed warning */
} raft_peer_gate_t;

struct raft_peer {
  rv_actor_t *a;
  const cfg_node_t *cfg;
  raft_core_t *core;
  raft_store_t *store;
  rv_peers_t *peers;
  raft_id_t ids[CFG_MAX_NODES];  /* Raft id of each configured node */
  raft_id_t self;

  bool pending;                  /* an update is taken but not yet advanced */
  raft_update_t update;
  bool persisted;                /* ... and its write already succeeded */
  char store_error[RV_ERR_MSG_MAX + 32]; /* the last write failure, "" when writes succeed */

  bool kv_attached;              /* kv-store said ApplyFrom since we started */
  uint32_t kv_level;             /* this node's feature level, as its kv-store said it
                                    (ApplyFrom.feature_level; 0 = not yet): sent in every frame */
  uint32_t peer_level[CFG_MAX_NODES]; /* by node index: the level its last frame said (an older
                                    build, which says none, is 1); 0 = not heard from since
                                    this raft-peer started, or not said yet. Kept while the node
                                    is silent: the last word of a stopped node stands */
  bool peer_clock_leases[CFG_MAX_NODES]; /* by node index: its last frame said clock_leases */
  char lease_wait[128];          /* "" or why lease reads are not allowed now (raft_lease.c) */
  bool lease_logged;             /* ... and that reason was logged */
  bool has_health_monitor;       /* health-monitor is one of the node's actors: it gets RaftState */
  bool has_replicator;           /* ots-replicator is too: it uploads only while leader */
  uint64_t last_save_us;         /* how long the last persist (write + fdatasync) took ... */
  uint64_t last_save_at_us;      /* ... and when it ended: slow counts for RV_SLOW_IO_MEMORY_US */
  raft_ha_t ha;                  /* health-driven leadership (raft_ha.c) */
  raft_fence_t fence;            /* fencing the previous leader (raft_fence.c) */
  raft_index_t kv_next;          /* next committed index to send to kv-store */
  raft_index_t kv_applied;       /* what kv-store reports durable */
  raft_index_t kv_taken;         /* what kv-store reports taken in: at most S_APPLY_WINDOW
                                    entries beyond it are in flight to it */
  raft_index_t deliverable;      /* committed and handed out by the core */
  raft_index_t read_wait;        /* the highest read index handed to kv-store: entries up to it
                                    go to kv-store at once, a read waits for them */
  uint64_t delivered_at_us;      /* the last tick at which a follower held nothing back from
                                    kv-store or handed over what it held (s_deliver_at_tick) */
  Rv__ProposeOutcome *outcomes;  /* accepted proposals of kv-store whose outcome (index, term)
                                    has not gone out yet: it rides on the next ApplyBatch, or
                                    goes alone (ProposeResult) at the next tick (issue 11) */
  Rv__ProposeOutcome **outcome_ptrs; /* the message's view of them, as many slots as outcomes */
  size_t n_outcomes, cap_outcomes;

  raft_soft_state_t soft;
  raft_term_t term;
  uint64_t published_seq;        /* RaftState publications, for logs */
  unsigned ticks;                /* ticks since start, to publish the state periodically */
  raft_snap_out_t snap_out[CFG_MAX_NODES]; /* by node index */
  raft_snap_in_t snap_in;
  uint64_t snap_next_id;         /* stream ids: random at start (getrandom), then counting */
  uint64_t snap_refused;         /* snapshot chunks or installs Raft refused (not the leader we
                                    follow, stale term, nothing new) */
  uint64_t proposals, proposals_failed; /* since start, for /metrics */
  rv_hist_t log_saves;           /* durations of raft_store_save that persisted something */
  uint64_t log_saved_entries;    /* entries those saves wrote */
  uint64_t snaps_sent, snaps_installed;
  bool peer_lost[CFG_MAX_NODES]; /* as leader: "peer lost" was logged for the node */
  raft_admin_pending_t admin;    /* a membership change waiting to commit */
  raft_admin_transfer_t xfer;    /* a leadership transfer waiting to complete */
  bool removed_logged;           /* "removed from the configuration" was logged */
  bool fault_logged;             /* the core's fault (raft_core_fault) was logged */
  raft_peer_gate_t gate;         /* what may reach the core (raft_peer_gate.c) */
};

/* ---- raft_peer.c ------------------------------------------------------------------------- */
/* The index of the configured node with Raft id id, or -1; its name, or "". */
int raft_peer_node_of(const raft_peer_t *p, raft_id_t id);
const char *raft_peer_node_name(const raft_peer_t *p, raft_id_t id);
/* Takes the core's updates and carries them out (persist, send, deliver, advance). */
void raft_peer_process(raft_peer_t *p);

/* ---- raft_peer_gate.c -------------------------------------------------------------------- */
/* Reads (creating it on a new data-dir) this node's incarnation and the members' ones in dir. */
int raft_peer_gate_init(raft_peer_t *p, const char *dir, rv_err_t *err);
/* A frame from node presenting incarnation inc: true to take it; false when node is a stranger
 * (counted, logged once per incarnation) or when recording its first incarnation failed. */
bool raft_peer_gate_frame(raft_peer_t *p, int node, uint64_t inc);
/* A Raft message of this type from node: true to step it; false when node is not a member
 * (counted, logged at most once a second). */
bool raft_peer_gate_msg(raft_peer_t *p, int node, raft_msg_type_t type);
/* After stepping a batch from node: when node is the leader this node follows, records the
 * incarnations it passed (b->known) that this node does not remember yet. */
void raft_peer_gate_merge_known(raft_peer_t *p, int node, const Rv__RaftBatch *b);
/* As leader: fills arr/ptrs (RAFT_MAX_MEMBERS each) with the remembered incarnations; returns
 * how many (0 when not leading). */
size_t raft_peer_gate_known_fill(raft_peer_t *p, Rv__MemberIncarnation *arr,
                                 Rv__MemberIncarnation **ptrs);
/* The update's committed entries (borrowed): a member's removal forgets its incarnation (in log
 * order, so that an add that follows records the new one). */
void raft_peer_gate_committed(raft_peer_t *p, const raft_entry_t *ents, size_t n);
/* Every tick: forgets (durably) the incarnations of nodes no longer in the configuration (a
 * removal this node learnt from a snapshot rather than from its entry). */
void raft_peer_gate_tick(raft_peer_t *p);

/* raft_lease.c: whether the leader may serve lease reads: only while every other voter's last
 * frame said its vote leases run on the clock (RaftBatch.clock_leases). Called at every tick
 * and on every frame; says so to the core (raft_core_allow_lease) and keeps the reason in
 * p->lease_wait. raft_lease_says: what this node says in its frames. */
void raft_lease_update(raft_peer_t *p);
bool raft_lease_says(void);

/* ---- raft_snap_stream.c ------------------------------------------------------------------ */
/* Leader: the core emitted MsgSnap m for node: start streaming (unless that stream runs). */
void raft_snap_stream_send(raft_peer_t *p, int node, const raft_msg_t *m);
/* Leader: kv-store's chunk of a stream (SnapshotData). */
void raft_snap_stream_kv_data(raft_peer_t *p, const Rv__SnapshotData *d);
/* Leader: a follower's SnapshotAck, received from node. */
void raft_snap_stream_ack(raft_peer_t *p, int node, const Rv__SnapshotAck *a);
/* Follower: a SnapshotChunk received from node. */
void raft_snap_stream_chunk(raft_peer_t *p, int node, const Rv__SnapshotChunk *c);
/* Follower: kv-store built and synced an install (SnapshotPrepared): checks again with the core
 * that the snapshot may be taken and answers SnapshotDecision (commit, or abandon). */
void raft_snap_stream_kv_prepared(raft_peer_t *p, const Rv__SnapshotPrepared *r);
/* Follower: kv-store's outcome of an install (SnapshotInstalled). */
void raft_snap_stream_kv_installed(raft_peer_t *p, const Rv__SnapshotInstalled *r);
/* Every tick: fails streams that stalled or that this node no longer leads. */
void raft_snap_stream_tick(raft_peer_t *p);

/* ---- raft_admin.c ------------------------------------------------------------------------ */
/* A RaftAdmin request from the supervisor (m borrowed): checks the node name, proposes the
 * change or starts the transfer, and answers the supervisor with a Reply under m's correlation
 * id: at once for a refusal or a transfer, once the entry is applied for a change. */
void raft_admin_request(raft_peer_t *p, const rv_msg_t *m);
/* The update's committed entries (borrowed): answers the waiting change if its index is among
 * them (success iff the entry there has the proposed term). */
void raft_admin_committed(raft_peer_t *p, const raft_entry_t *ents, size_t n);
/* This node stopped leading: the waiting change, if any, is answered as unknown outcome. */
void raft_admin_role_lost(raft_peer_t *p);
/* Every tick: answers a waiting transfer once the target leads (this node follows it in a later
 * term), or when it failed (the core aborted it, another node leads, or it timed out). */
void raft_admin_tick(raft_peer_t *p);

/* ---- raft_fence.c ------------------------------------------------------------------------ */
/* A TimeoutNow from `from` in `term` (a leadership handover, not a departure). */
void raft_fence_timeout_now(raft_peer_t *p, raft_id_t from, uint64_t term);
/* The soft state changes from old to p->soft (p->term current): tracks the leader followed, and
 * on becoming leader after a leader that left without handing over, with ha.fencing.methods
 * configured, starts fencing it: kv-store takes no writes until a method succeeded. */
void raft_fence_role_changed(raft_peer_t *p, raft_soft_state_t old);
/* The fencer's FenceResult (m borrowed). */
void raft_fence_result(raft_peer_t *p, const rv_msg_t *m);
/* Every tick: sends the FenceRequest when due (first at once, then with backoff). */
void raft_fence_tick(raft_peer_t *p);

/* ---- raft_ha.c --------------------------------------------------------------------------- */
/* A HealthReport from the health-monitor: with ha.automatic-failover, an unfit node may not
 * campaign (raft_core_set_campaign); whatever the configuration, neither may a node that cannot
 * persist (HealthReport.cannot_persist, or its own Raft log saves failing). */
void raft_ha_health(raft_peer_t *p, const Rv__HealthReport *r);
/* Every tick: a leader that cannot persist (always) or is unfit (with ha.automatic-failover,
 * for ha.unhealthy-grace-ms) hands leadership to the most caught-up active voter; a leader
 * other than ha.preferred-leader hands it to the preferred node once that one is caught up;
 * stale reports (the health-monitor stopped) count as fit and able to persist. */
void raft_ha_tick(raft_peer_t *p);

#endif
