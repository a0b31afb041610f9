/* repl_backend: the one entry point of the remote copy's backends (repl_backend.h): picks the
 * backend from ots.endpoint's scheme and dispatches every call through its ops table
 * (repl_backend_int.h), enforcing the contract common to all (one open write per handle, the
 * caller's pointers nulled). I/O only through the backends. */
#include <stdlib.h>
#include <string.h>

#include "repl_backend_int.h"

#ifndef REPL_BACKEND_OTS
/* This build has no Tablestore backend (actors/ots-replicator/shell/repl_backend_ots.c is not in
 * the tree; CMake defines REPL_BACKEND_OTS when it is). */
repl_backend_t *repl_backend_ots_open(const repl_backend_cfg_t *cfg, rv_err_t *err) {
  rv_err_set(err, RV_EINVAL,
             "ots.endpoint %s: the Tablestore backend is not built in this build (only file:// "
             "endpoints are)", cfg->endpoint);
  return NULL;
}
#endif

repl_backend_t *repl_backend_open(const repl_backend_cfg_t *cfg, rv_err_t *err) {
  const char *ep = cfg && cfg->endpoint ? cfg->endpoint : "";
  if (!cfg || !cfg->cluster_id || !cfg->cluster_id[0]) {
    rv_err_set(err, RV_EINVAL, "the remote copy needs a cluster id (cluster.id)");
    return NULL;
  }
  if (strncmp(ep, "file://", 7) == 0) return repl_backend_file_open(cfg, err);
  if (strncmp(ep, "http://", 7) == 0 || strncmp(ep, "https://", 8) == 0)
    return repl_backend_ots_open(cfg, err);
  rv_err_set(err, RV_EINVAL,
             "ots.endpoint \"%.200s\": expected http(s)://host[:port] (Tablestore) or "
             "file:///absolute/dir (a shared directory)", ep);
  return NULL;
}

void repl_backend_close(repl_backend_t **bp) {
  if (!bp || !*bp) return;
  repl_backend_t *b = *bp;
  if (b->open_write) repl_write_abort(&b->open_write);
  b->ops->close(b);
  *bp = NULL;
}

const char *repl_backend_describe(const repl_backend_t *b) { return b->ops->describe(b); }

int repl_backend_read_meta(repl_backend_t *b, repl_meta_t *meta, rv_err_t *err) {
  return b->ops->read_meta(b, meta, err);
}

int repl_backend_claim(repl_backend_t *b, uint64_t term, repl_meta_t *meta, rv_err_t *err) {
  return b->ops->claim(b, term, meta, err);
}

repl_write_t *repl_write_begin(repl_backend_t *b, uint64_t term, bool base, uint64_t generation,
                               uint64_t from_index, rv_err_t *err) {
  if (b->open_write) {
    rv_err_set(err, RV_EBUSY, "%s: a write is already open on this handle",
               repl_backend_describe(b));
    return NULL;
  }
  repl_write_t *w = b->ops->write_begin(b, term, base, generation, from_index, err);
  if (w) {
    w->backend = b;
    b->open_write = w;
  }
  return w;
}

int repl_write_put(repl_write_t *w, const repl_row_t *rows, size_t n, rv_err_t *err) {
  return w->backend->ops->write_put(w, rows, n, err);
}

int repl_write_commit(repl_write_t **wp, uint64_t to_index, repl_meta_t *meta, rv_err_t *err) {
  repl_write_t *w = *wp;
  repl_backend_t *b = w->backend;
  *wp = NULL;
  b->open_write = NULL;
  return b->ops->write_commit(w, to_index, meta, err);
}

void repl_write_abort(repl_write_t **wp) {
  if (!wp || !*wp) return;
  repl_write_t *w = *wp;
  repl_backend_t *b = w->backend;
  *wp = NULL;
  if (b->open_write == w) b->open_write = NULL;
  b->ops->write_abort(w);
}

int repl_backend_tidy(repl_backend_t *b, uint64_t term, bool *more, rv_err_t *err) {
  *more = false;
  return b->ops->tidy(b, term, more, err);
}

int repl_backend_scan(repl_backend_t *b, const repl_meta_t *meta, const uint8_t *after,
                      size_t alen, size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key,
                      size_t *last_len, bool *done, rv_err_t *err) {
  *done = false;
  *last_len = 0;
  if (alen > REPL_KEY_MAX)
    return rv_err_set(err, RV_EINVAL, "scan: a start key of %zu bytes (at most %d)", alen,
                      REPL_KEY_MAX);
  return b->ops->scan(b, meta, after, alen, max_rows ? max_rows : 1, fn, arg, last_key, last_len,
                      done, err);
}
