/* repl_epoch_scenario: the fencing rule across epochs (repl_backend.h: the token is
 * epoch << 32 | Raft term), through the generic interface alone, so that each backend's test
 * runs the same steps on its own store: test_repl_backend_file (file://) and rv-repl-ots-drive
 * epoch (Tablestore, against rv-ots-server). Three handles a, b and c on one cluster's copy,
 * which must be empty at the start:
 *  1. epoch 1 term 3 claims and commits; epoch 1 term 2 is fenced (claim and commit), as leaders
 *     of one cluster are;
 *  2. epoch 1 term 9 (the old cluster) holds the copy at its index 5000, and begins a late (base)
 *     write;
 *  3. the recovered cluster (epoch 2, Raft term 1) passes over it: a base write from the old
 *     row commits at ITS index 7 (below 5000: another cluster's log), and one of its term 2
 *     begun from the old row too, committed after it at 6, is RV_ESTALE (within an epoch the
 *     copy never goes back);
 *  4. epoch 1 term 9's late commit, claim, base write and tidy are RV_EFENCED;
 *  5. epoch 2 term 1 claims again and goes on incrementally; the copy holds exactly its rows.
 * Returns 0, or 1 with why (a message naming the step) filled. Tests only. */
#ifndef REPL_EPOCH_SCENARIO_H
#define REPL_EPOCH_SCENARIO_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "repl_backend.h"

typedef struct {
  char got[8][32];
  size_t n;
} s_epoch_rows_t;

static int s_epoch_collect(void *arg, const repl_row_t *row) {
  s_epoch_rows_t *r = arg;
  if (r->n == 8) return RV_ETOOBIG;
  snprintf(r->got[r->n++], sizeof r->got[0], "%.*s=%.*s", (int)row->klen, (const char *)row->key,
           (int)row->vlen, (const char *)row->val);
  return 0;
}

static uint64_t s_epoch_tok(uint64_t epoch, uint64_t term) {
  uint64_t t = 0;
  (void)repl_token(epoch, term, &t);
  return t;
}

/* Begins a write and puts rows "k", "v", ... (NULL-terminated) into *w; rc of the first failure
 * (*w then NULL). */
static int s_epoch_begin(repl_backend_t *b, uint64_t tok, bool base, const repl_meta_t *from,
                         const char *const *kv, repl_write_t **w, rv_err_t *err) {
  *w = repl_write_begin(b, tok, base, from->generation, from->synced_index, err);
  if (!*w) return err->code;
  for (size_t i = 0; kv[i]; i += 2) {
    repl_row_t r = {(const uint8_t *)kv[i], strlen(kv[i]), (const uint8_t *)kv[i + 1],
                    strlen(kv[i + 1]), false};
    int rc = repl_write_put(*w, &r, 1, err);
    if (rc) {
      repl_write_abort(w);
      return rc;
    }
  }
  return RV_OK;
}

/* The same, committed at `to`. */
static int s_epoch_write(repl_backend_t *b, uint64_t tok, bool base, const repl_meta_t *from,
                         const char *const *kv, uint64_t to, repl_meta_t *out, rv_err_t *err) {
  repl_write_t *w;
  int rc = s_epoch_begin(b, tok, base, from, kv, &w, err);
  return rc ? rc : repl_write_commit(&w, to, out, err);
}

/* Whether rc is want; if not, why says so, naming the step. err is reset for the next call. */
static bool s_epoch_ok(int rc, int want, const char *what, rv_err_t *err, char *why, size_t len) {
  bool ok = rc == want;
  if (!ok)
    snprintf(why, len, "%s: got %s (%s), expected %s", what, rv_code_name(rc),
             rc ? err->msg : "", rv_code_name(want));
  err->code = RV_OK;
  err->msg[0] = '\0';
  return ok;
}

static int repl_epoch_scenario(repl_backend_t *a, repl_backend_t *b, repl_backend_t *c,
                               char *why, size_t len) {
  rv_err_t err = {0};
  repl_meta_t m, old, mb, mx;
  bool more;
  /* 1: leaders of one epoch: term 2 is fenced by term 3 */
  if (!s_epoch_ok(repl_backend_claim(a, s_epoch_tok(1, 3), &m, &err), RV_OK,
                  "epoch 1 term 3 claims", &err, why, len))
    return 1;
  const char *kv1[] = {"x", "e1t3", NULL};
  if (!s_epoch_ok(s_epoch_write(a, s_epoch_tok(1, 3), false, &m, kv1, 10, &m, &err), RV_OK,
                  "epoch 1 term 3 commits", &err, why, len) ||
      !s_epoch_ok(repl_backend_claim(b, s_epoch_tok(1, 2), &mx, &err), RV_EFENCED,
                  "epoch 1 term 2 claims after term 3", &err, why, len) ||
      !s_epoch_ok(s_epoch_write(b, s_epoch_tok(1, 2), false, &m, kv1, 11, &mx, &err),
                  RV_EFENCED, "epoch 1 term 2 commits after term 3", &err, why, len))
    return 1;
  /* 2: the old cluster, epoch 1 term 9, at its index 5000; a late write of it under way (a base
   * write: Tablestore's incremental one holds a transaction on the partition, which would keep
   * every other writer out until it ends) */
  const char *kv2[] = {"x", "e1t9", "y", "old", NULL}, *kvl[] = {"x", "late", NULL};
  repl_write_t *late, *w1, *w2;
  if (!s_epoch_ok(repl_backend_claim(a, s_epoch_tok(1, 9), &m, &err), RV_OK,
                  "epoch 1 term 9 claims", &err, why, len) ||
      !s_epoch_ok(s_epoch_write(a, s_epoch_tok(1, 9), true, &m, kv2, 5000, &old, &err), RV_OK,
                  "epoch 1 term 9 commits a base write at 5000", &err, why, len) ||
      !s_epoch_ok(s_epoch_begin(a, s_epoch_tok(1, 9), true, &old, kvl, &late, &err), RV_OK,
                  "epoch 1 term 9 begins a late write", &err, why, len))
    return 1;
  /* 3: the recovered cluster, epoch 2: base writes of its terms 1 and 2 from the old row; term
   * 1's commits at ITS index 7 (below 5000: another cluster's log); term 2's, at 6, then finds
   * the copy of its own epoch at 7: RV_ESTALE */
  const char *kv3[] = {"x", "e2", "z", "new", NULL}, *kv3b[] = {"x", "e2-other", NULL};
  if (!s_epoch_ok(s_epoch_begin(b, s_epoch_tok(2, 1), true, &old, kv3, &w1, &err), RV_OK,
                  "epoch 2 term 1 begins a base write", &err, why, len) ||
      !s_epoch_ok(s_epoch_begin(c, s_epoch_tok(2, 2), true, &old, kv3b, &w2, &err), RV_OK,
                  "epoch 2 term 2 begins a base write", &err, why, len) ||
      !s_epoch_ok(repl_write_commit(&w1, 7, &mb, &err), RV_OK,
                  "epoch 2 term 1 commits at its index 7 over epoch 1 term 9 at 5000", &err,
                  why, len))
    return 1;
  if (mb.term != s_epoch_tok(2, 1) || mb.synced_index != 7) {
    snprintf(why, len, "after epoch 2's base commit the meta row says term %" PRIu64 " index %"
             PRIu64, mb.term, mb.synced_index);
    return 1;
  }
  if (!s_epoch_ok(repl_write_commit(&w2, 6, &mx, &err), RV_ESTALE,
                  "epoch 2 term 2's base write commits at 6 after 7", &err, why, len))
    return 1;
  /* 4: the old cluster's late upload, and everything else of epoch 1 term 9: fenced */
  if (!s_epoch_ok(repl_write_commit(&late, 5001, &mx, &err), RV_EFENCED,
                  "epoch 1 term 9's late commit after epoch 2 term 1's", &err, why, len) ||
      !s_epoch_ok(repl_backend_claim(a, s_epoch_tok(1, 9), &mx, &err), RV_EFENCED,
                  "epoch 1 term 9 claims again", &err, why, len) ||
      !s_epoch_ok(s_epoch_write(a, s_epoch_tok(1, 9), true, &old, kv2, 5002, &mx, &err),
                  RV_EFENCED, "epoch 1 term 9 commits a base write", &err, why, len) ||
      !s_epoch_ok(repl_backend_tidy(a, s_epoch_tok(1, 9), &more, &err), RV_EFENCED,
                  "epoch 1 term 9 tidies", &err, why, len))
    return 1;
  /* 5: epoch 2 goes on */
  const char *kv5[] = {"z", "newer", NULL};
  if (!s_epoch_ok(repl_backend_claim(b, s_epoch_tok(2, 1), &mb, &err), RV_OK,
                  "epoch 2 term 1 claims again", &err, why, len) ||
      !s_epoch_ok(s_epoch_write(b, s_epoch_tok(2, 1), false, &mb, kv5, 8, &mb, &err), RV_OK,
                  "epoch 2 term 1 commits incrementally", &err, why, len) ||
      !s_epoch_ok(repl_backend_tidy(b, s_epoch_tok(2, 1), &more, &err), RV_OK,
                  "epoch 2 tidies", &err, why, len) ||
      !s_epoch_ok(repl_backend_read_meta(a, &m, &err), RV_OK, "read the meta row", &err, why,
                  len))
    return 1;
  if (m.term != s_epoch_tok(2, 1) || m.synced_index != 8) {
    snprintf(why, len, "at the end the meta row says term %" PRIu64 " index %" PRIu64, m.term,
             m.synced_index);
    return 1;
  }
  s_epoch_rows_t rows = {.n = 0};
  uint8_t last[REPL_KEY_MAX];
  size_t llen = 0;
  bool done = false;
  if (!s_epoch_ok(repl_backend_scan(a, &m, NULL, 0, 100, s_epoch_collect, &rows, last, &llen,
                                    &done, &err),
                  RV_OK, "scan", &err, why, len))
    return 1;
  if (!done || rows.n != 2 || strcmp(rows.got[0], "x=e2") || strcmp(rows.got[1], "z=newer")) {
    snprintf(why, len, "the copy holds %zu rows (%s, %s), expected x=e2, z=newer", rows.n,
             rows.n > 0 ? rows.got[0] : "-", rows.n > 1 ? rows.got[1] : "-");
    return 1;
  }
  return 0;
}

#endif
