/* raft_core: the pure Raft protocol core of raft-peer (one Raft group, one node).
 *
 * The core is a state machine in the style of etcd's raft and cowsql/raft: messages, ticks and
 * client requests go in; an update comes out that says what to persist, what to send, what to
 * apply. It performs no I/O and no system calls: no sockets, no files, no clock, no rand(). Time
 * arrives as ticks (raft_core_tick), randomness comes from a PRNG seeded from the configuration,
 * so a run is a pure function of its inputs and a simulation can replay it exactly. Links libc
 * and rv_common only; the build enforces it.
 *
 * References in comments: "§5.x" is the Raft paper (Ongaro & Ousterhout, USENIX ATC 2014);
 * "thesis §x" is Ongaro's PhD thesis "Consensus: Bridging Theory and Practice" (2014).
 *
 * ---------------------------------------------------------------------------------------------
 * How a shell drives the core (single-threaded; the core is not thread-safe):
 *
 *   r = raft_core_new(&cfg, &restored, &err);        // from config + what was read from disk
 *   loop:
 *     raft_core_tick(r)             every tick interval (e.g. 100 ms)
 *     raft_core_step(r, &msg)       for each message received from a peer
 *     raft_core_propose(...) / raft_core_read_index(...) / ...   for client requests
 *     if (raft_core_ready(r)) {
 *       raft_update_t u;
 *       raft_core_get_update(r, &u);
 *       1. send u.msgs                     (may go before or in parallel with step 2)
 *       2. persist, then fsync once:
 *            if u.has_snapshot: install the snapshot data received for u.snapshot, make it the
 *                               durable snapshot, discard the whole persisted log;
 *            if u.n_entries:    delete persisted entries with index >= u.entries[0].index, then
 *                               append u.entries (this is the truncation point);
 *            if u.has_hard_state: write u.hard (after the entries, in the same batch).
 *          (fsync is needed when u.must_sync; a commit-index-only change may be written lazily.)
 *       3. send u.msgs_after_persist       (never before step 2 is durable: these are vote
 *                                           grants and append acknowledgements, §5.2/§5.3)
 *       4. apply u.committed in order (after u.has_snapshot was installed), and serve each
 *          u.reads[i] once the applied index is >= u.reads[i].index;
 *       5. raft_core_advance(r, &u)        tells the core 2-4 are done.
 *     }
 *
 * Steps 1-5 may be spread over time (for example an asynchronous fsync): the shell may keep
 * calling step/tick/propose between get_update and advance; those calls never invalidate u.
 * There is at most one outstanding update: raft_core_ready() is false until it is advanced.
 * A crash at any instant is safe as long as the shell restarts from what it had made durable
 * (raft_storage_state_t below), including a crash between steps 2 and 5.
 *
 * Ownership: every pointer inside an update (entries, msgs, their entries and data, committed,
 * reads) is owned by the core and stays valid until raft_core_advance(r, &u) or
 * raft_core_destroy(). Pointers passed in (messages, data, restored state) are borrowed for the
 * duration of the call; the core copies what it keeps.
 *
 * Memory: the core keeps every log entry after the last compaction point in memory (the shell
 * bounds that by compacting, see raft_core_compact). An allocation failure inside the core
 * aborts the process: a half-applied protocol step is worse than a crash, and a restart from
 * disk is always safe.
 * ---------------------------------------------------------------------------------------------
 */
#ifndef RAFT_CORE_H
#define RAFT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

/* Node ids are chosen by the operator; 0 means "none" everywhere. */
typedef uint64_t raft_id_t;
typedef uint64_t raft_term_t;
/* The highest term a message may carry or a node may reach: half the range, so that no peer can
 * make a term wrap to 0 (a message at 2^64-1 would make the next campaign term 0). Real clusters
 * never get near it; a message beyond it is malformed (RV_EINVAL). */
#define RAFT_TERM_MAX (UINT64_MAX >> 1)
typedef uint64_t raft_index_t;

/* Most members (voters + learners) one configuration may hold. raftvisor runs 3 or 5 masters;
 * the bound keeps configurations plain values without ownership questions. */
#define RAFT_MAX_MEMBERS 16

/* Heartbeat read rounds remembered for leases (see raft_config_t.lease_read). */
#define RAFT_READ_ROUNDS 64

typedef enum {
  RAFT_FOLLOWER = 0,
  RAFT_PRE_CANDIDATE, /* running a pre-vote round (thesis §9.6); term not yet incremented */
  RAFT_CANDIDATE,
  RAFT_LEADER,
} raft_role_t;

typedef enum {
  RAFT_ENTRY_NORMAL = 0, /* a client command; data is opaque to the core */
  RAFT_ENTRY_EMPTY,      /* the no-op a new leader appends (§8); nothing to apply */
  RAFT_ENTRY_CONF,       /* a membership change; decode data with raft_conf_change_decode */
} raft_entry_type_t;

/* One log entry. Who owns data depends on where the entry is: see each function. len may be 0
 * (then data may be NULL). */
typedef struct {
  raft_term_t term;
  raft_index_t index;
  raft_entry_type_t type;
  uint8_t *data;
  size_t len;
} raft_entry_t;

/* A cluster configuration: who votes and who only receives the log. Ids are distinct, non-zero,
 * and never in both lists. */
typedef struct {
  raft_id_t voters[RAFT_MAX_MEMBERS];
  size_t n_voters;
  raft_id_t learners[RAFT_MAX_MEMBERS];
  size_t n_learners;
} raft_conf_t;

/* What a snapshot covers: the state machine after applying every entry up to index, whose term
 * was term, and the configuration in force at that index. The data itself is opaque to the core
 * and handled by the shell. index == 0 means "no snapshot". */
typedef struct {
  raft_index_t index;
  raft_term_t term;
  raft_conf_t conf;
} raft_snapshot_meta_t;

/* The state that must survive a crash (§5, Figure 2 "persistent state"), plus commit so a
 * restart does not replay more than it must. */
typedef struct {
  raft_term_t term;
  raft_id_t vote; /* candidate voted for in term, 0 = none */
  raft_index_t commit;
} raft_hard_state_t;

/* Volatile state the shell may want to publish (status, taps, redirects). */
typedef struct {
  raft_role_t role;
  raft_id_t leader; /* 0 = unknown */
} raft_soft_state_t;

/* -------------------------------------------------------------------------------------------
 * Messages. Plain structs; the shell maps them to protobuf. The meaning of the generic fields
 * depends on type, as in etcd's raftpb.Message. */
typedef enum {
  RAFT_MSG_PRE_VOTE = 1,  /* term = candidate's term + 1 (not adopted), index/log_term = last */
  RAFT_MSG_PRE_VOTE_RESP, /* term = request's term if granted, else voter's term; reject */
  RAFT_MSG_VOTE,          /* §5.2 RequestVote: index/log_term = candidate's last entry;
                             transfer = campaign started by TimeoutNow (ignores leases) */
  RAFT_MSG_VOTE_RESP,     /* reject = vote not granted */
  RAFT_MSG_APP,           /* §5.3 AppendEntries: index/log_term = the entry preceding entries,
                             entries, commit = leader's commit index */
  RAFT_MSG_APP_RESP,      /* accepted: index = last index now known to match the leader.
                             reject: index = the rejected MsgApp's index, reject_hint/log_term =
                             the follower's guess of the last (index, term) that may match */
  RAFT_MSG_HEARTBEAT,     /* commit = min(leader commit, follower match); ctx = read round,
                             or 0: commit-only (a lazy commit, sent at a tick), unanswered */
  RAFT_MSG_HEARTBEAT_RESP,/* ctx = the round being acknowledged (ReadIndex, §6.4) */
  RAFT_MSG_SNAP,          /* InstallSnapshot (§7): snapshot = the leader's snapshot metadata.
                             The shell streams the data of the snapshot at snapshot.index (it
                             keeps that snapshot until the stream ends, even if it compacts
                             again meanwhile); the receiving shell steps this message into the
                             follower's core only once the whole data has arrived. */
  RAFT_MSG_TIMEOUT_NOW,   /* thesis §3.10: start an election now, bypassing pre-vote */
  RAFT_MSG_READ_INDEX,    /* follower -> leader: ctx = the client's read request */
  RAFT_MSG_READ_INDEX_RESP,/* leader -> follower: ctx, index = the read index */
} raft_msg_type_t;

#define RAFT_MSG_TYPE_MAX RAFT_MSG_READ_INDEX_RESP

typedef struct {
  raft_msg_type_t type;
  raft_id_t from;
  raft_id_t to;
  raft_term_t term;
  raft_term_t log_term;
  raft_index_t index;
  raft_index_t commit;
  bool reject;
  raft_index_t reject_hint;
  raft_entry_t *entries; /* MSG_APP only; entries[i].index == index + 1 + i */
  size_t n_entries;
  raft_snapshot_meta_t snapshot; /* MSG_SNAP only */
  uint64_t ctx;
  bool transfer;
} raft_msg_t;

/* A ReadIndex request that is now safe (§6.4): once the state machine has applied index, the
 * read identified by ctx may be served and is linearizable. */
typedef struct {
  uint64_t ctx;
  raft_index_t index;
} raft_read_state_t;

/* -------------------------------------------------------------------------------------------
 * Configuration. One table of fields; raft_core_new validates it (RV_ECONFIG with the field). */
typedef struct {
  raft_id_t id; /* this node, non-zero */
  /* The bootstrap configuration: the membership at index 0, before any log entry. It must be
   * the same on every start of a node (the first cluster members all list the same voters); a
   * node that joins an existing cluster starts with an empty one and learns the membership from
   * the leader's log or snapshot. Ignored once a snapshot exists. */
  raft_conf_t bootstrap;
  /* Election timeouts are drawn uniformly from [election_tick, election_tick_max) ticks (§5.2);
   * election_tick_max == 0 means 2 * election_tick. election_tick is also the "minimum election
   * timeout" of leases and check-quorum. Must exceed heartbeat_tick. */
  unsigned election_tick;
  unsigned election_tick_max;
  unsigned heartbeat_tick; /* a leader sends heartbeats every heartbeat_tick ticks, >= 1 */
  size_t max_inflight_msgs; /* MsgApp a leader pipelines to one follower before waiting, >= 1 */
  uint64_t max_uncommitted_bytes; /* 0 = unlimited; else propose returns RV_EBUSY past it */
  size_t max_msg_entries;   /* entries per MsgApp, >= 1 */
  uint64_t max_msg_bytes;   /* entry data bytes per MsgApp (one entry is always allowed) */
  bool pre_vote;     /* thesis §9.6 */
  bool check_quorum; /* leader steps down without a quorum; followers keep vote leases */
  /* Serve ReadIndex from a leader lease instead of a heartbeat round (thesis §6.4.1). Requires
   * check_quorum. Clock assumption: every node's tick runs at the same rate, within one tick of
   * drift per election timeout; a leader trusts its lease for election_tick - 2 ticks after the
   * heartbeat round a quorum acknowledged was sent. Disabled for the rest of a term once the
   * leader has sent TimeoutNow. */
  bool lease_read;
  /* Real time, which lease_read requires. Ticks alone cannot bound real time: a paused or
   * starved process's ticks stall while time passes (a leader would trust a lease long gone),
   * and a resumed follower's owed ticks catch up in a burst (its vote lease would lapse at
   * once). With a clock, a leader trusts its lease only while clock < (when the round was sent)
   * + (election_tick - 2) * tick_us, and a voter that hears its leader refuses votes for
   * election_tick ticks and until clock >= now + (election_tick - 1) * tick_us. clock_us returns
   * microseconds of a clock that never goes back and runs on through suspends (the shell:
   * CLOCK_BOOTTIME; the simulation: its virtual time); tick_us is the real length of a tick. */
  uint64_t (*clock_us)(void *arg);
  void *clock_arg;
  uint64_t tick_us;
  uint64_t seed; /* seeds the election-timeout PRNG; give each node its own */
  /* Testing only: bits of RAFT_UNSAFE_* that break the protocol on purpose, so the simulation
   * can prove it detects the break. Honoured only by the raft_core_knobs test library; the
   * production raft_core rejects a non-zero value with RV_ECONFIG. */
  uint32_t test_unsafe;
} raft_config_t;

#define RAFT_UNSAFE_COMMIT_ANY_TERM 1u  /* count replicas of old-term entries (breaks §5.4.2) */
#define RAFT_UNSAFE_SKIP_UP_TO_DATE 2u  /* grant votes without the §5.4.1 log check */
#define RAFT_UNSAFE_LEASE_UNTIL_STEPDOWN 4u /* etcd's LeaseBased reads: trust the lease until
                                               check-quorum steps down (no expiry) */
#define RAFT_UNSAFE_LEASE_TICKS_ONLY 8u /* judge leases by ticks alone, ignoring clock_us */

/* Sensible defaults for every field but id, bootstrap and seed: election 10..20 ticks,
 * heartbeat 1, 64 inflight, 4 MiB uncommitted, 64 entries / 1 MiB per message, pre_vote and
 * check_quorum on, lease_read off. */
void raft_config_default(raft_config_t *cfg);

/* What the shell read back from disk at start. All borrowed for the call. NULL = a new node. */
typedef struct {
  raft_hard_state_t hard;
  raft_snapshot_meta_t snapshot; /* index 0 = none */
  const raft_entry_t *entries;   /* the persisted log after snapshot.index, contiguous */
  size_t n_entries;
  raft_index_t applied; /* the state machine's own durable applied index, in [snapshot.index,
                           last index]; entries after it are re-delivered. It may exceed
                           hard.commit (a lazily written commit index): the core then takes it
                           as the commit index, since only committed entries are applied. */
} raft_storage_state_t;

/* -------------------------------------------------------------------------------------------
 * The update: one batch of work for the shell. See the top of this file for the order. */
typedef struct {
  bool has_soft_state;
  raft_soft_state_t soft;
  bool has_hard_state;
  raft_hard_state_t hard;
  /* Install this snapshot (received earlier as MSG_SNAP) before anything else. */
  bool has_snapshot;
  raft_snapshot_meta_t snapshot;
  /* Entries to persist; entries[0].index is the truncation point. */
  const raft_entry_t *entries;
  size_t n_entries;
  /* Messages that do not depend on this update being durable (a leader's MsgApp, heartbeats,
   * MsgSnap, TimeoutNow: thesis §10.2.1, the leader writes its log in parallel). */
  const raft_msg_t *msgs;
  size_t n_msgs;
  /* Messages that must wait until this update is durable: vote requests and grants, append
   * and heartbeat responses, forwarded reads. */
  const raft_msg_t *msgs_after_persist;
  size_t n_msgs_after_persist;
  /* Committed entries to apply, in index order, contiguous from the last applied index + 1. */
  const raft_entry_t *committed;
  size_t n_committed;
  const raft_read_state_t *reads;
  size_t n_reads;
  /* True when hard state (term or vote) or entries or a snapshot must be fsync'ed. */
  bool must_sync;
  uint64_t seq; /* identifies the update; checked by raft_core_advance */
} raft_update_t;

/* A proposal's outcome: on success the entry's index and term (it committed iff the entry at
 * index still has term when it is applied); on RV_ENOTLEADER the leader hint (0 = unknown). */
typedef struct {
  raft_index_t index;
  raft_term_t term;
  raft_id_t leader;
} raft_proposal_t;

/* Single-server membership changes (thesis §4.1). */
typedef enum {
  RAFT_CONF_ADD_VOTER = 1, /* a new node, or promote a learner */
  RAFT_CONF_ADD_LEARNER,   /* a new non-voting member (thesis §4.2.1) */
  RAFT_CONF_REMOVE,        /* remove a voter or a learner */
} raft_conf_change_type_t;

typedef struct {
  raft_conf_change_type_t type;
  raft_id_t node;
  const uint8_t *ctx; /* opaque to the core (e.g. the node's address); borrowed */
  size_t ctx_len;
} raft_conf_change_t;

typedef enum {
  RAFT_SNAPSHOT_FINISH = 0, /* the follower received the whole snapshot */
  RAFT_SNAPSHOT_FAILURE,    /* the stream failed; the leader will probe and retry */
} raft_snapshot_status_t;

typedef enum {
  RAFT_PROGRESS_PROBE = 0,  /* next is a guess: one MsgApp at a time until one is accepted */
  RAFT_PROGRESS_REPLICATE,  /* pipelined, up to max_inflight_msgs outstanding */
  RAFT_PROGRESS_SNAPSHOT,   /* waiting for a snapshot transfer; nothing else is sent */
} raft_progress_state_t;

/* A leader's view of one follower. */
typedef struct {
  raft_id_t id;
  bool learner;
  raft_index_t match;
  raft_index_t next;
  raft_progress_state_t state;
  bool paused;
  size_t inflight;
  bool recent_active;
  raft_index_t pending_snapshot;
} raft_progress_t;

/* What the node is and knows, for status pages and tests. */
typedef struct {
  raft_id_t id;
  raft_role_t role;
  raft_id_t leader;
  raft_hard_state_t hard;
  raft_index_t applied;     /* acknowledged by raft_core_advance */
  raft_index_t first_index; /* first entry still in the log (snapshot.index + 1) */
  raft_index_t last_index;
  raft_term_t last_term;
  raft_index_t stable_index; /* last entry known durable */
  raft_snapshot_meta_t snapshot;
  raft_conf_t conf;         /* the configuration in force (thesis §4.1: the latest in the log) */
  raft_index_t conf_index;  /* index of the entry that defined it (0 = bootstrap/snapshot) */
  raft_id_t transferee;     /* leadership transfer in progress to, 0 = none */
  uint64_t uncommitted_bytes;
  bool lease_valid;         /* leader only: a lease read would be served now */
  uint64_t reads_lease;     /* read indexes this node gave as leader from its lease ... */
  uint64_t reads_round;     /* ... and after a heartbeat round (since the core was made) */
  uint64_t bad_conf_entries;/* RAFT_ENTRY_CONF entries that failed to decode (never expected) */
  const char *fault;        /* "" or why this node stopped taking part (raft_core_fault) */
} raft_status_t;

typedef struct raft_core raft_core_t;

/* -------------------------------------------------------------------------------------------
 * Life cycle. */

/* Builds a node from cfg and what the shell restored from disk (NULL for a brand-new node).
 * Returns NULL with err set (RV_ECONFIG for a bad cfg, RV_ECORRUPT for an inconsistent restored
 * state). The caller owns the result; free with raft_core_destroy. cfg and restored are
 * borrowed. Entries up to max(hard.commit, applied) are known committed; the configuration is
 * the latest RAFT_ENTRY_CONF in the restored log, else the snapshot's, else cfg->bootstrap. */
raft_core_t *raft_core_new(const raft_config_t *cfg, const raft_storage_state_t *restored,
                           rv_err_t *err);

/* Frees the node and everything it handed out; nulls *rp. Safe on NULL and twice. */
void raft_core_destroy(raft_core_t **rp);

/* -------------------------------------------------------------------------------------------
 * Inputs. Each may queue work: check raft_core_ready() afterwards. */

/* Steps a message from a peer (m->to must be this node). m and everything it points to are
 * borrowed for the call. Returns 0 (also when the message is stale and ignored, as Raft
 * requires), or RV_EINVAL for a malformed message (unknown type, wrong recipient, entries not
 * contiguous or of impossible terms: checked because messages come from the network). Committed
 * entries are never overwritten, whatever a peer sends. */
int raft_core_step(raft_core_t *r, const raft_msg_t *m);

/* One tick of logical time: drives election timeouts, heartbeats, check-quorum and transfer
 * timeouts, and (leader) tells each follower a commit no message carried yet: commits propagate
 * lazily, with the next MsgApp or at the next tick (raft_replication.c). */
void raft_core_tick(raft_core_t *r);

/* Starts an election now (as if the election timeout had fired), honouring pre_vote. Returns 0,
 * or RV_EINVAL when this node is not a voter, RV_EEXIST when it is already leader. */
int raft_core_campaign(raft_core_t *r);

/* Whether this node may campaign (default true). A node that may not (the shell's health
 * verdict says it cannot serve: disk full, failing disk, RocksDB errors) starts no election on
 * its election timeout and ignores TimeoutNow, so it neither wins an election nor accepts a
 * leadership transfer (which the leader then aborts after an election timeout); it still votes
 * and replicates. A leader is not deposed by it: the shell hands leadership away. */
void raft_core_set_campaign(raft_core_t *r, bool allowed);

/* Appends a client command (copied) to the leader's log. out may be NULL. Returns 0 with
 * out->index/term; RV_ENOTLEADER with out->leader as hint; RV_EBUSY during a leadership transfer
 * or when the uncommitted bytes would exceed max_uncommitted_bytes (a proposal is always
 * accepted when nothing is uncommitted, so one large command cannot wedge the leader). */
int raft_core_propose(raft_core_t *r, const void *data, size_t len, raft_proposal_t *out);

/* One command of raft_core_propose_batch: its bytes (borrowed; copied into the log). */
typedef struct {
  const void *data;
  size_t len;
} raft_command_t;

/* raft_core_propose for n commands at once: each is checked and appended in order exactly as n
 * calls of raft_core_propose would (a refused one leaves the others as they were; codes[i] gets
 * its return value, outs[i] its outcome), but the followers are sent what was appended once,
 * after the last: one MsgApp per follower for the whole batch (within max_msg_entries and the
 * inflight window, as ever) instead of one per command, each answered by its own MsgAppResp,
 * which the leader stepped one by one (issue 11: a ProposeBatch of 60 commands made 120 MsgApps
 * and 120 acknowledgements). Returns how many were appended. */
size_t raft_core_propose_batch(raft_core_t *r, const raft_command_t *cmds, size_t n,
                               raft_proposal_t *outs, int *codes);

/* Proposes a single-server membership change (thesis §4.1). The change takes effect on each node
 * as soon as its entry is appended to that node's log, whether or not it is committed, and is
 * undone if the entry is truncated away (thesis §4.1). A leader accepts one change at a time.
 * Returns 0 with out as for propose; RV_ENOTLEADER; RV_EBUSY while an earlier change is not yet
 * applied, while no entry of the leader's term has committed (thesis §4.1 erratum), or during a
 * transfer; RV_EEXIST when the node already has that role; RV_ENOTFOUND removing a non-member;
 * RV_EINVAL for node 0, demoting a voter to learner, removing the last voter, or a full
 * configuration. A leader that removes itself keeps leading until the change commits, without
 * counting itself, then steps down. */
int raft_core_propose_conf_change(raft_core_t *r, const raft_conf_change_t *cc,
                                  raft_proposal_t *out);

/* Asks for a linearizable read (§6.4 ReadIndex). ctx identifies the request (chosen by the
 * shell; unique across the cluster, e.g. node id in the high bits). When it is safe, an update
 * carries {ctx, index}. On the leader that needs an entry of its term committed and a heartbeat
 * round acknowledged by a quorum (or a valid lease); a follower forwards to its leader. Returns
 * 0, or RV_ENOTLEADER when no leader is known. A request may be silently dropped (leadership
 * lost, message lost): the shell must time reads out and retry. */
int raft_core_read_index(raft_core_t *r, uint64_t ctx);

/* Whether the leader may serve reads from its lease at all (default true; lease_read must be
 * on too). The shell says no while some voter may still time its vote lease in ticks alone (a
 * build before clock leases: see raft_config_t.clock_us), as in a rolling upgrade. */
void raft_core_allow_lease(raft_core_t *r, bool allow);

/* Starts a leadership transfer to target (thesis §3.10): the leader stops accepting proposals,
 * brings target's log up to date, then sends it TimeoutNow. Aborted after an election timeout.
 * Returns 0; RV_ENOTLEADER; RV_EINVAL when target is this node, not a voter, or unknown;
 * RV_EEXIST when a transfer to target is already running (a transfer to another node replaces
 * it). */
int raft_core_transfer_leader(raft_core_t *r, raft_id_t target);

/* Compacts the log up to index (§7), after the shell has durably saved a snapshot of its state
 * machine at exactly index. index must be <= the applied index (as acknowledged by advance) and
 * > the current snapshot index. Fills *meta (caller owns; the shell saves it beside the data and
 * may then delete entries <= index from disk). MSG_SNAP messages not yet handed out are
 * retargeted to this snapshot; those in the outstanding update still name the older one, which
 * the shell must keep until they are sent. Returns 0 or RV_EINVAL. */
int raft_core_compact(raft_core_t *r, raft_index_t index, raft_snapshot_meta_t *meta);

/* Would a snapshot from `from`, sent at `term` with metadata meta, be installed if its MsgSnap
 * were stepped now? raftvisor streams a snapshot's data to the state machine before the MsgSnap
 * reaches the core, so the shell must ask this before it hands the stream's first chunk to the
 * state machine, on every later chunk, and once more just before the state machine's commit
 * point (DESIGN: "a snapshot only from the current leader, before anything is installed").
 * Returns 0 when this node is a follower of `from` in exactly `term` (§5.2: one leader per term,
 * and a follower learns its leader from the AppendEntries that precede every snapshot) and
 * meta->index is above our commit index (§7: otherwise it is old news). Otherwise a reason:
 * RV_ESTALE (term below ours), RV_ENOTLEADER (from is not the leader we follow at term: a deposed
 * or forged sender, or a term we have not reached), RV_EEXIST (nothing new: index <= commit),
 * RV_EINVAL (malformed meta). A refusal costs only a retry: the leader fails the stream and
 * probes again, and the AppendEntries of the probe makes us follow it. Pure; why may be NULL. */
int raft_core_snapshot_acceptable(const raft_core_t *r, raft_id_t from, raft_term_t term,
                                  const raft_snapshot_meta_t *meta, rv_err_t *why);

/* The leader could not reach id (send failed): stop pipelining to it and probe. */
void raft_core_report_unreachable(raft_core_t *r, raft_id_t id);

/* The shell finished (or failed) streaming the snapshot the core asked for (a MSG_SNAP to id). */
void raft_core_report_snapshot(raft_core_t *r, raft_id_t id, raft_snapshot_status_t status);

/* -------------------------------------------------------------------------------------------
 * Output. */

/* True when there is an update to take and none is outstanding. */
bool raft_core_ready(const raft_core_t *r);

/* Fills *u with the next update. Returns 0; RV_EAGAIN when there is nothing to do; RV_EBUSY
 * when the previous update has not been advanced. Everything u points to is owned by the core
 * until raft_core_advance(r, u). */
int raft_core_get_update(raft_core_t *r, raft_update_t *u);

/* The shell has carried out u (persisted, sent, applied, see the top of this file). Frees u's
 * contents. Returns 0, or RV_EINVAL when u is not the outstanding update. */
int raft_core_advance(raft_core_t *r, const raft_update_t *u);

/* -------------------------------------------------------------------------------------------
 * Inspection (pure reads). */

void raft_core_status(const raft_core_t *r, raft_status_t *st);

/* Copies the entry at index into *out (out->data is borrowed until the next call that changes
 * the core). Returns 0, or RV_ENOTFOUND when compacted or beyond the last index. */
int raft_core_entry(const raft_core_t *r, raft_index_t index, raft_entry_t *out);

/* The term of the entry at index (the snapshot's term at its index, 0 at index 0). Returns 0 or
 * RV_ENOTFOUND. */
int raft_core_term(const raft_core_t *r, raft_index_t index, raft_term_t *term);

/* The leader's tracker for member id. Returns 0, RV_ENOTLEADER, or RV_ENOTFOUND. */
int raft_core_progress(const raft_core_t *r, raft_id_t id, raft_progress_t *out);

/* -------------------------------------------------------------------------------------------
 * Helpers for the shell. */

/* Decodes a RAFT_ENTRY_CONF entry's data: the change, and the whole configuration after it.
 * cc->ctx points into data (borrowed). Either out pointer may be NULL. Returns 0 or RV_EDECODE. */
int raft_conf_change_decode(const uint8_t *data, size_t len, raft_conf_change_t *cc,
                            raft_conf_t *conf);

bool raft_conf_is_voter(const raft_conf_t *c, raft_id_t id);
bool raft_conf_is_learner(const raft_conf_t *c, raft_id_t id);

/* "" while the node takes part in Raft; otherwise why it stopped for good, e.g. "log conflict
 * with committed entry 42: term 3 here, term 4 in MsgApp from 2". A leader's log disagreeing
 * with an entry this node committed means this node's log is damaged (or the message is
 * forged): §5.4 guarantees it never happens between correct nodes. etcd panics there; this core
 * stops instead: from then on it steps nothing (RV_ECORRUPT), campaigns never, proposes nothing,
 * and the shell reports the node unhealthy with this text, so an operator removes and re-adds
 * it. Borrowed, valid while the core lives. */
const char *raft_core_fault(const raft_core_t *r);

/* Stable names for logs and taps ("MsgApp", "leader"). Borrowed static strings. */
const char *raft_msg_type_name(raft_msg_type_t t);
const char *raft_role_name(raft_role_t role);

#endif
