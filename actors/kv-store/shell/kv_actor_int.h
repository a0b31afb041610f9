/* kv_actor_int: the kv-store actor's state and the functions its files share (kv_actor.c: life
 * cycle, raft-peer link, apply, durability; kv_clients.c: the client socket, the request table,
 * writes; kv_reads.c: reads). Not an API: only the actor's own files include it. */
#ifndef KV_ACTOR_INT_H
#define KV_ACTOR_INT_H

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kv_actor.h"
#include "kv_core.h"
#include "kv_rocks.h"
#include "kv_slice.h"
#include "rv_hist.h"
#include "rv_listener.h"

#define KV_VERSION "0.1.0"        /* what FS_NODE_STATUS reports */
#define KV_FS_OPS 48               /* Rv__FsOp values are below this */
#define KV_FS_OP_RECOVERY 47       /* the op of a recovery command's request (not an Rv__FsOp) */
#define KV_STATS_MS 1000          /* KvStats to the supervisor this often */
#define KV_TICK_MS 100            /* the housekeeping timer: sync, Applied, liveness, deadlines */
#define KV_SYNC_IDLE_MS 1000      /* unsynced writes and no apply this long: flush the memtable */
#define KV_ATTACH_RETRY_MS 500    /* ApplyFrom is repeated this often until a RaftState answers */
#define KV_PEER_SILENT_MS 1500    /* no RaftState this long: raft-peer may have restarted */
#define KV_STORE_RETRY_MS 1000    /* after a failed RocksDB write, ask for the entries again */
#define KV_OPEN_SPACE_WAIT_MS 3000 /* at start, how long the open waits for KV_REOPEN_MIN_FREE */
#define KV_REOPEN_MIN_FREE (8u << 20) /* a broken store is reopened only with this much free on
                                         the data disk: RocksDB's open writes a MANIFEST and a WAL
                                         and may flush what it recovers. Below it kv-store waits
                                         in place (unhealthy, cannot persist) rather than exit and
                                         be restarted over and over until restart intensity
                                         stops the node while the disk is full */
#define KV_WRITE_DEADLINE_MS 10000 /* a write not applied by then gets a retriable error */
#define KV_READ_DEADLINE_MS 3000  /* a read not confirmed by then gets a retriable error */
#define KV_CLIENT_DRAIN 1024      /* client messages taken per wake-up */
#define KV_ENVELOPE_SLACK (64u << 10) /* envelope bytes around the largest command */
#define KV_CLIENT_CONNS_MAX 256   /* client connections at once (the CLI, librvclient, benches) */
#define KV_CLIENT_QUEUED_MAX (16u << 20) /* reply bytes queued per connection that does not read */
#define KV_CLIENT_TURN_BYTES (16u << 20) /* request and reply bytes per loop turn */
#define KV_REPLY_FLUSH_MS 10      /* replies queued for slow readers are retried this often */
#define KV_LS_PAGE_MAX 5000       /* ls entries per reply at most (a reply stays < 2 MiB) */
#define KV_PROPOSE_BYTES_MAX (4u << 20) /* command bytes per ProposeBatch (an envelope: 8 MiB) */
#define KV_HINT_MAX (CFG_HOST_MAX + 16)

#define KV_SLICE_SLOW_US 50000    /* an apply slice this slow is logged (at most once a second) */
#define KV_SLOW_WRITE_US 100000    /* a RocksDB write this slow is logged with what stalls it */
#define KV_SNAP_READERS 4          /* snapshot streams served at once (one per follower) */
#define KV_SNAP_IDLE_MS 30000      /* a stream nobody asked to continue this long is dropped */

#define KV_REPL_STREAMS 4          /* replica streams (changes, base copies) served at once */
#define KV_REPL_IDLE_MS 30000      /* a stream nobody asked to continue this long is dropped */
#define KV_REPL_PAGE_BYTES (1u << 20)     /* a page's key + value bytes when the request says 0 */
#define KV_REPL_PAGE_BYTES_MAX (4u << 20) /* ... at most (+ one row: a page < 8 MiB envelope) */
#define KV_REPL_PAGE_ROWS 10000           /* a page's rows when the request says 0 */
#define KV_REPL_PAGE_ROWS_MAX 100000
#define KV_CHLOG_TIDY_PER_TICK 4096 /* dropped change-log entries deleted per tick at most */
#define KV_LEVEL_SETTLE_MS 3000   /* a new leader waits this long for members it has not heard
                                     from before counting them as level 1 (kv_feature.h) */
#define KV_TEST_LEVEL_ENV "RV_TEST_FEATURE_LEVEL" /* tests only: this node stands for a build
                                     of that feature level (1..KV_FEATURE_LEVEL) */

typedef enum { KV_REQ_WRITE, KV_REQ_READ } kv_req_kind_t;

typedef enum { KV_REPL_CHANGES = 1, KV_REPL_BASE = 2 } kv_repl_kind_t;

/* Where a stream's page stands (kv_repl_reader.c). */
typedef enum {
  KV_PAGE_IDLE = 0, /* no page asked: the stream is the loop's */
  KV_PAGE_QUEUED,   /* asked, waiting for the reader thread */
  KV_PAGE_READING,  /* the reader thread reads it */
  KV_PAGE_DONE      /* read and its answer encoded: the loop sends it (kv_repl_done) */
} kv_page_state_t;

/* One page asked of the reader thread, and what it made of it. */
typedef struct {
  /* the request: set by the loop before the page is queued */
  uint64_t page;            /* the page number asked for */
  uint64_t after;           /* changes: the replica's index (ReplChangesRequest.after_index) */
  kv_chlog_limits_t lim;
  uint64_t log_max_bytes;   /* ots.change-log-max-bytes, for the answer's log state */
  uint64_t keys_estimate;   /* base copies: RocksDB's estimate of the keys, for the answer */
  rv_msg_t reply;           /* the answer's envelope (rv_actor_reply_envelope), body NULL */
  uint64_t seq;             /* queue order */
  /* the outcome: set by the reader */
  int rc;                   /* the answer's code; RV_ECLOSED: cancelled, no answer made */
  char msg[RV_ERR_MSG_MAX]; /* "" or the answer's message */
  uint8_t *frame;           /* the encoded answer (owned); NULL when none could be made */
  size_t len;
  size_t rows, bytes;       /* rows and key + value bytes in it */
  bool last;
  uint64_t cpu_us, wall_us; /* the reader's CPU and wall time for it */
} kv_repl_page_t;

/* A replica stream this node serves: one consistent view read out page by page. While a page is
 * asked (state not IDLE) the reader thread owns view, info, cur, cursor, rows_sent, bytes_sent
 * and pg's outcome; the loop reads them again once the page is DONE. */
typedef struct {
  uint64_t id;              /* the requester's stream id; 0 = slot free */
  kv_repl_kind_t kind;
  uint64_t next_page;       /* the page the next request must ask for */
  kv_rocks_view_t *view;    /* owned; made by the loop when page 0 is asked */
  kv_chlog_info_t info;     /* the view's applied index and log state (read with page 0) */
  bool info_known;          /* info was read */
  kv_chlog_cursor_t cur;    /* changes: where the next page starts */
  kv_buf_t cursor;          /* base copy: the last key served */
  uint64_t rows_sent, bytes_sent;
  uint64_t cpu_us;          /* the reader's CPU time for the stream so far */
  int64_t last_ms;          /* last request, for expiry */
  kv_repl_page_t pg;        /* the page asked last */
  atomic_int state;         /* a kv_page_state_t; last (s_drop clears what comes before it).
                               Changed under the reader's mutex; IDLE is set and left by the
                               loop only, so the loop may test for it without the mutex */
} kv_repl_stream_t;

/* The reader thread of the replica's pages (kv_repl_reader.c): started with the first page,
 * joined by kv_repl_close. */
typedef struct {
  bool started;             /* the thread runs: mu and cv are initialised */
  pthread_t thread;
  pthread_mutex_t mu;       /* guards the streams' state and quit */
  pthread_cond_t cv;        /* a page was queued, or quit */
  bool quit;
  atomic_bool cancel;       /* the page being read stops at its next row (checked unlocked) */
  uint64_t seq;             /* the last page's queue order */
} kv_repl_reader_t;

/* A snapshot stream this node serves (leader side): one consistent view being read out. */
typedef struct {
  uint64_t id;              /* the stream (raft-peer's SnapshotRequest.id); 0 = slot free */
  kv_rocks_reader_t *rd;    /* owned */
  uint64_t next_off;        /* where the next chunk starts */
  uint64_t applied;         /* the applied index the view reflects */
  int64_t last_ms;          /* last request, for expiry */
} kv_snap_out_t;

#define KV_SAVE_STREAMS 2          /* client snapshot saves served at once */
#define KV_DIGEST_JOBS 4           /* `fs -digest` computed at once (kv_digest.c) */

/* A digest being computed in slices over one consistent view (kv_digest.c). */
typedef struct {
  bool active;
  kv_rocks_view_t *view;    /* owned */
  uint64_t index;           /* the applied index of the view: what the answer names */
  uint64_t h;               /* the hash so far */
  uint64_t pairs;
  kv_buf_t cursor;          /* the last key hashed */
  rv_listener_peer_t peer;  /* whom to answer */
  rv_msg_t env;             /* the request's envelope (its body not kept) */
} kv_digest_job_t;

/* A client's snapshot save (kv_save.c): one consistent view read out chunk by chunk. */
typedef struct {
  uint64_t id;              /* the client's stream id; 0 = free slot */
  kv_rocks_reader_t *rd;    /* the view, owned */
  uint64_t index, term;     /* the Raft index it reflects and that entry's term */
  uint64_t estimated_keys;
  uint64_t next_off;        /* pair bytes served so far */
  uint64_t prev_off;        /* offset of the last chunk served */
  kv_buf_t prev;            /* that chunk, for a resend of a lost answer */
  bool prev_last;           /* it was the last */
  int64_t last_ms;          /* last request, for expiry (KV_SNAP_IDLE_MS) */
} kv_save_stream_t;

/* A snapshot being installed (follower side) into <data-dir>/kv.snap. */
typedef struct {
  bool active;
  uint64_t id;
  uint64_t next_off;        /* bytes of pairs written so far */
  uint64_t pairs;           /* pairs written, for logs */
  kv_rocks_loader_t *load;  /* writes the new database, owned */
  bool prepared;            /* built and synced; waiting for raft-peer's SnapshotDecision */
  uint64_t applied;         /* the applied index the data reflects (the leader's word) */
  int64_t prepared_ms;      /* when it was prepared, to abandon it if no decision comes */
} kv_snap_in_t;

typedef enum {
  KV_REQ_QUEUED,  /* goes out with the batch at the end of this wake-up */
  KV_REQ_SENT,    /* in a ProposeBatch / ReadIndexRequest: waiting for raft-peer's answer */
  KV_REQ_WAITING  /* has its index: waiting for the apply to reach it */
} kv_req_state_t;

/* haadmin requests relayed to a local actor (kv_ha.c), waiting for its answer. */
#define KV_HA_PENDING 16
typedef struct {
  bool used;
  uint64_t corr;            /* the correlation id of the relayed message */
  rv_listener_peer_t peer;  /* the client connection to answer */
  rv_msg_t env;             /* the HaRequest's envelope; body NULL */
  int op;                   /* Rv__HaOp */
  char target[CFG_ID_MAX + 1];
  int64_t deadline_ms;      /* monotonic: RV_ETIMEDOUT past this */
} kv_ha_req_t;

/* What kv-store knows for haadmin: raft-peer's last state, health-monitor's last verdict. */
typedef struct {
  char role[16];
  uint64_t commit, raft_applied, last_index;
  char membership[16];
  char fence[384];          /* RaftState.fence: "" or the fence a new leader waits for */
  int health;               /* Rv__HealthVerdict; 0 = no report yet */
  char health_reason[1024];
  int64_t health_at_ms;     /* when the last HealthReport came (monotonic) */
  uint64_t next_corr;
  kv_ha_req_t pending[KV_HA_PENDING];
} kv_ha_t;

/* A client request that cannot be answered at once. Owned by the request table. */
typedef struct kv_req {
  uint64_t id;              /* proposal id / read ctx: unique for the actor's lifetime */
  kv_req_kind_t kind;
  kv_req_state_t state;
  rv_listener_peer_t peer;  /* the client connection to answer */
  rv_msg_t env;             /* the request's envelope (addresses, ids); body NULL */
  uint8_t op;               /* Rv__FsOp; KV_FS_OP_RECOVERY for a recovery command */
  bool local;               /* a local actor's RecoveryCommand (kv_recover.c): answered with
                               RecoveryAnswer to env's sender, not to a client (peer unused) */
  bool slot;                /* holds one of its connection's in-flight slots
                               (rv_listener_slot_take), given back by kv_req_done */
  int op_kind;              /* local: Rv__RecoveryCommand__Kind */
  uint64_t index;           /* writes: the entry's index; reads: the read index */
  uint64_t term;            /* writes: the entry's term */
  int64_t deadline_ms;      /* monotonic: a retriable error past this */
  kv_buf_t cmd;             /* writes: the encoded command, until proposed */
  Rv__FsRequest *fs;        /* reads: the request, executed once applied (the body of fs_msg) */
  rv_msg_t fs_msg;          /* reads: the decoded request, owned (its body, or arena) */
  struct kv_req *prev, *next; /* every pending request, in arrival order */
} kv_req_t;

/* The bytes of one ApplyBatch's entries, copied in one allocation; freed when the last of its
 * entries is applied or dropped. */
typedef struct {
  size_t refs;    /* entries of the queue whose data is here */
  _Alignas(16) uint8_t data[];
} kv_apply_blk_t;

/* A committed entry waiting for its apply slice (kv_apply.c). */
typedef struct {
  uint64_t index, term;
  uint32_t type;  /* 0: a command; else Raft's own entry */
  uint8_t *data;  /* the command's bytes (in blk), NULL when len is 0 */
  size_t len;
  kv_apply_blk_t *blk; /* holds data (one reference); NULL when len is 0 */
  bool ack;       /* raft-peer asked for Applied.taken once this entry is applied */
} kv_apply_ent_t;

/* The entries waiting for their apply slices: e[head..n), contiguous indexes. */
typedef struct {
  kv_apply_ent_t *e;
  kv_slice_cost_t *cost; /* each entry's cost (kv_slice.h), beside it */
  size_t head, n, cap;
  kv_entry_t *ents;      /* a slice's entries and results (scratch, kept between slices) */
  kv_result_t *res;
  size_t scratch_cap;
  int timer;             /* the next slice's one-shot timer; 0 = none due */
} kv_apply_q_t;

struct kv_actor {
  rv_actor_t *a;
  const cfg_node_t *cfg;
  kv_rocks_t *rocks;
  kv_core_t *core;
  kv_core_config_t core_cfg;
  rv_listener_t *clients;
  kv_path_t *path;          /* scratch for validating paths before they reach the log (large) */

  /* the link with raft-peer */
  bool attached;            /* raft-peer answered our ApplyFrom with a RaftState */
  int64_t attach_sent_ms;   /* when ApplyFrom last went out */
  int64_t last_state_ms;    /* when the last RaftState came */
  uint64_t applied;         /* last log index taken in (commands and Raft's own entries) */
  uint64_t applied_term;    /* the term of the entry at applied_term_index (0 = unknown: not
                               applied by this process yet) */
  uint64_t applied_term_index;
  bool leader;              /* this node's raft-peer is the leader */
  uint64_t term;
  char leader_node[CFG_ID_MAX + 1]; /* "" = unknown */
  char role[16];            /* raft-peer's role in its last RaftState ("" before one) */
  uint64_t commit, last_index; /* from the last RaftState, for FS_NODE_STATUS */
  int64_t started_ms;       /* kv_clients_open's time, for the uptime in FS_NODE_STATUS */
  char leader_hint[KV_HINT_MAX];    /* the leader's client address "host:port", "" = unknown */
  int64_t leader_since_ms;  /* when this node last became leader (monotonic) */
  kv_feature_view_t levels; /* as leader: every member's feature level, from the last
                               RaftState (kv_feature_gate); n = 0 otherwise */

  kv_apply_q_t aq;          /* committed entries waiting for their slice (kv_apply.c) */
  bool halted;              /* an entry of a newer build was met: stopping (exit 78), nothing
                               more is applied */
  uint64_t slices, parts;   /* apply slices run (parts: of an entry applied in parts), and the
                               longest one (us), for the logs */
  uint64_t slice_max_us;
  uint64_t slice_cpu_max_us; /* the most CPU time one slice took (us) */
  uint64_t slice_logged_us; /* when a slow slice was last logged (rv_mono_us) */

  /* durability */
  uint64_t durable;         /* kv_core_applied() when the WAL was last synced */
  uint64_t reported;        /* the last Applied sent */
  bool sync_inflight;       /* a WAL sync runs on the store's sync thread (kv_rocks_sync_start) */
  int sync_efd;             /* its completions (an eventfd polled by the loop); -1 none */
  int64_t last_apply_ms;
  char store_error[RV_ERR_MSG_MAX + 32]; /* the last RocksDB failure; "" while writes succeed */
  int64_t store_retry_ms;   /* non-zero: ask raft-peer for the entries again at this time */
  bool store_broken;        /* a RocksDB write or sync failed: reopen the store from disk (at
                               store_retry_ms) before taking anything more */
  uint64_t last_write_us;   /* how long the last RocksDB batch write took ... */
  uint64_t last_write_at_us; /* ... and when it ended (rv_mono_us): a slow write counts for
                                RV_SLOW_IO_MEMORY_US (an idle node recovers; a write that hangs
                                stalls the loop, and the health pings say so) */

  kv_ha_t ha;               /* haadmin (kv_ha.c) */

  /* requests */
  uint64_t next_id;         /* random at start (getrandom), then counting: ids differ across
                               restarts whatever the clock does */
  zhashx_t *by_id;          /* id -> kv_req_t *, every pending request */
  zhashx_t *by_index;       /* entry index -> kv_req_t *, writes waiting for their entry */
  kv_req_t *head, *tail;    /* every pending request, arrival order */
  size_t npending;
  kv_req_t **wq, **rq;      /* writes and reads of this wake-up, to batch at its end */
  size_t nwq, capwq, nrq, caprq;

  /* snapshots */
  kv_snap_out_t snap_out[KV_SNAP_READERS];
  kv_snap_in_t snap_in;
  kv_save_stream_t saves[KV_SAVE_STREAMS]; /* client snapshot saves (kv_save.c) */
  kv_digest_job_t digests[KV_DIGEST_JOBS];  /* `fs -digest` in slices (kv_digest.c) */
  int digest_timer;                         /* the slices' timer while a digest runs; 0 none */

  /* the off-cluster replica (kv_repl.c) */
  kv_repl_stream_t repl[KV_REPL_STREAMS];
  kv_repl_reader_t repl_reader; /* its pages are read there (kv_repl_reader.c) */
  int repl_efd;             /* the reader's pages done (an eventfd polled by the loop); -1 none */
  uint64_t chlog_overflows; /* the log's overflow count last logged */
  uint8_t *repl_uploader;   /* the replicator's last report (ReplTrim.uploader), packed; owned */
  size_t repl_uploader_len;

  /* the recovery of a new cluster (kv_recover.c) */
  double rec_rate, rec_eta; /* the loader's last measure (rows/s, s) ... */
  int64_t rec_rate_ms;      /* ... and when it came (monotonic; 0 = never) */
  kv_recovery_t rec_shown;  /* the state last put in an answer (its strings are borrowed) */

  /* counters, for logs */
  uint64_t proposals, propose_batches, reads, read_batches, stale_reads, redirects, retriable;
  /* per Rv__FsOp (< KV_FS_OPS), for the supervisor's /metrics (KvStats) */
  rv_hist_t op_latency[KV_FS_OPS];
  uint64_t op_errors[KV_FS_OPS];
  int64_t stats_sent_ms;
};

/* ---- kv_actor.c ---------------------------------------------------------------------------- */
int64_t kv_now_ms(void); /* monotonic */
/* "mkdir", ..., "setattr", "stat", "ls", "cat", "count", "digest" for an Rv__FsOp; "op?"
 * otherwise. Static. */
const char *kv_fs_op_name(int op);

/* Sends ApplyFrom(durable + 1) to raft-peer. */
void kv_attach(kv_actor_t *s);
/* Whether a write of kv op `op` may be proposed now: kv_feature_gate over s->levels (the
 * members as the leader's raft-peer last reported them; before any, this node alone), the
 * grace of a new leader included. Returns RV_OK, RV_EUNAVAIL (retriable: a member's level is
 * not known yet) or RV_EFEATURE, with why (cap bytes) from the gate. */
int kv_feature_admit(kv_actor_t *s, int op, char *why, size_t cap);
/* A RocksDB write or sync failed: reopen the store from disk at the next retry. */
void kv_store_failed(kv_actor_t *s, const rv_err_t *err);
/* Opens <data-dir>/kv into s->rocks and s->core and sets the applied indexes from it. */
int kv_open_store(kv_actor_t *s, rv_err_t *err);

/* ---- kv_apply.c: committed entries applied in bounded slices ------------------------------ */
/* Takes an ApplyBatch's new entries in (copies them) and applies a first slice when nothing was
 * waiting; the rest goes slice by slice on later loop turns. */
void kv_apply_take(kv_actor_t *s, const Rv__ApplyBatch *b);
/* Drops every waiting entry (the intake restarts at durable + 1). */
void kv_apply_reset(kv_actor_t *s);
/* Frees the queue and cancels its timer. */
void kv_apply_close(kv_actor_t *s);

/* ---- kv_ha.c: haadmin over the client port ------------------------------------------------ */
/* A HaRequest from a client: answered at once (state, health) or relayed to raft-peer (a
 * transfer, answered by its Reply) or the fencer (a fence, answered by its FenceResult). */
void kv_ha_request(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m);
/* Local messages for haadmin: RaftState, HealthReport, Reply, FenceResult. Returns true when
 * the message was one of them (RaftState is also handled by kv_actor.c). */
bool kv_ha_message(kv_actor_t *s, const rv_msg_t *m);
/* Times out relayed requests past their deadline. */
void kv_ha_tick(kv_actor_t *s, int64_t now_ms);

/* ---- kv_snapshot.c: Raft snapshots (streaming out, installing) ---------------------------- */
/* Finishes or discards what an interrupted install left in data_dir (kv.snap, kv.new, kv.old),
 * so that <data-dir>/kv is either the old database or the new one. Call before opening it. */
int kv_snapshot_recover(const char *data_dir, rv_err_t *err);
/* raft-peer asks for the next chunk of a stream (SnapshotRequest): answered with SnapshotData. */
void kv_snapshot_request(kv_actor_t *s, const rv_msg_t *m);
/* raft-peer hands over a chunk to install (SnapshotInstall); after the last one the new
 * database is built and synced beside the live one and raft-peer is asked (SnapshotPrepared)
 * whether to commit it; a failure is answered at once with SnapshotInstalled (code set). */
void kv_snapshot_install(kv_actor_t *s, const rv_msg_t *m);
/* raft-peer's SnapshotDecision: commit the prepared install (swap it in, SnapshotInstalled), or
 * abandon the install, prepared or not. */
void kv_snapshot_decision(kv_actor_t *s, const rv_msg_t *m);
/* Drops streams idle for KV_SNAP_IDLE_MS, and a prepared install no decision came for. */
void kv_snapshot_tick(kv_actor_t *s, int64_t now_ms);
/* Releases every stream (Raft snapshots and clients' saves: kv_save_close) and any partial
 * install (its directory is removed at the next start): call it before the database closes. */
void kv_snapshot_close(kv_actor_t *s);

/* ---- kv_save.c: images of the store for clients (FS_SNAPSHOT_READ) ------------------------ */
/* Answers one FS_SNAPSHOT_READ request m from peer with the next chunk of its stream (opening
 * the view at offset 0), or with an error naming the stream and offset. */
void kv_save_request(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m);
/* Releases views nobody asked to continue for KV_SNAP_IDLE_MS. */
void kv_save_tick(kv_actor_t *s, int64_t now_ms);
/* Releases every view (before the database closes or is replaced). */
void kv_save_close(kv_actor_t *s);

/* kv_digest.c: `fs -digest` over a view taken now, answered (with the view's applied index)
 * once hashed in slices; kv_digest_close ends every running one with a retriable error `why`
 * (the store is being closed or replaced). */
void kv_digest_start(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env);
void kv_digest_close(kv_actor_t *s, const char *why);

/* ---- kv_repl.c: the replica's change log (messages/repl.proto) -------------------------- */
void kv_repl_changes(kv_actor_t *s, const rv_msg_t *m);   /* ReplChangesRequest */
void kv_repl_base_copy(kv_actor_t *s, const rv_msg_t *m); /* ReplBaseCopyRequest */
void kv_repl_trim(kv_actor_t *s, const rv_msg_t *m);      /* ReplTrim -> ReplStatus */
void kv_repl_status(kv_actor_t *s, const rv_msg_t *m);    /* ReplStatusRequest -> ReplStatus */
/* The same question over the client port (`raftvisor meta-status` from any host). */
void kv_repl_status_client(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m);
/* Drops idle streams; deletes a bounded number of dropped log entries. */
void kv_repl_tick(kv_actor_t *s, int64_t now_ms);
/* After each successful apply: logs an overflow of the log's cap. */
void kv_repl_applied(kv_actor_t *s);
/* After the store is (re)opened: logs the log's state. */
void kv_repl_opened(kv_actor_t *s);
/* Stops the reader thread (a page being read is cancelled; pages read are sent, others answered
 * RV_EUNAVAIL) and releases every stream's view: before the store closes or is replaced. */
void kv_repl_close(kv_actor_t *s);
/* The reader's eventfd is readable: sends the pages it has done (polled by the loop). */
void kv_repl_done(rv_actor_t *a, int fd, void *arg);
/* The log's state as ReplLogState (strings none). */
void kv_repl_log_pb(const kv_chlog_info_t *i, uint64_t max_bytes, Rv__ReplLogState *pb);

/* ---- kv_repl_reader.c: the replica's pages read and encoded off the loop ------------------- *
 * A page (ReplChanges or ReplBaseCopy) reads up to 10,000 post-images or rows: 20-60 ms of CPU,
 * and on a loaded host 200-800 ms of wall time that held the loop (issue 11). The loop checks a
 * request, makes the view (page 0: a RocksDB snapshot, microseconds) and queues the page; one
 * thread reads it from the view, builds and encodes the answer (rv_msg_encode) and wakes the
 * loop (s->repl_efd), which only sends the frame. One page in flight per stream (a request for a
 * stream whose page is out is answered RV_EBUSY), KV_REPL_STREAMS streams: at most that many
 * pages (each under the 8 MiB envelope) exist at once. */
/* Queues st's page (st->pg's request set; st->view made): the thread is started if it does not
 * run. Returns 0, or RV_EINTERNAL when it cannot start (err says why). */
int kv_repl_reader_queue(kv_actor_t *s, kv_repl_stream_t *st, rv_err_t *err);
/* A stream whose page is DONE, or NULL. */
kv_repl_stream_t *kv_repl_reader_take(kv_actor_t *s);
/* Sets st's state (under the mutex when the thread runs). */
void kv_repl_reader_set(kv_actor_t *s, kv_repl_stream_t *st, kv_page_state_t state);
/* Stops the thread: the page being read ends at its next row (DONE, code RV_ECLOSED), queued
 * pages are left QUEUED; joins it. Safe when it does not run. */
void kv_repl_reader_stop(kv_actor_t *s);

/* ---- kv_auth.c: who a request is for --------------------------------------------------------- */

/* The principal of request q from connection peer: the authenticated one, or (only with
 * security.insecure) the user q asserts; groups, superuser and the permissions switch from the
 * YAML. Returns 0, or RV_EPERM with why (nobody: an unauthenticated connection, no user). */
int kv_auth_principal(kv_actor_t *s, const rv_listener_peer_t *peer, const Rv__FsRequest *q,
                      kv_principal_t *p, char *why, size_t cap);
/* RV_OK when the principal of request q (NULL: a request that asserts no user) from peer is
 * the superuser or in the supergroup; else RV_EPERM with why in Hadoop's words ("Access denied
 * for user X. Superuser privilege is required"), or kv_auth_principal's refusal. */
int kv_auth_superuser(kv_actor_t *s, const rv_listener_peer_t *peer, const Rv__FsRequest *q,
                      char *why, size_t cap);
/* Stamps p into cmd (version 2): cmd borrows p's strings, so p must outlive the encoding. */
void kv_auth_stamp(const kv_principal_t *p, kv_cmd_t *cmd);
/* The mode of a create: requested (0 = 0777 for a directory, 0666 for a file) less the umask. */
uint16_t kv_auth_create_mode(const kv_actor_t *s, unsigned requested, bool dir);
/* Logs the security settings (loudly when insecure or unchecked). */
void kv_auth_open(const kv_actor_t *s);

/* ---- kv_recover.c: the recovery of a new cluster (messages/recovery.proto) ----------------- */
/* A RecoveryCommand from the loader: answered at once (STATE, refusals) or proposed. */
void kv_recover_command(kv_actor_t *s, const rv_msg_t *m);
/* The local request r was decided by the apply (res) or failed before it (code, msg). */
void kv_recover_applied(kv_actor_t *s, kv_req_t *r, const kv_result_t *res);
void kv_recover_fail(kv_actor_t *s, kv_req_t *r, int code, const char *msg);
/* ReplStatus.recovery: the applied state and the loader's fresh rate (strings borrowed from s
 * until the next call). */
void kv_recover_status_pb(kv_actor_t *s, Rv__RecoveryProgress *p);

/* ---- kv_clients.c: the socket, the request table, writes ----------------------------------- */
/* Binds the client-port listener and registers it with the loop; makes the tables. */
int kv_clients_open(kv_actor_t *s, rv_err_t *err);
/* Answers every pending request with a retriable error and frees the tables and the socket. */
void kv_clients_close(kv_actor_t *s);

/* Answers a request (env, to peer) with r; fills replicas. */
/* Sends reply r to the request env of operation op (an Rv__FsOp), counting it: env->sent_at_us
 * holds the request's arrival (monotonic, set on receipt), so its latency is measured here. */
void kv_reply(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env, int op,
              Rv__FsReply *r);
/* Answers FS_NODE_STATUS (request m) with this node's status, at once. */
void kv_reads_node_status(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m);
/* Sends KvStats to the supervisor when KV_STATS_MS have passed since the last. */
void kv_clients_stats(kv_actor_t *s, int64_t now);
/* Answers with an error; retry marks it retriable (the leader hint is added when known). */
void kv_reply_error(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env, int code,
                    bool retry, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A new pending request of kind for the message m from peer (body not taken), in the table.
 * m is an FsRequest from a client, or a RecoveryCommand from a local actor (peer NULL). A
 * client's request holds one of its connection's in-flight slots (security.client-inflight)
 * for as long as it is in the table. Returns NULL with err set: RV_EBUSY when the connection
 * holds every slot already (answer it busy, retriable), RV_ENOMEM. */
kv_req_t *kv_req_new(kv_actor_t *s, kv_req_kind_t kind, const rv_listener_peer_t *peer,
                     const rv_msg_t *m, int64_t deadline_ms, rv_err_t *err);
/* Removes r from every table, gives back its in-flight slot, and frees it. Every answer to a
 * pending request (kv_req_fail, the apply's, a served read) ends here. */
void kv_req_done(kv_actor_t *s, kv_req_t *r);
/* Answers r with a retriable error and removes it. */
void kv_req_fail(kv_actor_t *s, kv_req_t *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
kv_req_t *kv_req_by_id(kv_actor_t *s, uint64_t id);
/* Queues r for the batch at the end of this wake-up. Returns false (r answered and freed) when
 * memory runs out. */
bool kv_req_queue(kv_actor_t *s, kv_req_t *r);

/* Sends what was queued since the last call: one ProposeBatch and one ReadIndexRequest at most
 * (the client socket's handler calls it after each batch of requests; a local actor's request
 * that queues a write calls it too). */
void kv_clients_flush(kv_actor_t *s);
/* Sends the replies batched in this turn (rv_listener_turn_end): called when a handler that may
 * have answered clients returns. */
void kv_clients_turn_end(kv_actor_t *s);
/* Answers the write waiting for entry (index, term): res is the apply's outcome when the entry
 * is a command (NULL for Raft's own entries, which means the write's entry was replaced). */
void kv_clients_applied(kv_actor_t *s, uint64_t index, uint64_t term, const kv_result_t *res);
/* The same, before the slice's store write (kv_apply.c): answers only a client's write whose
 * entry is (index, term), and returns whether it did; the rest (a local actor's request, a
 * replaced entry) waits for kv_clients_applied after the write. */
bool kv_clients_answer_early(kv_actor_t *s, uint64_t index, uint64_t term, const kv_result_t *res);
/* Whether any write waits for its entry to apply (none on a follower). */
bool kv_clients_writes_waiting(const kv_actor_t *s);
/* Takes in raft-peer's outcomes of proposals (outcomes[0..n), borrowed), from a ProposeResult or
 * an ApplyBatch (before its entries): a refusal fails its write, an accepted one makes it wait
 * for (index, term). Outcomes of requests no longer here are ignored. */
void kv_clients_propose_result(kv_actor_t *s, Rv__ProposeOutcome *const *outcomes, size_t n);
/* Leadership moved (or raft-peer went silent): fails what can no longer finish here. */
void kv_clients_leadership_changed(kv_actor_t *s, const char *why);
/* Fails every pending request (raft-peer lost). */
void kv_clients_fail_all(kv_actor_t *s, const char *why);
/* Answers requests whose deadline passed. */
void kv_clients_expire(kv_actor_t *s, int64_t now_ms);

/* ---- kv_reads.c ------------------------------------------------------------------------- */
/* A read request: served now (stale) or queued for ReadIndex. Takes m->body (sets it NULL)
 * when it queues the request. */
void kv_reads_request(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m);
/* Sends one ReadIndexRequest for the reads queued in this wake-up (rs[0..n)). */
void kv_reads_flush(kv_actor_t *s, kv_req_t **rs, size_t n);
void kv_reads_index_result(kv_actor_t *s, const Rv__ReadIndexResult *r);
/* Serves every read whose index the apply has reached. */
void kv_reads_serve(kv_actor_t *s);

#endif
