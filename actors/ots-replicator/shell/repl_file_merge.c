/* repl_file_merge: k-way merge of sorted data files, newest layer wins (repl_file_merge.h).
 * Linear choice of the smallest key over the layers: a generation holds a handful of files
 * (compaction keeps it so). I/O shell. */
#include "repl_file_merge.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  repl_seg_reader_t *r;
  repl_seg_rec_t rec; /* the reader's current record, unless eof */
  bool eof;
} s_layer_t;

struct repl_file_merge {
  s_layer_t *l;
  size_t n;
  uint8_t *out; /* the record given out: key then value */
  size_t cap;
};

static int s_cmp(const repl_seg_rec_t *a, const repl_seg_rec_t *b) {
  size_t m = a->klen < b->klen ? a->klen : b->klen;
  int c = memcmp(a->key, b->key, m);
  return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

void repl_file_merge_close(repl_file_merge_t **gp) {
  if (!gp || !*gp) return;
  repl_file_merge_t *g = *gp;
  for (size_t i = 0; i < g->n; i++) repl_seg_reader_close(&g->l[i].r);
  free(g->l);
  free(g->out);
  free(g);
  *gp = NULL;
}

int repl_file_merge_open(const char *dir, const repl_manifest_t *m, const uint8_t *after,
                         size_t alen, repl_file_merge_t **out, rv_err_t *err) {
  *out = NULL;
  repl_file_merge_t *g = calloc(1, sizeof *g);
  if (!g || (m->nfiles && !(g->l = calloc(m->nfiles, sizeof *g->l)))) {
    free(g);
    return rv_err_set(err, RV_ENOMEM, "out of memory opening a scan");
  }
  int rc = RV_OK;
  for (size_t i = 0; i < m->nfiles && !rc; i++) {
    s_layer_t *l = &g->l[g->n];
    rc = repl_seg_reader_open(dir, &m->files[i], &l->r, err);
    if (rc) break;
    g->n++;
    rc = repl_seg_reader_seek(l->r, after, alen, err);
    if (!rc) rc = repl_seg_reader_next(l->r, &l->rec, &l->eof, err);
  }
  if (rc) {
    repl_file_merge_close(&g);
    return rc;
  }
  *out = g;
  return RV_OK;
}

int repl_file_merge_next(repl_file_merge_t *g, repl_seg_rec_t *rec, bool *eof, rv_err_t *err) {
  *eof = false;
  size_t win = g->n;
  for (size_t i = 0; i < g->n; i++) {
    if (g->l[i].eof) continue;
    if (win == g->n || s_cmp(&g->l[i].rec, &g->l[win].rec) <= 0) win = i; /* ties: newest */
  }
  if (win == g->n) {
    *eof = true;
    return RV_OK;
  }
  /* copy the winner out: advancing the readers reuses their buffers */
  const repl_seg_rec_t *w = &g->l[win].rec;
  size_t need = w->klen + w->vlen;
  if (need > g->cap) {
    uint8_t *p = realloc(g->out, need);
    if (!p) return rv_err_set(err, RV_ENOMEM, "out of memory in a scan");
    g->out = p;
    g->cap = need;
  }
  memcpy(g->out, w->key, w->klen);
  if (w->vlen) memcpy(g->out + w->klen, w->val, w->vlen);
  rec->key = g->out;
  rec->klen = w->klen;
  rec->val = g->out + w->klen;
  rec->vlen = w->vlen;
  rec->deleted = w->deleted;
  for (size_t i = 0; i < g->n; i++) {
    s_layer_t *l = &g->l[i];
    if (l->eof || s_cmp(&l->rec, rec) != 0) continue;
    int rc = repl_seg_reader_next(l->r, &l->rec, &l->eof, err);
    if (rc) return rc;
  }
  return RV_OK;
}
