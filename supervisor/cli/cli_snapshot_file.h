/* cli_snapshot_file: the snapshot file of `raftvisor snapshot save|status|restore`: a
 * consistent image of a node's namespace store, with the Raft index and term it reflects, the
 * cluster it came from and checksums, written and read as a stream (memory is bounded by one
 * block, whatever the size of the namespace).
 *
 * Format version 1 (integers little-endian):
 *   header   magic "RVSNAP\r\n" (8) | version u32 | field bytes u32 | index u64 | term u64 |
 *            created_ms u64 (Unix ms) | store_format u64 (the namespace store's, kv_schema.h) |
 *            cluster: u16 length + bytes | node: u16 length + bytes | CRC-32 of all before u32
 *   blocks   length u32 (1..CLI_SNAP_BLOCK_MAX) | CRC-32 of the bytes u32 | bytes: whole pairs in
 *            kv_snap.h's encoding, keys strictly increasing across the whole file
 *   end      length 0 u32 | 0 u32 | pairs u64 | pair bytes u64 | namespace digest u64 (the
 *            digest `raftvisor fs -digest` prints, of the same keys) | CRC-32 of every byte of
 *            the file before this field u32 | magic "RVSNEND\n" (8)
 * Every later version keeps the header's frame (magic, version, field bytes up to 4096, fields,
 * CRC-32), so a reader checks the header's CRC before it believes the version. Every byte is
 * covered by a checksum; a reader refuses, naming the byte offset: another file
 * (magic), a newer version (naming both), a damaged header or block, pairs that do not decode or
 * are out of order, a file that ends early (truncated), totals that disagree, bytes after the
 * end. Not thread-safe; I/O (files), pure otherwise. */
#ifndef CLI_SNAPSHOT_FILE_H
#define CLI_SNAPSHOT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

#define CLI_SNAP_VERSION 1u                 /* the format this build writes and reads */
#define CLI_SNAP_BLOCK_MAX (16u << 20)      /* largest block a reader takes */
#define CLI_SNAP_NAME_MAX 63                /* cluster and node names */

typedef struct {
  uint32_t version;                     /* read: the file's; written: CLI_SNAP_VERSION */
  uint64_t index, term;                 /* the Raft index the image reflects, its entry's term */
  uint64_t created_ms;
  uint64_t store_format;
  char cluster[CLI_SNAP_NAME_MAX + 1];  /* the source's cluster.id */
  char node[CLI_SNAP_NAME_MAX + 1];     /* the node that served it */
} cli_snap_header_t;

/* What a whole file holds (after a write, or a full read that verified it). */
typedef struct {
  cli_snap_header_t h;
  uint64_t pairs, pair_bytes;
  uint64_t digest;     /* FNV-1a 64 of the namespace (kv_digest_pair, KV_DIGEST_NAMESPACE) */
  uint64_t dirs_files; /* entries of the namespace (attribute keys: directories + files) */
  uint64_t file_bytes;
  uint32_t crc;        /* the file's CRC-32 */
} cli_snap_summary_t;

typedef struct cli_snap_writer cli_snap_writer_t;

/* Starts writing path: the bytes go to "<path>.part" (created; an existing one is replaced),
 * which cli_snap_writer_finish fsyncs and renames over path. h is copied (version is set).
 * Returns 0, RV_EINVAL (names too long), RV_EIO with err naming the file. */
int cli_snap_writer_open(const char *path, const cli_snap_header_t *h, cli_snap_writer_t **out,
                         rv_err_t *err);
/* Appends one block of pairs (borrowed), checking that they decode and continue the key order.
 * Returns 0, RV_EDECODE (bad pairs: nothing written), RV_EIO. */
int cli_snap_writer_block(cli_snap_writer_t *w, const void *pairs, size_t len, rv_err_t *err);
/* Writes the end, fsyncs the file, renames it to path and fsyncs the directory. *sum (may be
 * NULL) gets what was written. Returns 0 or RV_EIO. */
int cli_snap_writer_finish(cli_snap_writer_t *w, cli_snap_summary_t *sum, rv_err_t *err);
/* Bytes written so far. */
uint64_t cli_snap_writer_bytes(const cli_snap_writer_t *w);
/* Closes; an unfinished file's "<path>.part" is removed. Nulls *w; safe on NULL and twice. */
void cli_snap_writer_destroy(cli_snap_writer_t **w);

/* Called for each pair in file order; key and value are borrowed for the call. Non-zero stops
 * the read (returned as is, err set by the callee). */
typedef int cli_snap_pair_fn(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                             rv_err_t *err);

/* Reads and verifies the whole file, calling fn (may be NULL) for every pair, in order: pairs
 * are handed over before the end is verified, so a caller that must not act on a bad file reads
 * it twice (verify with fn NULL, then use). *sum is filled on success. Returns 0; RV_ENOTFOUND
 * or RV_EIO (cannot read); RV_ECORRUPT naming the offset (another file, damage, truncation);
 * RV_ECONFIG for a newer format version than this build's; or fn's code. */
int cli_snap_read(const char *path, cli_snap_pair_fn *fn, void *arg, cli_snap_summary_t *sum,
                  rv_err_t *err);

#endif
