/* repl_file_seg: the file backend's immutable data files (base runs and segments) and the few
 * file-system steps every write of it takes. I/O shell.
 *
 * A data file holds records sorted by key, each key once:
 *   "RVSEG001"                                                       header, 8 bytes
 *   per record: be32 crc32c(rest) | u8 flags (1 = deleted) | be32 klen | be32 vlen | key | value
 *   index: every REPL_SEG_INDEX_EVERY-th record: be32 klen | key | be64 offset of the record
 *   footer, 40 bytes: be64 index offset | be64 records | be64 index entries |
 *                     be32 crc32c(index + the footer's first 24 bytes) | be32 0 | "RVSEGEND"
 * A file is written under a temporary name, fsynced and renamed to its final name; the
 * directory is fsynced by the manifest commit that names it (repl_file_put_whole), so it exists
 * whole or not at all by the time anything durable refers to it. The manifest names it with its size and
 * record count, so a truncated or replaced file is caught when it is opened, and a flipped bit
 * by the record's or the index's checksum. Every error names the file's path. */
#ifndef REPL_FILE_SEG_H
#define REPL_FILE_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repl_manifest.h"
#include "rv_error.h"

#define REPL_SEG_INDEX_EVERY 64
#define REPL_SEG_PATH_MAX 4096

/* ---- fault injection (tests) --------------------------------------------------------------
 * Every file-system step of the backend asks the hook first: a non-zero errno from it makes
 * the step fail with that errno, as if the system call had (ENOSPC from a write, EIO from an
 * fsync). op: "open", "write", "fsync", "rename", "link", "mkdir". NULL removes the hook. */
typedef int(repl_file_fault_fn)(void *arg, const char *op, const char *path);
void repl_file_set_fault(repl_file_fault_fn *fn, void *arg);
/* 0, or the errno the hook asks for (internal to the backend). */
int repl_file_fault(const char *op, const char *path);

/* errno -> rv code (ENOSPC/EDQUOT -> RV_ENOSPACE, EACCES/EPERM -> RV_EPERM, else RV_EIO) with
 * err = "PATH: OP: strerror". */
int repl_file_errno(rv_err_t *err, int e, const char *path, const char *op);

/* fsync of a directory (after a rename or link in it). */
int repl_file_sync_dir(const char *dir, rv_err_t *err);

/* Writes data to dir/tmpname, fsyncs it, and links it as dir/name exclusively (EEXIST: another
 * writer made name first: RV_EEXIST, and nothing of ours is left) or renames it (exclusive
 * false); fsyncs the directory. The temporary file is removed on every failure. */
int repl_file_put_whole(const char *dir, const char *tmpname, const char *name, const void *data,
                        size_t len, bool exclusive, rv_err_t *err);

/* ---- writing ------------------------------------------------------------------------------ */
typedef struct repl_seg_writer repl_seg_writer_t;

/* Creates dir/tmpname (must not exist). */
int repl_seg_writer_open(const char *dir, const char *tmpname, repl_seg_writer_t **w,
                         rv_err_t *err);
/* Adds a record; keys strictly increasing (RV_EINVAL otherwise: a caller bug). val NULL when
 * deleted. */
int repl_seg_writer_add(repl_seg_writer_t *w, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, bool deleted, rv_err_t *err);
/* Records added so far. */
uint64_t repl_seg_writer_records(const repl_seg_writer_t *w);
/* Writes index and footer, fsyncs, renames to dir/name; *size and *records of the file. The
 * directory is NOT fsynced here: the manifest commit that names the file does it (after its own
 * link), making every rename before it durable too. Frees the writer whatever the outcome (*w
 * nulled); on failure nothing is left. */
int repl_seg_writer_finish(repl_seg_writer_t **w, const char *name, uint64_t *size,
                           uint64_t *records, rv_err_t *err);
/* Abandons: the temporary file is removed. Safe on NULL. */
void repl_seg_writer_abort(repl_seg_writer_t **w);

/* ---- reading ------------------------------------------------------------------------------ */
typedef struct repl_seg_reader repl_seg_reader_t;

typedef struct {
  const uint8_t *key; /* borrowed until the next call on the reader */
  size_t klen;
  const uint8_t *val;
  size_t vlen;
  bool deleted;
} repl_seg_rec_t;

/* Opens dir/f->name, checks its size against the manifest's, its header, footer and index.
 * RV_ENOTFOUND when the file does not exist (the caller may re-read the manifest: a compaction
 * replaced it), RV_ECORRUPT naming the path and what is wrong, RV_EIO. */
int repl_seg_reader_open(const char *dir, const repl_mfile_t *f, repl_seg_reader_t **r,
                         rv_err_t *err);
/* Positions before the first key above `after` (alen 0: the first key). */
int repl_seg_reader_seek(repl_seg_reader_t *r, const uint8_t *after, size_t alen, rv_err_t *err);
/* The next record, or *eof. RV_ECORRUPT (checksum, order, lengths, count) naming the path. */
int repl_seg_reader_next(repl_seg_reader_t *r, repl_seg_rec_t *rec, bool *eof, rv_err_t *err);
void repl_seg_reader_close(repl_seg_reader_t **r);
const char *repl_seg_reader_path(const repl_seg_reader_t *r);

#endif
