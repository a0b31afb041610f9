/* repl_recover_core: the recovery loader's state machine (issue 9, "Recovery of a new cluster"):
 * what the leader's ots-replicator does, in recovery mode, to rebuild a new cluster from the
 * remote copy, as a pure function of events. The shell (shell/repl_recover.h) carries out its
 * actions: backend reads on a worker thread (repl_backend.h), commands to kv-store over ipc
 * (messages/recovery.proto), and feeds the outcomes back as events.
 *
 * The truth is the replicated state (kv-store's kv_recovery.h), never the loader's memory: after
 * any surprise (a lost or refused answer, a leader change, a restart of any process) the loader
 * forgets what it had in flight, asks kv-store for the state and goes on from its cursor. A
 * ROWS command applies only after the cursor it names, so a duplicate, a lost batch or a batch
 * re-proposed across a leader change is applied exactly once or refused (RV_ESTALE).
 *
 *   SYNC     read the source meta row (backend) and the replicated state (kv-store); then
 *              state none                          -> BEGIN
 *              RUNNING from this source            -> LOAD from the cursor
 *              RUNNING from another source         -> BEGIN (the generation was replaced:
 *                                                     kv-store restarts from scratch)
 *              FINISH                              -> DONE
 *              LEFT (recovered and left long ago)  -> LEFT (nothing to do; status says to
 *                                                     turn ots.recovery-mode off)
 *   BEGIN    RecoveryBegin; refused RV_ENOTEMPTY (the cluster holds data): FAILED, for good
 *   LOAD     scans (one at a time, ahead of the proposals) give chunks of rows; up to
 *            inflight_max ROWS commands are in flight, each after the previous one's last key;
 *            a scan RV_ESTALE (the generation was replaced mid-way) -> SYNC; at the end of the
 *            rows, with nothing in flight -> FINISH
 *   FINISH   RecoveryFinish after the cursor -> DONE
 *   DONE     state FINISH: read-only until left. With leave set, RecoveryLeave -> LEFT.
 *   WAIT     after a retriable error: SYNC again at retry_at (everything in flight dropped)
 *   FAILED   a refusal that retrying cannot change (non-empty cluster, no remote copy, a
 *            corrupt row): status says why; SYNC again only after retry_failed_ms
 * Leave mode (ots.recovery-mode off, the published way out): SYNC reads the state only:
 * FINISH -> LEAVE; RUNNING -> FAILED "recovery is RUNNING: it cannot be left"; none -> LEFT.
 *
 * Every action carries a ticket; an event names the ticket it answers, and the core ignores an
 * event whose ticket it no longer waits for (an answer that comes after a resync).
 * Pure: libc and rv_common only; time is an argument. */
#ifndef REPL_RECOVER_CORE_H
#define REPL_RECOVER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

#define RR_KEY_MAX 4096        /* = REPL_KEY_MAX */
#define RR_CLUSTER_MAX 128     /* = REPL_CLUSTER_ID_MAX */
#define RR_INFLIGHT_MAX 16     /* ROWS commands in flight at most (config: 1..this) */
#define RR_QUEUE_MAX 64        /* chunks scanned and not yet answered */
#define RR_ACTIONS_MAX (RR_QUEUE_MAX + 4)
#define RR_STATUS_MAX 512

typedef enum {
  RR_OFF = 0, /* not started (not the leader) */
  RR_SYNC,
  RR_BEGIN,
  RR_LOAD,
  RR_FINISH,
  RR_DONE,
  RR_LEAVE,
  RR_LEFT,
  RR_WAIT,
  RR_FAILED
} rr_phase_t;

typedef struct {
  uint8_t b[RR_KEY_MAX];
  size_t len; /* 0: before the first key */
} rr_key_t;

/* The remote copy's meta row, as far as recovery cares. */
typedef struct {
  char cluster[RR_CLUSTER_MAX + 1];
  uint64_t generation, synced_index, rows, bytes;
  uint64_t term; /* the meta row's fencing token (BEGIN gives it: the new cluster's epoch is
                    its epoch + 1); not part of what makes two sources the same */
} rr_source_t;

/* The replicated state (RecoveryAnswer). */
typedef struct {
  int phase; /* 0 none, 1 RUNNING, 2 FINISH, 3 LEFT (kv_recovery_phase_t) */
  rr_source_t source; /* rows/bytes: the totals given to BEGIN */
  uint64_t rows, bytes; /* loaded */
  rr_key_t cursor;
} rr_state_t;

/* A chunk of rows the shell scanned and holds: id (from RR_ACT_SCAN's first_chunk on), the
 * rows it holds, their key + value bytes, its last key. */
typedef struct {
  uint64_t id;
  uint64_t rows, bytes;
  rr_key_t last;
} rr_chunk_t;

typedef enum {
  RR_ACT_READ_META = 1, /* backend: repl_backend_read_meta -> rr_on_meta */
  RR_ACT_ASK_STATE,     /* kv-store: RECOVERY_STATE -> rr_on_state */
  RR_ACT_BEGIN,         /* kv-store: RECOVERY_BEGIN from `source` -> rr_on_answer */
  RR_ACT_SCAN,          /* backend: rows after `after` of `source`, cut into chunks numbered
                           from first_chunk -> rr_on_page */
  RR_ACT_ROWS,          /* kv-store: RECOVERY_ROWS of chunk `chunk` after `after` ->
                           rr_on_answer */
  RR_ACT_FINISH,        /* kv-store: RECOVERY_FINISH after `after` -> rr_on_answer */
  RR_ACT_LEAVE,         /* kv-store: RECOVERY_LEAVE -> rr_on_answer */
  RR_ACT_DROP_CHUNKS    /* the shell may free every chunk it holds (and ignore a scan in
                           flight: its rr_on_page will be ignored) */
} rr_act_kind_t;

typedef struct {
  rr_act_kind_t kind;
  uint64_t ticket;       /* give it back with the event that answers this action */
  uint64_t chunk;        /* ROWS */
  uint64_t first_chunk;  /* SCAN */
  const rr_key_t *after; /* SCAN, ROWS, FINISH: borrowed until the next event */
  const rr_source_t *source; /* BEGIN, SCAN */
} rr_act_t;

typedef struct {
  bool leave;             /* leave mode (recovery-mode off): only leave a FINISHed recovery */
  unsigned inflight_max;  /* ROWS in flight (0 = 4) */
  unsigned queue_max;     /* chunks scanned ahead, in flight included (0 = 2 * inflight) */
  int64_t retry_ms;       /* WAIT before a new SYNC after a retriable error (0 = 1000) */
  int64_t retry_failed_ms; /* ... after a failure (0 = 30000) */
  int64_t answer_timeout_ms; /* an awaited kv-store answer this late: resync (0 = 30000) */
} rr_config_t;

typedef struct {
  rr_config_t cfg;
  rr_phase_t phase;
  uint64_t next_ticket, next_chunk;
  /* SYNC */
  bool have_meta, have_state;
  uint64_t meta_ticket, state_ticket;
  rr_source_t source; /* the meta row read in this SYNC */
  rr_state_t state;   /* the replicated state as last answered */
  /* one kv-store command (BEGIN, FINISH, LEAVE) or one scan at a time */
  uint64_t cmd_ticket, scan_ticket;
  int64_t cmd_sent_ms;
  /* LOAD */
  rr_key_t scan_from;  /* the next scan starts after this key */
  bool scan_done;      /* the source has no rows after scan_from */
  rr_chunk_t queue[RR_QUEUE_MAX]; /* scanned, in key order: [0, nsent) in flight */
  uint64_t tickets[RR_QUEUE_MAX]; /* the ROWS ticket of each chunk in flight */
  int64_t sent_ms[RR_QUEUE_MAX];
  size_t nqueue, nsent;
  /* rate: rows applied since load_start_ms */
  int64_t load_start_ms;
  uint64_t load_start_rows;
  double rate_rows_s, eta_s;
  /* WAIT / FAILED */
  int64_t retry_at_ms;
  int last_code;
  char status[RR_STATUS_MAX]; /* what it does or why it waits; "" when all is well */
  /* counters */
  uint64_t resyncs, stale, commands;
  /* the actions of the last event */
  rr_act_t out[RR_ACTIONS_MAX];
  size_t nout;
} rr_t;

void rr_config_default(rr_config_t *cfg);
/* Resets r (phase OFF) with cfg (copied; NULL = defaults). */
void rr_init(rr_t *r, const rr_config_t *cfg);

/* Events. Each replaces r->out[0..nout) with the actions to carry out, in order. */
/* This node leads: start (from SYNC). Also used after a restart of the shell. */
void rr_start(rr_t *r, int64_t now_ms);
/* This node no longer leads: forget everything (phase OFF, RR_ACT_DROP_CHUNKS). */
void rr_stop(rr_t *r);
/* RR_ACT_READ_META's outcome: rc RV_OK with src, or the backend's code and words. */
void rr_on_meta(rr_t *r, uint64_t ticket, int rc, const rr_source_t *src, const char *why,
                int64_t now_ms);
/* RR_ACT_ASK_STATE's outcome: rc RV_OK with st (or a retriable code and kv-store's words). */
void rr_on_state(rr_t *r, uint64_t ticket, int rc, const rr_state_t *st, const char *why,
                 int64_t now_ms);
/* RR_ACT_SCAN's outcome: chunks[0..n) (numbered from first_chunk, in key order), done = the
 * source has no rows after the last one. rc RV_ESTALE: the generation was replaced. */
void rr_on_page(rr_t *r, uint64_t ticket, int rc, const rr_chunk_t *chunks, size_t n, bool done,
                const char *why, int64_t now_ms);
/* A kv-store answer to BEGIN, ROWS, FINISH or LEAVE: rc (RecoveryAnswer.code), st the state
 * after it (NULL when the answer carried none), why its message. */
void rr_on_answer(rr_t *r, uint64_t ticket, int rc, const rr_state_t *st, const char *why,
                  int64_t now_ms);
/* Time passes: WAIT ends, awaited answers time out. */
void rr_tick(rr_t *r, int64_t now_ms);

/* "off", "sync", "begin", "load", "finish", "done", "leave", "left", "wait", "failed". */
const char *rr_phase_name(rr_phase_t p);

#endif
