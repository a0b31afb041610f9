/* repl_recover_scan: remote rows after a key, cut into RecoveryRows-sized chunks. Calls the
 * backend (blocking): run it off the actor's loop. */
#include "repl_recover_scan.h"

#include <stdlib.h>
#include <string.h>

#define S_FULL (-100) /* the callback's "this chunk is full": not an rv code */
#define S_ROW_OVERHEAD 6 /* what a RecoveryRows command adds per row (kv_recovery.h) */

void repl_chunk_destroy(repl_chunk_t **cp) {
  if (!cp || !*cp) return;
  free((*cp)->rows);
  free((*cp)->arena);
  free(*cp);
  *cp = NULL;
}

typedef struct {
  repl_chunk_t *c;
  size_t max_bytes, max_rows;
} s_fill_t;

static bool s_grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 256;
  while (c < need) c *= 2;
  void *np = realloc(*p, c * elem);
  if (!np) return false;
  *p = np;
  *cap = c;
  return true;
}

static int s_fill(void *arg, const repl_row_t *row) {
  s_fill_t *f = arg;
  repl_chunk_t *c = f->c;
  if (row->deleted) return 0; /* a generation's scan holds no deletions; be safe */
  if (row->klen == 0 || row->klen > RR_KEY_MAX) return RV_ECORRUPT;
  /* a row that would take the chunk past its hard bound starts the next chunk: it is not
   * kept, and the next scan starts after the last row kept, so it is read again there */
  if (c->nrows && c->info.bytes + (c->nrows + 1) * S_ROW_OVERHEAD + row->klen + row->vlen >
                      REPL_RECOVER_CHUNK_HARD)
    return S_FULL;
  if (!s_grow((void **)&c->rows, &c->caprows, c->nrows + 1, sizeof *c->rows) ||
      !s_grow((void **)&c->arena, &c->cap, c->len + row->klen + row->vlen, 1))
    return RV_ENOMEM;
  repl_chunk_row_t *r = &c->rows[c->nrows++];
  r->koff = c->len;
  r->klen = row->klen;
  memcpy(c->arena + c->len, row->key, row->klen);
  c->len += row->klen;
  r->voff = c->len;
  r->vlen = row->vlen;
  if (row->vlen) memcpy(c->arena + c->len, row->val, row->vlen);
  c->len += row->vlen;
  c->info.rows++;
  c->info.bytes += row->klen + row->vlen;
  memcpy(c->info.last.b, row->key, row->klen);
  c->info.last.len = row->klen;
  return c->info.bytes >= f->max_bytes || c->nrows >= f->max_rows ? S_FULL : 0;
}

int repl_recover_scan(repl_backend_t *b, const repl_meta_t *meta, const rr_key_t *after,
                      uint64_t first_id, size_t max_chunks, size_t chunk_bytes,
                      size_t chunk_rows, repl_chunk_t **out, size_t *n, bool *done,
                      rv_err_t *err) {
  *n = 0;
  *done = false;
  rv_err_clear(err);
  rr_key_t from = *after;
  size_t row_avg = 64; /* key + value bytes per row: a guess, then the last chunk's */
  uint8_t last[REPL_KEY_MAX];
  size_t last_len = 0;
  int rc = RV_OK;
  while (*n < max_chunks && !*done) {
    repl_chunk_t *c = calloc(1, sizeof *c);
    if (!c) {
      rc = rv_err_set(err, RV_ENOMEM, "recovery scan: out of memory");
      break;
    }
    c->info.id = first_id + *n;
    s_fill_t f = {c, chunk_bytes, chunk_rows};
    /* a chunk may take several backend pages: ask again until it is full or the rows end */
    while (!*done) {
      size_t before = c->nrows;
      const rr_key_t *k = c->nrows ? &c->info.last : &from;
      /* ask the backend for about the rows that fill the chunk's bytes, not its row cap: a
       * Tablestore page of 5,000 rows (1.8 MB, seconds on a loaded host) for a 4 KiB chunk
       * made the recovery load 8 rows/s, the rest of each page read and thrown away */
      size_t avg = c->nrows ? (size_t)(c->info.bytes / c->nrows) : row_avg;
      if (avg < 16) avg = 16;
      size_t left = chunk_bytes > c->info.bytes ? (size_t)(chunk_bytes - c->info.bytes) : 1;
      size_t want = left / avg + left / (avg * 8) + 2; /* 12% over: rarely a second page */
      if (want > chunk_rows - c->nrows) want = chunk_rows - c->nrows;
      rc = repl_backend_scan(b, meta, k->b, k->len, want, s_fill, &f, last, &last_len, done,
                             err);
      if (rc == S_FULL) { /* stopped by us: whether rows follow, the next scan says (a row
                             left out may have been the last one) */
        rc = RV_OK;
        *done = false;
        break;
      }
      if (rc) break;
      if (c->nrows == before && !*done) { /* no progress and not done: a backend bug */
        rc = rv_err_set(err, RV_EPROTO, "recovery scan: the backend gave no row and no end");
        break;
      }
      if (c->nrows >= chunk_rows) break;
    }
    if (rc) {
      repl_chunk_destroy(&c);
      break;
    }
    if (c->nrows == 0) { /* the end came exactly at the previous chunk's last row */
      repl_chunk_destroy(&c);
      break;
    }
    from = c->info.last;
    row_avg = (size_t)(c->info.bytes / c->nrows);
    out[(*n)++] = c;
  }
  if (rc) {
    if (rc == RV_ECORRUPT && !err->msg[0])
      rv_err_set(err, rc, "recovery scan: a remote key is empty or longer than %d bytes",
                 RR_KEY_MAX);
    else if (rc == RV_ENOMEM && !err->msg[0])
      rv_err_set(err, rc, "recovery scan: out of memory");
    for (size_t i = 0; i < *n; i++) repl_chunk_destroy(&out[i]);
    *n = 0;
    *done = false;
  }
  return rc;
}
