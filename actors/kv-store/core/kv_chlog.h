/* kv_chlog: change capture for the off-cluster replica (issue 9): which namespace keys each
 * store write changed, recorded under its applied index in the same atomic write.
 *
 * Design, and why:
 *  - What is recorded: per store write that changes namespace-scope keys ('D', 'I', 'C': what
 *    `fs -digest` hashes), one entry 'L' be64(p) -> the keys (not the values), p being the
 *    write's applied index. A write may group several log entries (kv_core_apply_batch), so an
 *    entry covers the indexes (previous write's index, p]: a replica at any index A inside that
 *    range is still served correctly, because it gets a superset of the keys it needs and each
 *    key's post-image, which is idempotent. Keys only: the values are read when the changes are
 *    served, so the log stays small (a create records ~depth+2 keys, ~40 bytes each).
 *  - Why post-images read at serve time are correct: the server reads the log entries, the
 *    applied index and every post-image from ONE consistent view (a RocksDB snapshot; a store
 *    nobody writes to in tests). In that view at applied index Z, every key changed in (A, Z]
 *    is named by some entry with p > A, and its value in the view is its value at Z; every key
 *    not named kept its value at A. So a replica holding the namespace at A, given those rows,
 *    holds exactly the namespace at Z. Deleted keys come out as deletions.
 *  - Atomic with the apply: the entry and the log's state key ('L' be64(0)) go into the core's
 *    batch, i.e. the same RocksDB WriteBatch as the changes and the applied index ('M' state).
 *    A crash leaves both at the same write: no gap, no entry for a change that did not happen.
 *  - A reserved key table, not a column family: it goes through the kv_store_t interface as is
 *    (the pure core owns the whole logic; kv_memstore runs the model tests), one WriteBatch by
 *    construction. 'L' sorts between the namespace tables and 'M'; namespace reads are point
 *    reads and prefix scans that never cross it. The price: the Raft snapshot stream and the
 *    digests must skip it (they do: kv_rocks_reader_skip, kv_check.c), and trims leave
 *    tombstones in the same column family (deleted in bounded batches, kv_core_chlog_tidy).
 *  - Not in a Raft snapshot: the log is node-local (which writes a node grouped, what it
 *    trimmed). A snapshot install brings no 'L' keys, so the reopened core finds no log state
 *    and starts one with floor = the snapshot's index and base_needed set: no gap can hide.
 *    The same happens when the replica is enabled on a store that already holds data, and a
 *    store opened with the replica disabled deletes its log (a later enable starts afresh).
 *  - The floor: the log holds every namespace change in (floor, applied]. Changes after
 *    after_index can be served iff after_index >= floor; otherwise a base copy is needed.
 *  - Bounded: when appending an entry would take the live bytes (entries above the floor)
 *    past max_bytes, the log is dropped instead: floor = that write's index, base_needed set,
 *    overflows counted; the dropped entries are deleted in bounded batches afterwards (disk
 *    holds at most ~2x the cap while that runs). Trim raises the floor (never above applied) and
 *    clears base_needed when the replica's index reaches the old floor.
 *  - Cost when disabled: one test of a flag per write.
 *
 * Entry value: be64 cum (bytes appended before this entry), then per key be16 length + key.
 * Entry size (what the cap counts) = 9 + value length. State value: see kv_chlog_state_t.
 * Pure: libc and rv_common only. */
#ifndef KV_CHLOG_H
#define KV_CHLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_codec.h"
#include "kv_store.h"
#include "rv_error.h"

#define KV_CHLOG_FORMAT 1
#define KV_CHLOG_STATE_LEN 42
#define KV_CHLOG_KEY_LEN 9 /* 'L' be64(index) */
#define KV_CHLOG_READ_BATCH 256 /* post-images read together (kv_store_multi_get) at most */

/* The log's durable state ('L' be64(0)): u8 format, be64 floor, total, live_start,
 * stored_start, overflows, u8 base_needed. */
typedef struct {
  uint64_t floor;        /* the log holds every namespace change in (floor, applied] */
  uint64_t total;        /* bytes ever appended (all entries' sizes, cumulative) */
  uint64_t live_start;   /* total before the first entry above floor: live = total - this */
  uint64_t stored_start; /* total before the first entry still stored (lags while deletion
                            runs): stored = total - this */
  uint64_t overflows;    /* times the cap dropped the log */
  bool base_needed;      /* the floor was raised by an overflow, a snapshot install or enabling,
                            and no trim at or above that floor has come since */
} kv_chlog_state_t;

void kv_chlog_state_encode(const kv_chlog_state_t *st, uint8_t out[KV_CHLOG_STATE_LEN]);
/* RV_ECORRUPT on a wrong length, format or inconsistent counters. */
int kv_chlog_state_decode(const uint8_t *v, size_t len, kv_chlog_state_t *st);
/* 'L' be64(index) into out (KV_CHLOG_KEY_LEN bytes); index 0 is the state key. */
void kv_chlog_key(uint8_t out[KV_CHLOG_KEY_LEN], uint64_t index);
/* Whether key is in namespace scope (what the log records, what a base copy copies). */
bool kv_chlog_in_scope(const uint8_t *key, size_t klen);

/* What the log looks like, for status and for the serving side. */
typedef struct {
  bool enabled;          /* the store has a change log (the replica is on) */
  uint64_t max_bytes;    /* the cap (core's configuration; 0 from a view) */
  uint64_t applied;      /* the applied index of the store or view */
  uint64_t floor;        /* as kv_chlog_state_t */
  uint64_t oldest;       /* floor + 1: the oldest index whose changes the log serves */
  uint64_t live_bytes;   /* entries above the floor (what the cap bounds) */
  uint64_t stored_bytes; /* entries on disk, dropped ones included until deleted */
  uint64_t overflows;
  bool base_needed;
} kv_chlog_info_t;

/* ---- serving from one consistent view --------------------------------------------------
 * view is any kv_store_t that does not change while it is read (the shell passes a RocksDB
 * snapshot, kv_rocks_view; tests pass a memstore nobody writes to meanwhile). */

/* Reads the applied index ('M' state) and the log state of view into info. Returns 0
 * (info->enabled false when the view holds no log), or RV_ECORRUPT / a storage code. */
int kv_chlog_view_info(kv_store_t *view, kv_chlog_info_t *info, rv_err_t *err);

/* One row served: key and value borrowed for the call; val NULL when deleted. Returns 0, or a
 * code that stops the serving and is returned as is. */
typedef int (*kv_chlog_row_fn)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
                               size_t vlen);

/* Where a paged read of changes stands. Start with kv_chlog_changes_begin. */
typedef struct {
  uint64_t after; /* the replica's index */
  uint64_t to;    /* the view's applied index: the rows of all pages give the namespace at it */
  uint64_t next;  /* the next entry to read is the first with index >= next */
  uint32_t skip;  /* keys of that entry already served, when it is the one a page stopped in */
  bool done;
} kv_chlog_cursor_t;

/* Page limits: a page stops before a row that would take it past max_bytes (key + value bytes;
 * a page holds at least one row) or max_rows. Both must be > 0. */
typedef struct {
  size_t max_bytes;
  size_t max_rows;
} kv_chlog_limits_t;

/* Starts reading the changes after index after from a view whose info is given. Returns 0,
 * RV_EAGAIN when after > info->applied (this node has not applied that far yet), RV_ENOTFOUND
 * when the view has no log, or RV_ESTALE when after < info->floor (a base copy is needed), each
 * with err set. */
int kv_chlog_changes_begin(const kv_chlog_info_t *info, uint64_t after, kv_chlog_cursor_t *cur,
                           rv_err_t *err);

/* Serves the next page: the post-image (or deletion) of each key named by the entries in
 * (cur->after, cur->to], in log order, each key once per page; *rows and *bytes count what was
 * served. cur->done when no entry is left. Returns 0, a storage code, or what fn returned.
 * The post-images are read in batches of up to KV_CHLOG_READ_BATCH keys (kv_store_multi_get,
 * never more than the rows the page may still take); keys read past the point where the page
 * fills are read again by the next page. */
int kv_chlog_changes_next(kv_store_t *view, kv_chlog_cursor_t *cur, const kv_chlog_limits_t *lim,
                          kv_chlog_row_fn fn, void *arg, size_t *rows, size_t *bytes,
                          rv_err_t *err);

/* A base copy: every namespace-scope key of view with its value, in key order, paged. The
 * cursor is the last key served (caller owns; empty = from the start); *done at the end. */
int kv_chlog_base_next(kv_store_t *view, kv_buf_t *cursor, const kv_chlog_limits_t *lim,
                       kv_chlog_row_fn fn, void *arg, size_t *rows, size_t *bytes, bool *done,
                       rv_err_t *err);

#endif
