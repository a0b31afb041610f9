/* repl_upload: the ots-replicator's upload state machine (issue 9), pure: libc and rv_common, no
 * sockets, threads, clocks or files (time is an argument; the shell carries out what it asks).
 *
 * Every node runs one. On a follower (or a fenced leader) it only reads the remote meta row
 * about every second (REPL_OP_READ_META) so that its kv-store trims the change log below the
 * remote synced_index: any node can take over. On the leader:
 *   the fencing token is epoch << 32 | Raft term (repl_token, repl_backend.h); the epoch comes
 *   from kv-store's replicated recovery state (repl_upload_epoch): no claim before it is known,
 *   or a recovered cluster would claim epoch 0 and be fenced until the next election;
 *   claim the token in the meta row (REPL_OP_CLAIM: the new leader's fence of every older
 *   uploader); with an epoch above 0 the meta row is read first (REPL_OP_READ_META): a row
 *   written by a LOWER epoch (the cluster this one was recovered from) holds a synced_index of
 *   another cluster's log, from which no change can be read; this leader then makes a base copy
 *   at once, and its commit is the claim (the row, and the old copy, stay as they were until a
 *   whole copy of this cluster replaces them; a leader that dies meanwhile leaves the row of the
 *   lower epoch, so its successor does the same) ->
 *   loop: ask the local kv-store for the changes after synced_index (REPL_OP_KV_CHANGES, paged)
 *         -> stream each page into one write (REPL_OP_PUT, the first page opens it)
 *         -> commit it at the view's index (REPL_OP_COMMIT) -> trim, and again;
 *   kv-store says the log no longer reaches synced_index (base_copy_needed), or the write is
 *   too big for one atomic step (RV_ETOOBIG): a base copy (REPL_OP_KV_BASE pages of one view
 *   at index B into a base write), with progress, which then FOLDS IN the changes after B
 *   (REPL_OP_KV_CHANGES streams after B, then after each stream's index, put into the same
 *   staged write: later post-images overwrite, deletions delete) until a stream fits in one
 *   kv page, and only then commits, at the last stream's index. A base copy therefore ends
 *   close to the present however long it took: committed at B, a base copy that took longer
 *   than the writes of one atomic step would be followed by another base copy, and another,
 *   for as long as writes go on (seen: 4.5 M rows, two base copies in a row at 7,000 creates/s
 *   against the local Tablestore server). The staged generation is invisible until the commit,
 *   so readers still see one consistent namespace; the fold is bounded (REPL_UPLOAD_FOLD_MAX
 *   streams) so that a write rate above the upload rate still commits now and then;
 *   RV_EFENCED: a higher term owns the copy; stop uploading until this node leads in a newer
 *   term; RV_ESTALE from the backend: read the meta row again and go on from it;
 *   other failures: retry with backoff (100 ms doubling to 10 s), logged once per kind.
 * At most one operation is in flight at a time (the shell has one backend worker and one kv
 * request); results of an operation started before a role change are dropped by id. Memory is
 * one page: the shell keeps the rows of the last kv page until REPL_OP_PUT has taken them.
 * Every step may also ask for a ReplTrim (with the uploader's report) and a log line, given
 * only when the state changes, not per attempt. A ReplTrim names the remote synced_index only
 * when the meta row is of this cluster's epoch (an index of another cluster's log would trim
 * changes the copy never got); otherwise it is a report (below_index 0). */
#ifndef REPL_UPLOAD_H
#define REPL_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repl_backend.h"

#define REPL_UPLOAD_META_EVERY_MS 1000   /* followers read the meta row this often */
#define REPL_UPLOAD_TRIM_EVERY_MS 1000   /* and everyone reports (ReplTrim) at least this often */
#define REPL_UPLOAD_POLL_MS 50           /* an idle leader asks kv-store for changes this often */
#define REPL_UPLOAD_CYCLE_MS 250         /* and a busy one starts an upload at most this often:
                                            under load each cycle takes what came meanwhile, so
                                            every cost per upload (kv-store's view and pages,
                                            the commit's fsyncs, the trim on every node) is
                                            shared by more changes; adaptive to the backlog: an
                                            upload that needed more than one kv page (the
                                            leader is behind) is followed at once */
#define REPL_UPLOAD_BACKOFF_MIN_MS 100
#define REPL_UPLOAD_BACKOFF_MAX_MS 10000
#define REPL_UPLOAD_KV_TIMEOUT_MS 10000  /* a kv-store answer later than this is given up */
#define REPL_UPLOAD_TIDY_EVERY_MS 10000  /* the leader tidies the copy this often at most */
#define REPL_UPLOAD_PROGRESS_MS 5000     /* a base copy logs its progress this often at most */
#define REPL_UPLOAD_FOLD_MAX 64          /* change streams folded into one base copy at most */

typedef enum {
  REPL_OP_NONE = 0,
  REPL_OP_READ_META,  /* backend: the meta row */
  REPL_OP_CLAIM,      /* backend: claim term */
  REPL_OP_PUT,        /* backend: put the last kv page's rows (begin the write first if begin) */
  REPL_OP_COMMIT,     /* backend: commit the open write at to_index */
  REPL_OP_TIDY,       /* backend: housekeeping under term */
  REPL_OP_KV_CHANGES, /* kv-store: ReplChangesRequest */
  REPL_OP_KV_BASE,    /* kv-store: ReplBaseCopyRequest */
} repl_op_kind_t;

/* What the shell starts. A backend op other than PUT/COMMIT, or a PUT with begin, first aborts
 * any write left open by an earlier attempt (the shell's worker does that). */
typedef struct {
  repl_op_kind_t kind;
  uint64_t id;                     /* echoed in the result */
  uint64_t term;                   /* CLAIM, PUT (begin), TIDY: the fencing token */
  bool base, begin;                /* PUT */
  uint64_t generation, from_index; /* PUT with begin */
  uint64_t to_index;               /* COMMIT */
  uint64_t stream, page, after_index; /* KV_* (after_index: KV_CHANGES) */
} repl_op_t;

/* The outcome of a backend op. */
typedef struct {
  uint64_t id;
  int rc;                 /* 0 or an rv code */
  const char *message;    /* borrowed for the call; "" on success */
  repl_meta_t meta;       /* READ_META, CLAIM, COMMIT on success */
} repl_backend_result_t;

/* A ReplChanges or ReplBaseCopy page, as the shell decoded it (its rows stay with the shell). */
typedef struct {
  uint64_t stream, page;
  int code;               /* 0 or an rv code */
  const char *message;
  bool base_copy_needed;  /* changes */
  uint64_t from_index, to_index; /* changes; base: to_index = the view's index */
  size_t nrows;
  uint64_t bytes;         /* key + value bytes of the page */
  bool last;
  uint64_t rows_sent, keys_estimate; /* base: progress */
} repl_kv_page_t;

/* What one step asks the shell to do, in order: log, start op, send a ReplTrim. */
typedef struct {
  repl_op_t op;           /* kind NONE: nothing to start */
  bool trim;              /* send ReplTrim(below_index = trim_below, uploader = status) */
  uint64_t trim_below;
  int log_level;          /* 0 none, 1 info, 2 warn */
  char log[512];
} repl_update_t;

typedef enum {
  REPL_ST_STANDBY,   /* not the leader: reading the meta row */
  REPL_ST_CLAIM,     /* leader: claiming the term (waiting for the epoch, reading the meta row
                        before the claim, or the claim itself) */
  REPL_ST_META,      /* leader: re-reading the meta row (after RV_ESTALE) */
  REPL_ST_CHANGES,   /* leader: an incremental upload in progress (kv page or put) */
  REPL_ST_COMMIT,
  REPL_ST_BASE,      /* leader: a base copy in progress */
  REPL_ST_BASE_COMMIT,
  REPL_ST_TIDY,
  REPL_ST_IDLE,      /* leader: caught up, polling */
  REPL_ST_BACKOFF,   /* leader: waiting to retry after an error */
  REPL_ST_FENCED,    /* leader of a term the remote copy has left behind */
} repl_state_t;

/* What `status` and ReplUploader show. */
typedef struct {
  bool active;              /* this node uploads (leader, term claimed, not fenced) */
  const char *state;        /* "idle", "uploading", "base-copy", "fenced", "error", "standby",
                               "claiming" */
  bool meta_known;
  repl_meta_t meta;         /* the meta row as last read or written */
  bool meta_ours;           /* meta is of this cluster's epoch: its synced_index counts this
                               cluster's log (else it is another cluster's, and not shown) */
  bool epoch_known;
  uint64_t epoch;           /* this cluster's epoch (0: never recovered) */
  int64_t last_upload_ms;   /* wall clock of the last successful commit (0: none) */
  const char *last_error;   /* "" when the last attempt succeeded */
  uint64_t base_rows_done, base_rows_total;
  uint64_t uploads, upload_rows, upload_bytes, base_copies, errors; /* since start */
  bool folding;             /* a base copy is folding in the changes made during it */
  uint64_t fold_index;      /* the index the folded changes reach */
} repl_upload_status_t;

typedef struct {
  repl_state_t st;
  bool leader;
  uint64_t term;           /* Raft term as last heard */
  bool epoch_known;        /* kv-store's recovery state was read (repl_upload_epoch) */
  uint64_t epoch;          /* this cluster's epoch: 0 never recovered, else the source's + 1 */
  uint64_t token;          /* epoch << 32 | term (0: not known, or not formable) */
  uint64_t claimed;        /* the token this node claimed remotely (0: none) */
  bool crossing;           /* a base copy replaces a lower epoch's copy (said once) */
  uint64_t next_id;        /* op ids */
  uint64_t inflight;       /* id of the op in flight (0: none) */
  repl_op_kind_t inflight_kind;
  int64_t inflight_since;
  uint64_t next_stream;
  uint64_t stream, page;   /* the kv stream in progress */
  uint64_t to_index;       /* the index the write in progress will commit at */
  bool last_page;          /* the page just put was the stream's last */
  bool base_pending;       /* a base copy is what the leader must do next */
  bool folding;            /* REPL_ST_BASE: the base pages are in; change streams fold in */
  int folds;               /* change streams folded into the base copy in progress */
  uint64_t fold_after;     /* the index the fold stream in progress starts after */
  uint64_t fold_rows;      /* rows they brought */
  bool resume_base;        /* BACKOFF resumes with a base copy */
  int64_t wake_ms;         /* BACKOFF / IDLE / standby: next action */
  int64_t backoff_ms;
  int64_t next_meta_ms, last_trim_ms, last_tidy_ms, last_progress_ms, base_started_ms;
  int64_t cycle_ms;        /* when the incremental upload in progress (or the last) started */
  uint64_t commits_since_tidy;
  repl_meta_t meta;
  bool meta_known;
  int64_t last_upload_ms;
  char last_error[400];
  char logged_error[400];  /* the error last logged: the same one is not logged again */
  uint64_t base_rows_done, base_rows_total;
  uint64_t uploads, upload_rows, upload_bytes, base_copies, errors;
  uint64_t page_rows, page_bytes; /* of the stream in progress */
} repl_upload_t;

void repl_upload_init(repl_upload_t *u, uint64_t first_stream, int64_t now_ms);

/* Raft's role and term as raft-peer published them. */
void repl_upload_role(repl_upload_t *u, bool leader, uint64_t term, int64_t now_ms,
                      repl_update_t *out);
/* This cluster's epoch, from kv-store's replicated recovery state (0: never recovered; a
 * recovered cluster's once its recovery is LEFT). Until the first call a leader claims nothing.
 * A different epoch than before (a lagging kv-store that applied the recovery since) is a new
 * token: the leader claims again, as for a new term. */
void repl_upload_epoch(repl_upload_t *u, uint64_t epoch, int64_t now_ms, repl_update_t *out);
/* Time passes (call at least at repl_upload_next_ms). */
void repl_upload_tick(repl_upload_t *u, int64_t now_ms, repl_update_t *out);
/* A backend op finished. wall_ms: the wall clock (last_upload_ms). */
void repl_upload_backend_done(repl_upload_t *u, const repl_backend_result_t *r, int64_t now_ms,
                              int64_t wall_ms, repl_update_t *out);
/* A kv page arrived (ReplChanges or ReplBaseCopy). Returns true when the page belongs to the
 * stream in progress (the shell then keeps its rows for the REPL_OP_PUT that follows). */
bool repl_upload_kv_page(repl_upload_t *u, bool base, const repl_kv_page_t *p, int64_t now_ms,
                         repl_update_t *out);

/* When the next tick is due (absolute ms). */
int64_t repl_upload_next_ms(const repl_upload_t *u);
void repl_upload_status(const repl_upload_t *u, repl_upload_status_t *s);
const char *repl_upload_state_name(repl_state_t st);

#endif
