/* repl_backend_fake: an in-memory remote copy implementing the read side of repl_backend.h
 * (open, close, describe, read_meta, scan) for the loader's tests, with faults on demand:
 * pages of at most page_rows rows, the generation replaced between two scans (RV_ESTALE, as a
 * real backend that checks the meta row), the next call failing with a given code. */
#ifndef REPL_BACKEND_FAKE_H
#define REPL_BACKEND_FAKE_H

#include "repl_backend.h"

/* A fake (repl_backend_close frees it), with no meta row until repl_fake_set. */
repl_backend_t *repl_fake_new(void);
/* Replaces the current generation: rows (copied; they need not be sorted) become generation
 * gen, and the meta row says synced_index, rows and bytes. */
void repl_fake_set(repl_backend_t *b, const char *cluster, uint64_t gen, uint64_t synced_index,
                   const repl_row_t *rows, size_t n);
/* Rows given per scan call at most (0 = no limit but max_rows). */
void repl_fake_page_rows(repl_backend_t *b, size_t page_rows);
/* The next read_meta or scan fails with code (once). */
void repl_fake_fail_next(repl_backend_t *b, int code);
/* Calls so far. */
unsigned long repl_fake_scans(const repl_backend_t *b);

#endif
