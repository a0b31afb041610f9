/* repl_recover_scan: the loader's backend work (RR_ACT_SCAN of repl_recover_core.h): reads the
 * remote rows after a key in key order (repl_backend_scan) and cuts them into chunks, each one
 * RecoveryRows command's worth (full at chunk_bytes of key + value bytes or chunk_rows rows, never
 * past REPL_RECOVER_CHUNK_HARD but with one row, at least one row). Blocking (the backend's network or disk): the loader runs it on its worker
 * thread, never on the actor's loop. The test of the loader runs it against a fake backend. */
#ifndef REPL_RECOVER_SCAN_H
#define REPL_RECOVER_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repl_backend.h"
#include "repl_recover_core.h"

/* A chunk holds more than one row only while its key + value bytes (and the command's per-row
 * overhead) stay within this: a RecoveryRows command stays well inside a kv command (4 MiB)
 * and an ApplyBatch inside an envelope (8 MiB). A single row may be larger (a big content). */
#define REPL_RECOVER_CHUNK_HARD (2u << 20)

/* One chunk: its rows live in arena (key then value, back to back). Owned by whoever holds it:
 * repl_chunk_destroy. */
typedef struct {
  size_t koff, klen, voff, vlen;
} repl_chunk_row_t;

typedef struct {
  rr_chunk_t info; /* id, rows, bytes, last key */
  repl_chunk_row_t *rows;
  size_t nrows, caprows;
  uint8_t *arena;
  size_t len, cap;
} repl_chunk_t;

void repl_chunk_destroy(repl_chunk_t **c);

/* Scans the rows of meta's generation after `after` into at most max_chunks new chunks
 * numbered from first_id, put in out[0..*n) (caller owns each; out holds max_chunks). *done is
 * set when the source has no rows after the last one. Returns 0, or the backend's code
 * (RV_ESTALE: the generation was replaced; RV_ECORRUPT, RV_EUNAVAIL, ...) with err set, and
 * then *n is 0 (nothing is kept). */
int repl_recover_scan(repl_backend_t *b, const repl_meta_t *meta, const rr_key_t *after,
                      uint64_t first_id, size_t max_chunks, size_t chunk_bytes,
                      size_t chunk_rows, repl_chunk_t **out, size_t *n, bool *done,
                      rv_err_t *err);

#endif
