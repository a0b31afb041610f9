/* repl_backend_int: how a backend plugs into repl_backend.h (for backend authors only; the
 * replicator and the recovery loader use repl_backend.h alone). A backend's handle and write
 * structs start with the generic ones below, and its open function fills `ops`; repl_backend.c
 * dispatches every call through it, so a new backend touches no caller.
 *
 * The contracts are repl_backend.h's, with these precisions:
 *  - write_commit and write_abort free the backend's write struct (repl_backend.c nulls the
 *    caller's pointer and clears the handle's open write);
 *  - close frees the handle (an open write was aborted before it is called);
 *  - describe returns a string owned by the handle (no secret in it). */
#ifndef REPL_BACKEND_INT_H
#define REPL_BACKEND_INT_H

#include "repl_backend.h"

typedef struct {
  const char *scheme; /* "file", "tablestore": for logs */
  void (*close)(repl_backend_t *b);
  const char *(*describe)(const repl_backend_t *b);
  int (*read_meta)(repl_backend_t *b, repl_meta_t *meta, rv_err_t *err);
  int (*claim)(repl_backend_t *b, uint64_t term, repl_meta_t *meta, rv_err_t *err);
  repl_write_t *(*write_begin)(repl_backend_t *b, uint64_t term, bool base, uint64_t generation,
                               uint64_t from_index, rv_err_t *err);
  int (*write_put)(repl_write_t *w, const repl_row_t *rows, size_t n, rv_err_t *err);
  int (*write_commit)(repl_write_t *w, uint64_t to_index, repl_meta_t *meta, rv_err_t *err);
  void (*write_abort)(repl_write_t *w);
  int (*tidy)(repl_backend_t *b, uint64_t term, bool *more, rv_err_t *err);
  int (*scan)(repl_backend_t *b, const repl_meta_t *meta, const uint8_t *after, size_t alen,
              size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key, size_t *last_len,
              bool *done, rv_err_t *err);
} repl_backend_ops_t;

/* The head of every backend handle. */
struct repl_backend {
  const repl_backend_ops_t *ops;
  repl_write_t *open_write; /* at most one (repl_backend.c enforces it) */
};

/* The head of every backend write. */
struct repl_write {
  repl_backend_t *backend;
};

/* The backends' open functions (cfg borrowed; the endpoint's scheme already matched). */
repl_backend_t *repl_backend_file_open(const repl_backend_cfg_t *cfg, rv_err_t *err);
repl_backend_t *repl_backend_ots_open(const repl_backend_cfg_t *cfg, rv_err_t *err);

#endif
