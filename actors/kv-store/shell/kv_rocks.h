/* kv_rocks: the kv_store_t the kv-store actor runs on: one RocksDB database.
 *
 * - write: the core's batch becomes one rocksdb WriteBatch and one rocksdb_write, so the
 *   changes of a command and the applied index it carries land together or not at all (the WAL
 *   makes that survive a crash at any instant). With sync on (the default, and what production
 *   runs) the WAL is fsynced before the write returns; the shell batches several log entries
 *   per write (kv_core_apply_batch) to amortise it. With sync off, a process crash loses
 *   nothing (the WAL is in the OS page cache) but an OS crash may lose the last writes, which
 *   Raft replays: the applied index and the contents still agree.
 * - get / scan: point reads and an ordered iterator (bytewise comparator, bloom filters on the
 *   point lookups that path resolution makes).
 * - checkpoint: a consistent copy of the database in a new directory (hard links where the file
 *   system allows), the base of Raft snapshots.
 * RocksDB error strings are converted to RV_EIO with the text in err. kv_rocks_new turns
 * RocksDB's per-operation perf counters off for the calling thread (the actor's loop). I/O
 * shell: not pure. Not thread-safe (one actor loop), except a view (kv_rocks_view_new) handed to
 * another thread. */
#ifndef KV_ROCKS_H
#define KV_ROCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "kv_store.h"
#include "rv_error.h"

typedef struct kv_rocks kv_rocks_t;

typedef struct {
  const char *path;          /* database directory (borrowed during kv_rocks_new) */
  bool sync;                 /* fsync the WAL on every write; default true */
  bool create_if_missing;    /* default true */
  size_t write_buffer_bytes; /* one memtable's size; default (and 0) 4 MiB, eight merged into
                                each L0 file (see kv_rocks_new for the measurements) */
  size_t block_cache_bytes;  /* 0 = RocksDB's default */
} kv_rocks_opts_t;

/* Defaults as documented on each field (path NULL: the caller sets it). */
void kv_rocks_opts_default(kv_rocks_opts_t *o);

/* Opens (creating when allowed) the database at o->path. Returns 0 and *out (caller owns;
 * kv_rocks_destroy), or RV_EINVAL (no path) / RV_EIO (RocksDB's message in err). */
int kv_rocks_new(const kv_rocks_opts_t *o, kv_rocks_t **out, rv_err_t *err);

/* Closes the database (without forcing a memtable flush: the WAL holds what is not in SST
 * files) and nulls *r; safe on NULL and twice. */
void kv_rocks_destroy(kv_rocks_t **r);

/* The kv_store_t interface (borrowed; valid while r lives). */
kv_store_t *kv_rocks_store(kv_rocks_t *r);

/* Turns RocksDB's per-operation perf counters off for the calling thread, as kv_rocks_new does
 * for its caller's: call it first in a thread that reads a view. */
void kv_rocks_thread_setup(void);

/* Changes the sync setting for later writes. */
void kv_rocks_set_sync(kv_rocks_t *r, bool sync);

/* Writes a consistent checkpoint of the database into dir, which must not exist (RocksDB
 * creates it). Returns 0 or RV_EIO. The checkpoint opens as a database with kv_rocks_new. */
int kv_rocks_checkpoint(kv_rocks_t *r, const char *dir, rv_err_t *err);

/* A reader of one consistent view of the whole database (a RocksDB snapshot and an iterator
 * over it), for streaming a Raft snapshot: writes made after kv_rocks_reader_new are not seen.
 * The reader borrows r: destroy it before r. */
typedef struct kv_rocks_reader kv_rocks_reader_t;

/* Opens a reader at the database's current state. Returns 0 and *out (caller owns; destroy
 * with kv_rocks_reader_destroy), or RV_ENOMEM. */
int kv_rocks_reader_new(kv_rocks_t *r, kv_rocks_reader_t **out, rv_err_t *err);

/* Appends the next pairs, in key order, to out (kv_snap.h format) until out holds at least
 * target bytes or the keys run out (*last = true). Returns 0, RV_EIO, RV_ENOMEM, or RV_ETOOBIG
 * for a pair kv_snap cannot carry. */
int kv_rocks_reader_next(kv_rocks_reader_t *rd, kv_buf_t *out, size_t target, bool *last,
                         rv_err_t *err);

/* Leaves out every key whose first byte is first_byte (a node-local table: the change log
 * never travels in a Raft snapshot). Call before the first kv_rocks_reader_next. */
void kv_rocks_reader_skip(kv_rocks_reader_t *rd, uint8_t first_byte);

/* Releases the view; nulls *rd; safe on NULL and twice. */
void kv_rocks_reader_destroy(kv_rocks_reader_t **rd);

/* A read-only kv_store_t over one consistent view (a RocksDB snapshot) of the database, for
 * serving the replica's changes and base copies (kv_chlog.h) in pages: writes made after
 * kv_rocks_view_new are not seen; its write fails with RV_EINVAL. Borrows r: destroy it first.
 * Pins the view's data (compaction keeps what it needs): release it when done or idle. */
typedef struct kv_rocks_view kv_rocks_view_t;
int kv_rocks_view_new(kv_rocks_t *r, kv_rocks_view_t **out, rv_err_t *err);
kv_store_t *kv_rocks_view_store(kv_rocks_view_t *v);
void kv_rocks_view_destroy(kv_rocks_view_t **v);
/* A view may be read from another thread than the one that made it (the replica's reader,
 * kv_repl_reader.c), one thread at a time, while r's owner writes: RocksDB's reads and writes
 * are thread-safe, and the view sees none of the writes. Destroy it before r. */

/* How a view's multi_get (kv_store.h) reads its keys: one Get per key, RocksDB's MultiGet, or
 * one iterator walked through the keys in key order (a seek only when the next key is more than
 * a few keys further). Measured by kv_repl_bench (CPU per row of ReplChanges pages after 300,000
 * creates, blocks cached): MultiGet 1.8-2.1 us, Get the same within noise, the walk 2.2-2.5 us
 * (five nexts per row: the keys a page names are not dense enough); with blocks not cached the
 * walk is some 8% cheaper than Get, and both cost twice as much. Hence MultiGet, cached. */
typedef enum { KV_ROCKS_READ_GET, KV_ROCKS_READ_MULTIGET, KV_ROCKS_READ_WALK } kv_rocks_read_t;
#define KV_ROCKS_READ_DEFAULT KV_ROCKS_READ_MULTIGET
/* Sets v's way of reading its point reads (get, multi_get), and whether the blocks they read
 * go into the block cache (default yes; scans never cache). kv_repl_bench compares them; the
 * actor keeps the defaults. */
void kv_rocks_view_set_read(kv_rocks_view_t *v, kv_rocks_read_t read, bool fill_cache);
/* The walk's seeks and nexts so far (for the benchmark). */
void kv_rocks_view_counts(const kv_rocks_view_t *v, uint64_t *seeks, uint64_t *steps);

/* RocksDB's estimate of the keys in the database (progress of a base copy). */
unsigned long long kv_rocks_estimate_keys(kv_rocks_t *r);

/* Flushes the memtables to SST files (tests, and before a checkpoint when the WAL is long).
 * Waits for the flush: hundreds of ms for a full memtable, so never on a busy actor's loop. */
int kv_rocks_flush(kv_rocks_t *r, rv_err_t *err);

/* Makes every write so far durable by syncing RocksDB's write-ahead log: one fsync, however
 * much the memtables hold. */
int kv_rocks_sync_wal(kv_rocks_t *r, rv_err_t *err);

/* Background WAL syncs (issue 11: an fsync never runs on the actor's loop). kv_rocks_sync_start
 * asks r's sync thread (started at the first call, joined by kv_rocks_destroy) to sync the WAL,
 * remembering tag (the caller's applied index: every write made before the call is in the WAL,
 * so the sync makes it durable); when the sync ends the thread adds 1 to the eventfd efd
 * (borrowed, the caller's: it polls it) and kv_rocks_sync_take gives the outcome. Writes go on
 * meanwhile (RocksDB's SyncWAL is safe with concurrent writes). One sync at a time: start
 * returns RV_EBUSY while one runs, RV_ENOMEM / RV_EINTERNAL if the thread cannot start. */
int kv_rocks_sync_start(kv_rocks_t *r, uint64_t tag, int efd, rv_err_t *err);
/* The outcome of the ended sync: true (and *tag, *rc: 0 or RV_EIO with err) once, false while
 * it runs or when none was started. */
bool kv_rocks_sync_take(kv_rocks_t *r, uint64_t *tag, int *rc, rv_err_t *err);

/* How long the last write took (µs), and how many keys it wrote into *keys (may be NULL). */
uint64_t kv_rocks_last_write_us(const kv_rocks_t *r, size_t *keys);

/* What may stall writes now (L0 files, immutable memtables, stopped or delayed writes), as one
 * line for a log message. */
void kv_rocks_describe_stall(kv_rocks_t *r, char *buf, size_t len);

/* Successful writes since open. */
unsigned long long kv_rocks_writes(const kv_rocks_t *r);

/* ---- bulk loading a fresh database (snapshot install) ----------------------------------------
 * Keys given in strictly increasing order (a snapshot stream is one ordered scan) go straight
 * into SST files under <path>/ingest/ (no memtable, WAL, flush or compaction: a put never waits
 * for RocksDB's background work, which under a 150 MB install stalled the actor's loop past the
 * supervisor's hang timeout); kv_rocks_loader_finish creates the database at <path>, ingests the
 * files (moved, synced) and closes it. An abandoned loader leaves files under <path> for the
 * caller to remove. */
typedef struct kv_rocks_loader kv_rocks_loader_t;

/* Starts a load into path (which must not exist yet; created). file_bytes: target size of each
 * SST file (0 = 64 MiB). Returns 0, RV_EIO or RV_ENOMEM with err naming the path. */
int kv_rocks_loader_new(const char *path, size_t file_bytes, kv_rocks_loader_t **out,
                        rv_err_t *err);
/* Adds one pair; keys must increase strictly (else RV_EINVAL naming the position). */
int kv_rocks_loader_put(kv_rocks_loader_t *l, const void *key, size_t klen, const void *val,
                        size_t vlen, rv_err_t *err);
/* Finishes the last file, creates the database and ingests every file. Returns 0 or RV_EIO. */
int kv_rocks_loader_finish(kv_rocks_loader_t *l, rv_err_t *err);
/* Pairs added so far. */
unsigned long long kv_rocks_loader_pairs(const kv_rocks_loader_t *l);
/* Frees the loader (not the files); nulls *l; safe on NULL and twice. */
void kv_rocks_loader_destroy(kv_rocks_loader_t **l);

/* The database's size in bytes: its SST files and memtables (RocksDB's properties). */
uint64_t kv_rocks_size(kv_rocks_t *r);

/* An integer property of the database ("rocksdb.is-write-stopped", ...); 0 if unknown. */
uint64_t kv_rocks_property(kv_rocks_t *r, const char *name);

#endif
