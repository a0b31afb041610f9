/* kv_recovery: rebuilding a NEW cluster from the off-cluster replica (issue 9), as replicated
 * state of the namespace.
 *
 * Why through Raft: the leader's ots-replicator reads the remote rows in key order and its
 * kv-store proposes them as ordinary log entries, so every replica applies the same rows in the
 * same order, a crash anywhere resumes from replicated state, a follower that falls behind
 * catches up by the usual log or snapshot transfer (the state below is a key of the store, so a
 * Raft snapshot carries it), and no second install path exists to get wrong.
 *
 * The state ('M' "recovery", written in the same store write as the rows it covers):
 *   phase   none -> RUNNING (RecoveryBegin) -> FINISH (RecoveryFinish) -> LEFT (RecoveryLeave)
 *   source  the remote copy's cluster id, generation and synced_index, its rows/bytes totals
 *   cursor  the last key loaded (empty: none yet), rows/bytes loaded so far
 *   epoch   this cluster's epoch (issue 9's fencing across clusters): the source meta row's
 *           term is a fencing token epoch << 32 | Raft term, and a cluster rebuilt from it
 *           has epoch (source term >> 32) + 1, so that its replicator's token (epoch << 32 |
 *           its own Raft term, which starts again at 1) is above every token of the cluster
 *           it came from. Set by BEGIN, never lowered (a second recovery of an emptied cluster
 *           keeps the larger), kept through FINISH and LEFT; 0 without a state (a cluster never
 *           recovered). The replicator uses it once the state is LEFT. Replicated state like
 *           the rest: a Raft snapshot and a restart carry it, and it is in the replica digest
 *           (KV_DIGEST_ALL: replicas must agree) but not in the namespace digest (`fs -digest`,
 *           KV_DIGEST_NAMESPACE): it is the cluster's own, not the namespace's, so a recovered
 *           cluster's namespace digest still equals its remote copy's.
 *   Encoding: version 1 (the format before epochs) is read as epoch 1 (every copy then was of
 *   epoch 0) and written when the epoch is 1, so that the common case keeps its bytes;
 *   version 2 appends the epoch.
 * While the phase is RUNNING or FINISH the namespace is read-only: every client write (mkdir,
 * put, touchz, rm, mv, setattr) is decided RV_ERECOVERY with exactly RV_ERECOVERY_MSG (its
 * session records it, so a retry answers the same); reads answer with what is loaded so far.
 *
 * The four commands (kv_cmd ops KV_OP_RECOVERY_*, arguments in the command's data):
 *  - BEGIN {cluster, generation, synced_index, rows_total, bytes_total[, source_term]} (the
 *    source term is encoded only when its epoch is not 0: absent, as in entries written before
 *    epochs, it means a source of epoch 0): phase none: refused
 *    with RV_ENOTEMPTY unless the namespace is empty (the root has no entry): recovery never
 *    mixes a remote copy into data a cluster already holds. RUNNING from the same source: a
 *    no-op (a new leader's loader re-proposing it). RUNNING from another source (the remote
 *    copy was replaced by a new generation mid-way): starts again from scratch: cursor empty,
 *    counts zero; what the old rows left is removed by the range rule below. FINISH: refused
 *    with RV_EBUSY from another source, a no-op from the same one.
 *  - ROWS {after, rows...}: applied only when after equals the cursor (else RV_ESTALE, nothing
 *    changes: a re-proposal after a leader change, a duplicate or an out-of-order batch is
 *    therefore applied exactly once). Rows are namespace keys (kv_chlog_in_scope) in strictly
 *    increasing order, all above after; a row whose key or value is malformed is RV_ECORRUPT
 *    naming the key, and nothing of the batch is applied. The range (after, last key] of the
 *    namespace becomes exactly the rows given: keys in it that the rows do not hold are deleted
 *    (none on a first pass, which is known and skips the scan; the leftovers of a replaced
 *    generation otherwise). The next inode
 *    moves above every inode loaded. cursor = last key.
 *    Applied in parts (kv_core_apply_part, a bounded slice of rows per store write so that no
 *    apply holds kv-store's loop for long): the rows are checked whole at the first part, each
 *    part writes its rows and `partial` = true but neither the cursor nor the applied index;
 *    the last part writes the rest, the cursor, the counts and `partial` = false with the
 *    applied index, as a whole apply does. A crash in between re-applies the entry from its
 *    first row (the cursor has not moved, puts of post-images are idempotent, and `partial`
 *    makes it delete whatever its range holds beyond its rows), so the rows apply exactly once.
 *  - FINISH {after}: with after equal to the cursor: every namespace key after the cursor is
 *    deleted (at most rm_max_entries, else RV_ETOOBIG), the root directory must exist
 *    (RV_ECORRUPT otherwise: the source held no namespace), phase FINISH. Repeated: a no-op.
 *  - LEAVE {}: FINISH -> LEFT: the namespace is writable. RUNNING: refused with RV_EBUSY (a
 *    partial namespace must not become writable). none or LEFT: a no-op.
 *    BEGIN in LEFT is taken as in none (refused unless the namespace is empty).
 * Refusals are outcomes (kv_result_t.code), identical on every replica; the state changes only
 * as said. Pure: libc and rv_common only. */
#ifndef KV_RECOVERY_H
#define KV_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_codec.h"
#include "kv_schema.h"
#include "rv_error.h"

#define KV_RECOVERY_CLUSTER_MAX 128 /* bytes of the source cluster id */

typedef enum {
  KV_RECOVERY_NONE = 0,    /* not recovering: writable (the state key is absent) */
  KV_RECOVERY_RUNNING = 1, /* rows are being loaded: read-only */
  KV_RECOVERY_FINISH = 2,  /* every row is loaded, still read-only until left */
  KV_RECOVERY_LEFT = 3     /* a recovery finished and was left: writable. Kept (not deleted)
                              so that a node still configured with ots.recovery-mode knows the
                              namespace was recovered and left, not yet to be recovered */
} kv_recovery_phase_t;

/* The replicated state (zero = none). */
typedef struct {
  uint8_t phase;                                  /* kv_recovery_phase_t */
  char source_cluster[KV_RECOVERY_CLUSTER_MAX + 1]; /* NUL-terminated */
  uint64_t source_generation;
  uint64_t source_synced_index;
  uint64_t rows_total, bytes_total; /* the source meta row's (0: unknown) */
  uint64_t rows, bytes;             /* loaded so far (key + value bytes) */
  bool leftovers;                   /* a Begin restarted from scratch over loaded rows: rows
                                       must delete what their range holds beyond them (else
                                       the range is known empty and is not scanned) */
  bool partial;                     /* rows after the cursor were written by a RecoveryRows
                                       entry applied in parts (kv_core_apply_part) that has not
                                       completed: its apply (again from its first row after a
                                       restart) scans its range, as leftovers do, and a Begin
                                       that restarts counts them as leftovers */
  uint16_t cursor_len;              /* 0: nothing loaded yet */
  uint8_t cursor[KV_KEY_MAX];       /* the last key loaded */
  uint64_t epoch;                   /* this cluster's epoch (see above); 0 without a state */
} kv_recovery_t;

/* "" (none or LEFT), "RUNNING", "FINISH": as meta-status prints them. Static. */
const char *kv_recovery_phase_name(int phase);

/* BEGIN's arguments (cluster borrowed). */
typedef struct {
  const char *cluster;
  uint64_t generation, synced_index, rows_total, bytes_total;
  uint64_t source_term; /* the source meta row's term (a fencing token; 0: unknown, epoch 0) */
} kv_recovery_begin_t;

/* The epoch of a cluster recovered from a copy whose meta row holds source_term. */
static inline uint64_t kv_recovery_epoch_of(uint64_t source_term) {
  return (source_term >> 32) + 1;
}

/* One row of a ROWS command (borrowed). */
typedef struct {
  kv_bytes_t key, val;
} kv_recovery_row_t;

/* Appends the whole encoded command (kv_cmd_encode, no session, time_ms) to out. Returns 0, or
 * RV_EINVAL (a cluster id over KV_RECOVERY_CLUSTER_MAX, a key over KV_KEY_MAX, no rows) or
 * RV_ETOOBIG (past KV_DATA_MAX bytes of arguments), err naming which. */
int kv_recovery_encode_begin(const kv_recovery_begin_t *b, int64_t time_ms, kv_buf_t *out,
                             rv_err_t *err);
int kv_recovery_encode_rows(const uint8_t *after, size_t alen, const kv_recovery_row_t *rows,
                            size_t n, int64_t time_ms, kv_buf_t *out, rv_err_t *err);
int kv_recovery_encode_finish(const uint8_t *after, size_t alen, int64_t time_ms, kv_buf_t *out,
                              rv_err_t *err);
int kv_recovery_encode_leave(int64_t time_ms, kv_buf_t *out, rv_err_t *err);

/* The bytes a ROWS command adds per row beyond key and value (for sizing batches). */
#define KV_RECOVERY_ROW_OVERHEAD 6

/* The state value ('M' "recovery"): encode appends; decode returns RV_ECORRUPT on bad bytes. */
void kv_recovery_state_encode(const kv_recovery_t *st, kv_buf_t *out);
int kv_recovery_state_decode(const uint8_t *v, size_t len, kv_recovery_t *st);

#endif
