/* repl_ots_write.c: the Tablestore backend's writes (repl_backend.h: repl_write_*).
 *  - incremental: StartLocalTransaction on the cluster's partition key; rows go out in
 *    BatchWriteRow pages (<= 200 rows, <= 4 MiB, no key twice in a page) carrying the
 *    transaction id as they arrive; at commit the meta row is updated in the same transaction
 *    under the condition term <= ours AND generation and synced_index as the write started
 *    from, then CommitTransaction. Any failure aborts the transaction: nothing of it is seen.
 *  - base: rows under a new generation by plain BatchWriteRow (staged, invisible), then one
 *    conditional UpdateRow of the meta row naming the new generation.
 * A meta update or a commit whose outcome is unknown is never repeated blindly: the meta row is
 * read to learn whether it happened. I/O shell over ots_client. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl_ots_int.h"

struct repl_ots_write {
  repl_write_t head;        /* first: repl_backend.c's head (repl_backend_int.h) */
  repl_ots_t *b;
  bool base;
  uint64_t term, from_gen, from_index;
  bool cross;               /* base: the meta row's token was of a lower epoch when the write
                               began, so its synced_index counts another cluster's log: the
                               commit replaces it whatever its index (repl_backend.h) */
  int64_t gen;              /* where rows go */
  char *txn;                /* incremental: the transaction id (owned) */
  int64_t started_ms;
  repl_meta_t old;          /* the meta row when the write began */
  size_t rows;              /* rows put or deleted so far (bounds an incremental write) */
  uint64_t bytes;           /* their key + value bytes */
  int64_t d_rows, d_bytes;  /* what the write adds to meta.rows / meta.bytes */
  bool broken;              /* a put failed: only abort is left */
  /* the page being filled */
  size_t n, page_bytes;
  ots_buf_t bufs[OTS_BATCH_WRITE_ROWS_MAX];
  uint8_t *keys[OTS_BATCH_WRITE_ROWS_MAX];
  repl_ots_change_t ch[OTS_BATCH_WRITE_ROWS_MAX];
};

int64_t repl_ots_write_gen(const repl_ots_write_t *w) { return w->gen; }

static void s_page_clear(repl_ots_write_t *w) {
  for (size_t i = 0; i < w->n; i++) {
    ots_buf_reset(&w->bufs[i]);
    free(w->keys[i]);
    w->keys[i] = NULL;
  }
  w->n = 0;
  w->page_bytes = 0;
}

static void s_free(repl_ots_write_t *w) {
  s_page_clear(w);
  for (size_t i = 0; i < OTS_BATCH_WRITE_ROWS_MAX; i++) ots_buf_close(&w->bufs[i]);
  if (w->b->write == w) w->b->write = NULL;
  free(w->txn);
  free(w);
}

/* A batch refused because the server no longer knows the transaction is not a bad argument: the
 * transaction expired (60 s) or the server restarted. The caller may try again. */
static int s_txn_lost(repl_ots_write_t *w, int rc, rv_err_t *err) {
  if (w->txn && rc == RV_EINVAL && err && strstr(err->msg, "TransactionID is invalid")) {
    err->code = RV_EUNAVAIL;
    rv_err_prefix(err, "transaction %s is gone (expired after 60 s, or the server restarted)", w->txn);
    return RV_EUNAVAIL;
  }
  return rc;
}

static int s_flush(repl_ots_write_t *w, rv_err_t *err) {
  if (w->n == 0) return RV_OK;
  int rc = repl_ots_batch(w->b, w->txn, w->ch, w->n, err);
  s_page_clear(w);
  return s_txn_lost(w, rc, err);
}

/* Single-call helpers for the transaction's start, commit and abort. */
static int s_simple(repl_ots_t *b, const char *action, ots_op_kind_t kind, const ots_buf_t *req,
                    ots_buf_t *resp, ots_call_info_t *info, rv_err_t *err) {
  return repl_ots_call(b, action, kind, req, resp, info, err);
}

static void s_abort_txn(repl_ots_write_t *w) {
  if (!w->txn) return;
  ots_buf_t req, resp;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  rv_err_t e;
  /* One try: a transaction we fail to abort expires by itself at 60 s. */
  if (ots_wire_abort_transaction(&req, w->txn, &e) == RV_OK)
    (void)ots_client_call(w->b->client, "AbortTransaction", req.data, req.len, &resp, NULL, &e);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  free(w->txn);
  w->txn = NULL;
}

static int s_start_txn(repl_ots_write_t *w, rv_err_t *err) {
  repl_ots_t *b = w->b;
  ots_buf_t req, resp, key;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  ots_buf_init(&key);
  int rc = repl_ots_encode_partition(&key, b->cluster, err);
  if (!rc) rc = ots_wire_start_local_transaction(&req, b->table, ots_buf_bytes(&key), err);
  /* Not repeated when the outcome is unknown: a second transaction would wait for the first
   * to expire. Refusals (the partition is held: OTSRowOperationConflict) are retried. */
  if (!rc) rc = s_simple(b, "StartLocalTransaction", OTS_OP_WRITE, &req, &resp, NULL, err);
  if (!rc) rc = ots_wire_parse_start_local_transaction_response(resp.data, resp.len, &w->txn, err);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  ots_buf_close(&key);
  return rc;
}

/* Is the staging generation gen free of rows (left by an abandoned base write)? */
static int s_gen_empty(repl_ots_t *b, int64_t gen, bool *empty, rv_err_t *err) {
  ots_buf_t start, end, req, resp;
  ots_buf_init(&start);
  ots_buf_init(&end);
  ots_buf_init(&req);
  ots_buf_init(&resp);
  ots_range_result_t res;
  ots_range_result_init(&res);
  ots_read_opts_t o = {.max_versions = 1};
  int rc = repl_ots_encode_key(&start, b->cluster, gen, 0, REPL_OTS_KEY_MIN, NULL, 0, err);
  if (!rc) rc = repl_ots_encode_key(&end, b->cluster, gen, 0, REPL_OTS_KEY_MAX, NULL, 0, err);
  if (!rc) rc = ots_wire_get_range(&req, b->table, OTS_FORWARD, ots_buf_bytes(&start),
                                   ots_buf_bytes(&end), 1, &o, err);
  if (!rc) rc = repl_ots_call(b, "GetRange", OTS_OP_IDEMPOTENT, &req, &resp, NULL, err);
  if (!rc) rc = ots_wire_parse_get_range_response(resp.data, resp.len, &res, err);
  if (!rc) *empty = res.rows.len == 0 && !res.has_next;
  ots_range_result_close(&res);
  ots_buf_close(&start);
  ots_buf_close(&end);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  return rc;
}

static int s_check_start(repl_ots_write_t *w, const repl_meta_t *m, rv_err_t *err) {
  char t1[REPL_TOKEN_STR_MAX], t2[REPL_TOKEN_STR_MAX];
  if (m->term > w->term)
    return rv_err_set(err, RV_EFENCED, "fenced: the meta row holds term %s, above ours (%s)",
                      repl_token_str(m->term, t1), repl_token_str(w->term, t2));
  if (m->generation != w->from_gen || (!w->base && m->synced_index != w->from_index))
    return rv_err_set(err, RV_ESTALE, "the meta row is at generation %" PRIu64 " synced_index %" PRIu64
                      ", the write starts from generation %" PRIu64 " synced_index %" PRIu64,
                      m->generation, m->synced_index, w->from_gen, w->from_index);
  return RV_OK;
}

repl_ots_write_t *repl_ots_write_begin(repl_ots_t *b, uint64_t term, bool base, uint64_t generation,
                                       uint64_t from_index, rv_err_t *err) {
  if (b->write) {
    rv_err_set(err, RV_EINVAL, "%s: a write is already open on this backend", b->describe);
    return NULL;
  }
  if (repl_ots_token_check(b, "write", term, err)) return NULL;
  repl_ots_write_t *w = calloc(1, sizeof *w);
  if (!w) {
    rv_err_set(err, RV_ENOMEM, "%s: write: out of memory", b->describe);
    return NULL;
  }
  w->b = b;
  w->base = base;
  w->term = term;
  w->from_gen = generation;
  w->from_index = from_index;
  w->started_ms = repl_ots_now_ms();
  for (size_t i = 0; i < OTS_BATCH_WRITE_ROWS_MAX; i++) ots_buf_init(&w->bufs[i]);
  int rc;
  if (!base) {
    w->gen = generation == 0 ? 1 : (int64_t)generation;
    rc = s_start_txn(w, err);
    /* Inside the transaction the partition is ours: the meta row cannot move until commit, so
     * a write that could never commit fails here, before any row is sent. */
    if (!rc) rc = repl_ots_get_meta(b, w->txn, &w->old, err);
    if (!rc) rc = s_check_start(w, &w->old, err);
  } else {
    rc = repl_ots_get_meta(b, NULL, &w->old, err);
    if (!rc) rc = s_check_start(w, &w->old, err);
    w->cross = !rc && repl_token_epoch(w->old.term) < repl_token_epoch(term);
    /* A generation of our term, above the current one, with no rows left from an abandoned
     * attempt (repl_backend_ots.h says why the term is in it). */
    int64_t gen = (int64_t)(term << REPL_OTS_GEN_TERM_SHIFT) + 1;
    if (gen <= (int64_t)w->old.generation) gen = (int64_t)w->old.generation + 1;
    bool empty = false;
    for (int tries = 0; !rc && !empty && tries < 64; tries++) {
      rc = s_gen_empty(b, gen, &empty, err);
      if (!rc && !empty) gen++;
    }
    if (!rc && !empty)
      rc = rv_err_set(err, RV_EUNAVAIL, "64 staging generations hold rows: run tidy first");
    w->gen = gen;
  }
  if (rc) {
    s_abort_txn(w);
    rv_err_prefix(err, "%s: begin %s write (term %" PRIu64 ", generation %" PRIu64 ", index %" PRIu64 ")",
                  b->describe, base ? "base" : "incremental", term, generation, from_index);
    free(w);
    return NULL;
  }
  b->write = w;
  return w;
}

/* Adds one change to the page, sending the page first when the change does not fit in it. */
static int s_page_add(repl_ots_write_t *w, ots_batch_op_t type, const ots_buf_t *change,
                      const uint8_t *key, size_t klen, rv_err_t *err) {
  bool dup = false;
  for (size_t i = 0; i < w->n && !dup; i++)
    dup = w->ch[i].klen == klen && memcmp(w->keys[i], key, klen) == 0;
  if (dup || w->n == OTS_BATCH_WRITE_ROWS_MAX ||
      w->page_bytes + change->len > OTS_BATCH_WRITE_BYTES_MAX) {
    int rc = s_flush(w, err);
    if (rc) return rc;
  }
  size_t i = w->n;
  uint8_t *kc = malloc(klen ? klen : 1);
  if (!kc) return rv_err_set(err, RV_ENOMEM, "out of memory");
  memcpy(kc, key, klen);
  ots_buf_reset(&w->bufs[i]);
  ots_buf_put(&w->bufs[i], change->data, change->len);
  if (!ots_buf_ok(&w->bufs[i])) {
    free(kc);
    return rv_err_set(err, RV_ENOMEM, "out of memory");
  }
  w->keys[i] = kc;
  w->ch[i] = (repl_ots_change_t){type, ots_buf_bytes(&w->bufs[i]), kc, klen, w->gen};
  w->n++;
  w->page_bytes += change->len;
  return RV_OK;
}

/* A value over one part: PUT (v, vn) then an UPDATE per further part, each its own batch, in
 * order (each is idempotent; the row is complete once the last one has landed). */
static int s_put_parts(repl_ots_write_t *w, const repl_row_t *r, rv_err_t *err) {
  int rc = s_flush(w, err);
  ots_buf_t buf;
  ots_buf_init(&buf);
  size_t parts = repl_ots_parts(r->vlen);
  for (size_t p = 0; !rc && p < parts; p++) {
    ots_buf_reset(&buf);
    rc = p == 0 ? repl_ots_encode_put(&buf, w->b->cluster, w->gen, r, err)
                : repl_ots_encode_part(&buf, w->b->cluster, w->gen, r, p, err);
    repl_ots_change_t c = {p == 0 ? OTS_BATCH_PUT : OTS_BATCH_UPDATE, ots_buf_bytes(&buf), r->key,
                           r->klen, w->gen};
    if (!rc) rc = s_txn_lost(w, repl_ots_batch(w->b, w->txn, &c, 1, err), err);
  }
  ots_buf_close(&buf);
  return rc;
}

int repl_ots_write_put(repl_ots_write_t *w, const repl_row_t *rows, size_t n, rv_err_t *err) {
  repl_ots_t *b = w->b;
  if (w->broken)
    return rv_err_set(err, RV_EINVAL, "%s: put: an earlier put of this write failed: abort it",
                      b->describe);
  ots_buf_t buf;
  ots_buf_init(&buf);
  int rc = RV_OK;
  size_t i = 0;
  for (; i < n && !rc; i++) {
    const repl_row_t *r = &rows[i];
    uint64_t sz = r->klen + (r->deleted ? 0 : r->vlen);
    if (r->klen == 0 || r->klen > OTS_PK_VALUE_MAX) {
      rc = rv_err_set(err, RV_EINVAL, "a key of %zu bytes (Tablestore keys take 1..%d)", r->klen,
                      OTS_PK_VALUE_MAX);
      break;
    }
    if (!w->base) {
      if (w->rows + 1 > b->txn_max_rows || w->bytes + sz > b->txn_max_bytes) {
        rc = rv_err_set(err, RV_ETOOBIG, "an incremental write holds at most %zu rows and %" PRIu64
                        " bytes: write a base copy", b->txn_max_rows, b->txn_max_bytes);
        break;
      }
      if (repl_ots_now_ms() - w->started_ms > b->txn_budget_ms) {
        rc = rv_err_set(err, RV_ETOOBIG, "the transaction is %" PRId64 " ms old (budget %" PRId64
                        " ms; the server ends it at 60 s): write a base copy",
                        repl_ots_now_ms() - w->started_ms, b->txn_budget_ms);
        break;
      }
    }
    ots_buf_reset(&buf);
    if (r->deleted) {
      rc = repl_ots_encode_delete(&buf, b->cluster, w->gen, r->key, r->klen, err);
      if (!rc) rc = s_page_add(w, OTS_BATCH_DELETE, &buf, r->key, r->klen, err);
      /* A base generation starts empty: its deletes remove nothing counted. (The deletions a
       * base copy folds in after its view do remove rows it put: meta.rows is then an upper
       * bound, as the file backend's between compactions; it only feeds progress and ETA.) */
      if (!w->base) {
        w->d_rows--;
        w->d_bytes -= (int64_t)r->klen;
      }
    } else if (repl_ots_parts(r->vlen) > 1) {
      rc = s_put_parts(w, r, err);
      w->d_rows++;
      w->d_bytes += (int64_t)sz;
    } else {
      rc = repl_ots_encode_put(&buf, b->cluster, w->gen, r, err);
      if (!rc) rc = s_page_add(w, OTS_BATCH_PUT, &buf, r->key, r->klen, err);
      w->d_rows++;
      w->d_bytes += (int64_t)sz;
    }
    w->rows++;
    w->bytes += sz;
  }
  ots_buf_close(&buf);
  if (rc && rc != RV_ETOOBIG) { /* what reached the server is unknown: only abort is left */
    w->broken = true;
    rv_err_prefix(err, "%s: put (%s write, generation %" PRId64 ")", b->describe,
                  w->base ? "base" : "incremental", w->gen);
  } else if (rc) {
    rv_err_prefix(err, "%s: put", b->describe);
  }
  return rc;
}

static uint64_t s_add(uint64_t base, int64_t delta) {
  if (delta < 0 && (uint64_t)(-delta) > base) return 0;
  return (uint64_t)((int64_t)base + delta);
}

/* The commit's condition on the meta row: incremental, the exact state it started from; base,
 * the generation it replaces and no newer index than the one it makes current (the copy never
 * goes back in time); a crossing base write (w->cross), the generation it replaces still
 * written by a lower epoch: "term <= our epoch's first token - 1", whatever its index. */
static int s_condition(const repl_ots_write_t *w, const repl_meta_t *nm, ots_buf_t *cond,
                       rv_err_t *err) {
  if (w->cross)
    return repl_ots_encode_condition(cond, (repl_token_epoch(w->term) << REPL_EPOCH_SHIFT) - 1,
                                     true, w->from_gen, REPL_OTS_INDEX_ANY, 0, err);
  return repl_ots_encode_condition(cond, w->term, true, w->from_gen,
                                   w->base ? REPL_OTS_INDEX_AT_MOST : REPL_OTS_INDEX_EQUAL,
                                   w->base ? nm->synced_index : w->from_index, err);
}

/* Whether the meta row m still meets the commit's condition (s_condition). */
static bool s_condition_holds(const repl_ots_write_t *w, const repl_meta_t *m,
                              const repl_meta_t *nm) {
  if (m->term > w->term || m->generation != w->from_gen) return false;
  if (w->cross) return repl_token_epoch(m->term) < repl_token_epoch(w->term);
  return w->base ? m->synced_index <= nm->synced_index : m->synced_index == w->from_index;
}

/* Why the condition failed: RV_EFENCED or RV_ESTALE with err saying it. */
static int s_explain(const repl_ots_write_t *w, const repl_meta_t *nm, rv_err_t *err) {
  return repl_ots_explain_condition(w->b, w->term, w->from_gen,
                                    w->cross  ? REPL_OTS_INDEX_ANY
                                    : w->base ? REPL_OTS_INDEX_AT_MOST
                                              : REPL_OTS_INDEX_EQUAL,
                                    w->base ? nm->synced_index : w->from_index, err);
}

/* The conditional UpdateRow of the meta row (in w->txn for an incremental write). On an unknown
 * outcome the row is read (through the transaction, which sees its own writes) and the update
 * is sent again only if it did not happen. */
static int s_meta_commit(repl_ots_write_t *w, const repl_meta_t *nm, rv_err_t *err) {
  repl_ots_t *b = w->b;
  ots_buf_t req, resp, row, cond;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  ots_buf_init(&row);
  ots_buf_init(&cond);
  int rc = repl_ots_encode_meta(&row, b->cluster, nm, err);
  if (!rc) rc = s_condition(w, nm, &cond, err);
  ots_write_row_t wr = {.table = b->table, .row = ots_buf_bytes(&row),
                        .condition = {OTS_EXPECT_EXIST, ots_buf_bytes(&cond)},
                        .transaction_id = w->txn};
  if (!rc) rc = ots_wire_update_row(&req, &wr, err);
  for (int attempt = 0; !rc; attempt++) {
    rc = repl_ots_call(b, "UpdateRow", OTS_OP_WRITE, &req, &resp, NULL, err);
    if (rc == RV_OK) break;
    if (rc == RV_ESTALE) { /* the condition failed: say why (fenced, or moved) */
      s_abort_txn(w);
      rc = s_explain(w, nm, err);
      break;
    }
    rc = s_txn_lost(w, rc, err);
    if (rc != RV_EUNAVAIL && rc != RV_ETIMEDOUT) break;
    if (attempt == 2) break;
    repl_meta_t m;
    rv_err_t e2;
    int r2 = repl_ots_get_meta(b, w->txn, &m, &e2);
    if (r2 == RV_OK && m.generation == nm->generation && m.synced_index == nm->synced_index &&
        m.term == nm->term && m.updated_ms == nm->updated_ms) {
      rc = RV_OK; /* it had landed: the answer was lost */
      break;
    }
    if (r2 != RV_OK || !s_condition_holds(w, &m, nm)) {
      if (r2 == RV_OK) { /* moved: it will not land now */
        s_abort_txn(w);
        rc = s_explain(w, nm, err);
      }
      break;
    }
    /* still as it was: the update did not happen; send it again */
  }
  ots_buf_close(&req);
  ots_buf_close(&resp);
  ots_buf_close(&row);
  ots_buf_close(&cond);
  return rc;
}

/* CommitTransaction; when its outcome is unknown, abort (a no-op if it had committed) and read
 * the meta row: it names our index and generation exactly when the commit happened. */
static int s_commit_txn(repl_ots_write_t *w, const repl_meta_t *nm, rv_err_t *err) {
  repl_ots_t *b = w->b;
  ots_buf_t req, resp;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  int rc = ots_wire_commit_transaction(&req, w->txn, err);
  if (!rc) rc = repl_ots_call(b, "CommitTransaction", OTS_OP_WRITE, &req, &resp, NULL, err);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  if (rc == RV_OK) {
    free(w->txn);
    w->txn = NULL;
    return RV_OK;
  }
  rc = s_txn_lost(w, rc, err);
  s_abort_txn(w);
  repl_meta_t m;
  rv_err_t e2;
  int r2 = repl_ots_get_meta(b, NULL, &m, &e2);
  if (r2 == RV_OK && m.generation == nm->generation && m.synced_index == nm->synced_index &&
      m.term == nm->term && m.updated_ms == nm->updated_ms)
    return RV_OK; /* committed; the answer was lost */
  if (r2 == RV_OK)
    rv_err_prefix(err, "not committed (the meta row still says synced_index %" PRIu64 ")", m.synced_index);
  else
    rv_err_prefix(err, "outcome unknown (reading the meta row: %s)", e2.msg);
  return rc;
}

int repl_ots_write_commit(repl_ots_write_t **wp, uint64_t to_index, repl_meta_t *meta, rv_err_t *err) {
  repl_ots_write_t *w = *wp;
  *wp = NULL;
  repl_ots_t *b = w->b;
  int rc = RV_OK;
  if (w->broken)
    rc = rv_err_set(err, RV_EINVAL, "an earlier put of this write failed");
  if (!rc) rc = s_flush(w, err);
  repl_meta_t nm = w->old;
  nm.format = REPL_FORMAT;
  snprintf(nm.cluster_id, sizeof nm.cluster_id, "%s", b->cluster);
  nm.synced_index = to_index;
  nm.term = w->term;
  nm.generation = (uint64_t)w->gen;
  nm.updated_ms = repl_ots_wall_ms();
  nm.rows = w->base ? s_add(0, w->d_rows) : s_add(w->old.rows, w->d_rows);
  nm.bytes = w->base ? s_add(0, w->d_bytes) : s_add(w->old.bytes, w->d_bytes);
  if (!rc) rc = s_meta_commit(w, &nm, err);
  if (!rc && w->txn) rc = s_commit_txn(w, &nm, err);
  if (rc) {
    s_abort_txn(w);
    rv_err_prefix(err, "%s: commit of %s write (term %" PRIu64 ", generation %" PRId64 ", index %" PRIu64
                  " -> %" PRIu64 ")", b->describe, w->base ? "base" : "incremental", w->term, w->gen,
                  w->from_index, to_index);
  } else if (meta) {
    *meta = nm;
  }
  s_free(w);
  return rc;
}

void repl_ots_write_abort(repl_ots_write_t **wp) {
  if (!wp || !*wp) return;
  repl_ots_write_t *w = *wp;
  *wp = NULL;
  s_abort_txn(w);
  s_free(w);
}
