/* raft_store: raft-peer's durable log and hard state (I/O shell): a log of its own, in
 * pre-written, recycled segment files under <data-dir>/raft.
 *
 * Why not RocksDB any more. The log was a RocksDB instance; its WAL gave checksummed records and
 * a recovery mode (kTolerateCorruptedTailRecords) that drops a torn tail but refuses damage in
 * the middle. But RocksDB turns WAL recycling off in that mode (it cannot tell an old record from
 * a new one in a reused file), so every append went to fresh space, and an fdatasync after
 * appending to fresh space costs about twice one after overwriting space already written: the
 * file size changes, so ext4 also writes the inode (a journal commit: two device writes, two VM
 * exits). On top, every entry went through a memtable, was flushed and compacted, although it is
 * written once and deleted later. Profiles of raft-peer showed its time in fdatasync
 * (ext4_write_inode), memtable inserts and WAL writes. Measured on the development VM (2 shared
 * cores, ext4, busy with other work: ranges over alternating runs):
 *   150-byte pwrite + fdatasync:  appending 2555-2830/s, overwriting pre-written 3982-5132/s
 *   rv-bench-raft-store, 100-byte entries, one fdatasync per save, RocksDB -> this log:
 *     1 entry per save:    2892-3291 -> 4166-5064 saves/s, p99 2.8-3.4 -> 2.1-2.6 ms
 *     64 entries per save: 1628-2171 -> 3969-4731 saves/s, p99 4.0-4.9 -> 2.3-2.8 ms
 *   rv-bench-raft (three nodes, 256-byte entries), 5 rounds, median (range), commits/s:
 *     1 proposer 618 (578-751) -> 815 (688-846); 64 proposers 20575 (16963-25056) -> 24116
 *     (22351-29691)
 *
 * Files (dir = <data-dir>/raft):
 *   seg-<seq>.log    a segment in use; seq is a 64-bit sequence number (16 hex digits), never
 *                    reused. Segments are written front to back, one record after another.
 *   spare-<id>.log   a segment ready for use: zeros really written and fsynced (file and
 *                    directory), or a recycled segment. Taking one is a rename.
 *   tmp-<id>.zero    a spare being prepared; removed when found at open.
 *   lock             flock()ed while open: one process per log.
 * Overwriting space that is already written does not change the file size, so fdatasync writes
 * the data only, not the inode; that is the whole point of pre-writing.
 *
 * Records: a 24-byte header, then the payload, padded to 8 bytes:
 *   crc32 (zlib) | payload length | generation (the segment's seq) | type | 7 zero bytes
 * The CRC covers the record's file offset, the rest of the header, the payload and the padding
 * (every byte of a record counts). The generation makes a record left in a recycled file by its
 * previous use "old": only records of the segment's own sequence number count. Types:
 *   checkpoint  first in every segment: identity (cluster id, node id; another's log is refused),
 *               the hard state, the snapshot metadata, and the last index when the previous
 *               segment ended. So recovery never needs a recycled segment for anything but the
 *               entries it held.
 *   update      one per raft_store_save (and one per raft_store_compact): a list of operations
 *               (snapshot install, truncate-and-append entries, hard state, compaction point),
 *               written by one pwritev and made durable by one fdatasync. All or nothing, by its
 *               CRC.
 *   seal        last in a segment that was rolled over: the last index; fsynced before the next
 *               segment is used.
 * A save without must_sync (raft_core asks that only for a commit-index-only change, which may
 * be lost) is not written at once: it joins the next record written. So every record is made
 * durable before the next is written: at most one record, the last, can be half-written by a
 * crash, and out-of-order page write-back cannot make an earlier record invalid behind a later
 * valid one.
 *
 * Recovery (at open): the segments with consecutive sequence numbers ending at the newest are
 * replayed oldest first (segments before a gap are left-overs of an interrupted recycling: they
 * are recycled; if they held anything still needed, the contiguity check below refuses).
 *   - every segment starts with a valid checkpoint of the right identity, format and state;
 *   - a segment other than the newest must be sealed and every record in it valid: anything else
 *     is damage in the middle of the log, refused with RV_ECORRUPT naming file and offset;
 *   - in the newest, the first invalid record is a torn tail (a write that never returned, so
 *     was never acknowledged) only if no valid record of its generation follows anywhere in the
 *     segment (every 8-byte offset is tried); otherwise RV_ECORRUPT. The torn record's bytes
 *     are zeroed and fsynced, and appending continues there. A newest segment whose checkpoint
 *     never made it (a crash inside a roll-over) gets it rewritten from the sealed segment
 *     before it; a newest segment that is sealed (a crash just after sealing) is rolled over;
 *   - the entries after the snapshot must be contiguous (a gap is RV_ECORRUPT).
 * Acknowledged records are never silently dropped: the operator is told to wipe the node's
 * data-dir so it rejoins from its peers.
 *
 * Spares and recycling. A segment is rolled over when the next record does not fit; the new one
 * comes from the pool of spares, or, when the pool is empty, is prepared on the spot (zeros
 * written and synced: a stall of one segment's write, which the background preparation below
 * makes rare). A small background thread (it only writes zero files under a temporary name and
 * renames them into the pool) prepares a spare once the current segment is half full and the
 * pool has none: off the hot path, with half a segment of time to finish. It writes each MiB
 * back as it goes (sync_file_range), so its final fsync never holds up the log's fdatasyncs
 * behind 64 MiB of dirty zeros. Segments grow from 1 MiB, doubling up to segment_bytes, so a
 * node that writes little (tests, a fresh cluster) never writes 64 MiB of zeros. Compaction
 * recycles every segment whose entries are all covered by the compaction point (a snapshot
 * install in raft_store_save, every segment before it): renamed into the pool while it holds
 * fewer than `spares` of full size, deleted otherwise. No migration from the RocksDB log: a
 * <data-dir>/raft holding one (a CURRENT file) is refused, and the node's data-dir must be wiped.
 *
 * Errors: ENOSPC is RV_ENOSPACE (only preparing a segment needs new space: a full disk stops
 * the log at its next roll-over, and writes resume once space is freed); other I/O errors are
 * RV_EIO. After a failed write or fdatasync the file's state is unknown (Linux may have dropped
 * the dirty pages), so the store refuses every later write (raft_store_failed) until it is
 * reopened, which recovers from what really is on disk (raft-peer then exits with
 * RV_EXIT_TEMPFAIL, and the supervisor restarts it).
 *
 * Not thread-safe: one thread calls these functions (the background thread is internal). */
#ifndef RAFT_STORE_H
#define RAFT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "raft_core.h"

typedef struct raft_store raft_store_t;

/* What a fault-injection hook is asked about (testing, in the spirit of SQLite's fault VFS). */
typedef enum {
  RAFT_STORE_IO_WRITE = 1, /* a record or zeros written into a segment */
  RAFT_STORE_IO_SYNC,      /* fdatasync of a segment, or fsync of the directory (file NULL) */
  RAFT_STORE_IO_PREPARE,   /* creating a spare segment (called from either thread) */
} raft_store_io_t;

/* Called before each such operation with the file's name (NULL for the directory) and offset.
 * Returns 0 to let it happen, or an errno value to fail it as the system call would. For a
 * write, it may first lower *len: only that prefix is written, then the write fails with the
 * errno returned (EIO if 0): a torn write. Must be thread-safe. */
typedef int raft_store_fault_fn(void *arg, raft_store_io_t op, const char *file, uint64_t off,
                                size_t *len);

typedef struct {
  uint64_t segment_bytes;     /* largest segment; 64 KiB .. 1 GiB, default 64 MiB */
  unsigned spares;            /* spare segments kept in the pool, 1..8, default 2 */
  raft_store_fault_fn *fault; /* testing: NULL in production */
  void *fault_arg;
} raft_store_options_t;

/* The defaults above. */
void raft_store_options_default(raft_store_options_t *o);

/* Opens (creating if needed) the log in dir and recovers it (see the top of this file). cluster
 * and node identify it: a log written by another cluster or node id is refused (RV_ESTALE)
 * rather than mixed in. opts may be NULL (defaults); it is copied. Returns 0; RV_ECORRUPT with
 * err naming the file, offset and what to do; RV_ECONFIG for a log of another format (a RocksDB
 * log of an older build) or bad options; RV_EBUSY when another process has it open; RV_EIO or
 * RV_ENOSPACE. On failure *out is NULL. */
int raft_store_open(const char *dir, const char *cluster, raft_id_t node,
                    const raft_store_options_t *opts, raft_store_t **out, rv_err_t *err);

/* Writes any deferred (unsynced) save, closes; nulls *s; safe on NULL and twice. */
void raft_store_close(raft_store_t **s);

/* Hands over the state recovered at open, for raft_core_new: hard state, snapshot metadata, and
 * the entries after the snapshot (contiguous). st->entries and their data are owned by st: free
 * with raft_store_state_free. st->applied is left 0 (the state machine knows its own). Call it
 * once, right after open: RV_EINVAL otherwise (at run time the core holds the log). */
int raft_store_load(raft_store_t *s, raft_storage_state_t *st, rv_err_t *err);
void raft_store_state_free(raft_storage_state_t *st);

/* Makes the durable part of an update durable, as one record: the snapshot metadata (dropping
 * the whole log), the entries (dropping any persisted entry at or after entries[0].index first;
 * entries must be consecutive and start at most one past the last index), the hard state. When
 * u->must_sync it is written and fdatasync'ed before returning; otherwise it is kept and written
 * with the next record (a crash may lose it). Returns 0, RV_EINVAL for entries that do not follow
 * the log, or RV_EIO / RV_ENOSPACE; on failure nothing of the update is durable and the caller
 * must not acknowledge anything (it may retry the same update). u is borrowed. */
int raft_store_save(raft_store_t *s, const raft_update_t *u, rv_err_t *err);

/* Records a compaction (meta from raft_core_compact), durably, and recycles the segments it
 * covers whole. A meta not newer than the current snapshot is ignored. Returns as save. */
int raft_store_compact(raft_store_t *s, const raft_snapshot_meta_t *meta, rv_err_t *err);

/* The last persisted entry index (0 when the log is empty); counts deferred saves. */
raft_index_t raft_store_last_index(const raft_store_t *s);

/* True after a write or sync failed: every later save fails until the store is reopened. */
bool raft_store_failed(const raft_store_t *s);

/* Diagnostics and tests: the segment appended to and the offset of the next record in it. */
void raft_store_position(const raft_store_t *s, uint64_t *seq, uint64_t *offset);

#endif
