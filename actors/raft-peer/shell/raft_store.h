/* raft_store: raft-peer's durable log and hard state (I/O shell), in a RocksDB instance of its
 * own under <data-dir>/raft.
 *
 * Why RocksDB rather than hand-written segment files: its write-ahead log already does what a
 * Raft log needs (checksummed records, group commit of concurrent batches, one fdatasync per
 * batch), and its recovery mode kTolerateCorruptedTailRecords drops a torn tail (a write that
 * never returned, so was never acknowledged) but refuses to open past damage in the middle,
 * which is exactly "a torn tail is detected, not silently used". The data stays small: entries
 * are deleted once compacted.
 * Known cost: RocksDB turns WAL recycling off in that recovery mode (it cannot tell an old
 * record from a new one in a recycled file), so appends go to fresh space, which costs about
 * twice the fsync of overwriting on these machines. A segment log of our own with recycled,
 * pre-written segments and per-record generation numbers would win that back; measure first.
 *
 * Layout (keys; integers big-endian in keys, little-endian in values):
 *   'i'            identity: cluster id and node id; a log of another cluster or node is refused
 *   'h'            hard state: term, vote, commit
 *   's'            snapshot metadata: index, term, configuration (the compaction point)
 *   'e' + index    one entry: term, type, data
 * Every update is one WriteBatch: snapshot metadata, truncation and entries, hard state, so a
 * crash leaves either all of an update or none of it. */
#ifndef RAFT_STORE_H
#define RAFT_STORE_H

#include <stdbool.h>

#include "raft_core.h"

typedef struct raft_store raft_store_t;

/* Opens (creating if needed) the log in dir. cluster and node identify it: a log written by
 * another cluster or node id is refused (RV_ESTALE) rather than mixed in. Returns 0, RV_EIO, or
 * RV_ECORRUPT with err naming the directory and RocksDB's reason. */
int raft_store_open(const char *dir, const char *cluster, raft_id_t node, raft_store_t **out,
                    rv_err_t *err);

/* Closes; nulls *s; safe on NULL and twice. */
void raft_store_close(raft_store_t **s);

/* Reads back the durable state for raft_core_new: hard state, snapshot metadata, and the
 * entries after the snapshot, which must be contiguous (a gap is RV_ECORRUPT). st->entries and
 * their data are owned by st: free with raft_store_state_free. st->applied is left 0 (the state
 * machine knows its own). */
int raft_store_load(raft_store_t *s, raft_storage_state_t *st, rv_err_t *err);
void raft_store_state_free(raft_storage_state_t *st);

/* Makes the durable part of an update durable, in one batch: the snapshot metadata (dropping the
 * whole log), the entries (dropping any persisted entry at or after entries[0].index first), the
 * hard state. Syncs (fdatasync of the WAL) when u->must_sync. Returns 0 or RV_EIO / RV_ENOSPACE;
 * on failure nothing of the batch is durable, and the caller must not acknowledge anything. */
int raft_store_save(raft_store_t *s, const raft_update_t *u, rv_err_t *err);

/* Records a compaction (meta from raft_core_compact) and deletes the entries it covers. */
int raft_store_compact(raft_store_t *s, const raft_snapshot_meta_t *meta, rv_err_t *err);

/* The last persisted entry index (0 when the log is empty). */
raft_index_t raft_store_last_index(const raft_store_t *s);

#endif
