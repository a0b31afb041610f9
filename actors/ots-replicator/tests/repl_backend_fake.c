/* repl_backend_fake: an in-memory remote copy for the loader's tests (see the header). */
#include "repl_backend_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  uint8_t *k, *v;
  size_t kl, vl;
} s_row_t;

struct repl_backend {
  bool has_meta;
  repl_meta_t meta;
  s_row_t *rows;
  size_t n;
  size_t page_rows;
  int fail_next;
  unsigned long scans;
};

static int s_cmp(const void *a, const void *b) {
  const s_row_t *x = a, *y = b;
  int d = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
  return d ? d : (x->kl > y->kl) - (x->kl < y->kl);
}

repl_backend_t *repl_fake_new(void) { return calloc(1, sizeof(repl_backend_t)); }

static void s_free_rows(repl_backend_t *b) {
  for (size_t i = 0; i < b->n; i++) {
    free(b->rows[i].k);
    free(b->rows[i].v);
  }
  free(b->rows);
  b->rows = NULL;
  b->n = 0;
}

void repl_fake_set(repl_backend_t *b, const char *cluster, uint64_t gen, uint64_t synced_index,
                   const repl_row_t *rows, size_t n) {
  s_free_rows(b);
  b->rows = calloc(n ? n : 1, sizeof *b->rows);
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    s_row_t *r = &b->rows[i];
    r->k = malloc(rows[i].klen);
    r->v = malloc(rows[i].vlen ? rows[i].vlen : 1);
    memcpy(r->k, rows[i].key, rows[i].klen);
    if (rows[i].vlen) memcpy(r->v, rows[i].val, rows[i].vlen);
    r->kl = rows[i].klen;
    r->vl = rows[i].vlen;
    bytes += r->kl + r->vl;
  }
  b->n = n;
  qsort(b->rows, n, sizeof *b->rows, s_cmp);
  memset(&b->meta, 0, sizeof b->meta);
  b->meta.format = REPL_FORMAT;
  snprintf(b->meta.cluster_id, sizeof b->meta.cluster_id, "%s", cluster);
  b->meta.generation = gen;
  b->meta.synced_index = synced_index;
  b->meta.term = 1;
  b->meta.rows = n;
  b->meta.bytes = bytes;
  b->has_meta = true;
}

void repl_fake_page_rows(repl_backend_t *b, size_t page_rows) { b->page_rows = page_rows; }
void repl_fake_fail_next(repl_backend_t *b, int code) { b->fail_next = code; }
unsigned long repl_fake_scans(const repl_backend_t *b) { return b->scans; }

void repl_backend_close(repl_backend_t **b) {
  if (!b || !*b) return;
  s_free_rows(*b);
  free(*b);
  *b = NULL;
}

const char *repl_backend_describe(const repl_backend_t *b) {
  (void)b;
  return "fake (memory)";
}

static int s_fail(repl_backend_t *b, rv_err_t *err) {
  int code = b->fail_next;
  b->fail_next = 0;
  return rv_err_set(err, code, "fake backend: injected %s", rv_code_name(code));
}

int repl_backend_read_meta(repl_backend_t *b, repl_meta_t *meta, rv_err_t *err) {
  if (b->fail_next) return s_fail(b, err);
  if (!b->has_meta) return rv_err_set(err, RV_ENOTFOUND, "fake backend: no meta row");
  *meta = b->meta;
  return RV_OK;
}

int repl_backend_scan(repl_backend_t *b, const repl_meta_t *meta, const uint8_t *after,
                      size_t alen, size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key,
                      size_t *last_len, bool *done, rv_err_t *err) {
  b->scans++;
  *done = false;
  if (b->fail_next) return s_fail(b, err);
  if (meta->generation != b->meta.generation)
    return rv_err_set(err, RV_ESTALE, "fake backend: generation %llu was replaced by %llu",
                      (unsigned long long)meta->generation,
                      (unsigned long long)b->meta.generation);
  size_t lo = 0, hi = b->n; /* the first row above after */
  s_row_t probe = {(uint8_t *)after, NULL, alen, 0};
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (alen == 0 || s_cmp(&b->rows[mid], &probe) > 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  size_t limit = max_rows ? max_rows : 1;
  if (b->page_rows && b->page_rows < limit) limit = b->page_rows;
  size_t given = 0;
  for (size_t i = lo; i < b->n && given < limit; i++) {
    const s_row_t *r = &b->rows[i];
    repl_row_t row = {r->k, r->kl, r->v, r->vl, false};
    memcpy(last_key, r->k, r->kl);
    *last_len = r->kl;
    given++;
    int rc = fn(arg, &row);
    if (rc) return rc;
  }
  *done = lo + given >= b->n;
  return RV_OK;
}
