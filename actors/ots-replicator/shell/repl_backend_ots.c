/* repl_backend_ots.c: the Tablestore backend's handle: open (describe, create, schema check),
 * the meta row (read, claim), key-ordered scans and tidying of old generations. Writes are in
 * repl_ots_write.c. I/O shell over ots_client; every error names the backend (endpoint,
 * instance, table), the operation and the remote's words, never the secret. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl_ots_int.h"

static bool s_name_ok(const char *s) { return s && *s; }

static int s_check_cfg(const repl_backend_cfg_t *cfg, rv_err_t *err) {
  if (!cfg || !s_name_ok(cfg->endpoint))
    return rv_err_set(err, RV_EINVAL, "ots.endpoint is empty");
  if (strncmp(cfg->endpoint, "http://", 7) != 0 && strncmp(cfg->endpoint, "https://", 8) != 0)
    return rv_err_set(err, RV_EINVAL, "ots.endpoint \"%.200s\": the tablestore backend takes "
                      "http(s)://host[:port]", cfg->endpoint);
  if (strlen(cfg->endpoint) >= REPL_OTS_NAME_MAX)
    return rv_err_set(err, RV_EINVAL, "ots.endpoint is longer than %d bytes", REPL_OTS_NAME_MAX - 1);
  if (!s_name_ok(cfg->instance)) return rv_err_set(err, RV_EINVAL, "ots.instance is empty");
  if (!s_name_ok(cfg->access_key_id))
    return rv_err_set(err, RV_EINVAL, "ots.access-key-id is empty");
  if (!s_name_ok(cfg->access_key_secret))
    return rv_err_set(err, RV_EINVAL, "ots.access-key-secret is empty");
  if (!s_name_ok(cfg->cluster_id) || strlen(cfg->cluster_id) >= REPL_CLUSTER_ID_MAX)
    return rv_err_set(err, RV_EINVAL, "cluster id \"%.200s\": expected 1..%d bytes",
                      cfg->cluster_id ? cfg->cluster_id : "", REPL_CLUSTER_ID_MAX - 1);
  const char *t = cfg->table ? cfg->table : REPL_OTS_TABLE_DEFAULT;
  size_t tl = strlen(t);
  bool ok = tl >= 1 && tl < REPL_OTS_NAME_MAX && !(t[0] >= '0' && t[0] <= '9');
  for (size_t i = 0; ok && i < tl; i++)
    ok = t[i] == '_' || (t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
         (t[i] >= 'A' && t[i] <= 'Z');
  if (!ok)
    return rv_err_set(err, RV_EINVAL, "ots table \"%.200s\": expected 1..255 of [A-Za-z0-9_], "
                      "not starting with a digit", t);
  return RV_OK;
}

/* The schema the backend needs; RV_EINVAL naming the first difference. */
static int s_check_schema(const repl_ots_t *b, const ots_table_desc_t *d, rv_err_t *err) {
  static const char *names[3] = {"cluster", "gen", "key"};
  static const ots_pk_type_t types[3] = {OTS_PK_STRING, OTS_PK_INTEGER, OTS_PK_BINARY};
  static const char *tname[4] = {"?", "INTEGER", "STRING", "BINARY"};
  if (d->npk != 3)
    return rv_err_set(err, RV_EINVAL, "table %s has %zu primary key columns, expected 3 "
                      "(cluster STRING, gen INTEGER, key BINARY)", b->table, d->npk);
  for (size_t i = 0; i < 3; i++) {
    const ots_pk_schema_t *c = &d->pk[i];
    int ty = c->type >= 1 && c->type <= 3 ? c->type : 0;
    if (strcmp(c->name, names[i]) != 0 || c->type != types[i] || c->auto_increment)
      return rv_err_set(err, RV_EINVAL, "table %s: primary key column %zu is '%s' %s%s, expected "
                        "'%s' %s (the table belongs to something else, or set ots.table)",
                        b->table, i + 1, c->name, tname[ty], c->auto_increment ? " AUTO_INCREMENT" : "",
                        names[i], tname[types[i]]);
  }
  if (d->time_to_live != -1)
    return rv_err_set(err, RV_EINVAL, "table %s: time_to_live is %d s, expected -1 (rows of the "
                      "remote copy must never expire)", b->table, d->time_to_live);
  return RV_OK;
}

static int s_describe(repl_ots_t *b, ots_table_desc_t **d, rv_err_t *err) {
  ots_buf_t req, resp;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  int rc = ots_wire_describe_table(&req, b->table, err);
  if (!rc) rc = repl_ots_call(b, "DescribeTable", OTS_OP_IDEMPOTENT, &req, &resp, NULL, err);
  if (!rc) rc = ots_wire_parse_describe_table_response(resp.data, resp.len, d, err);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  return rc;
}

static int s_create(repl_ots_t *b, rv_err_t *err) {
  static const ots_pk_schema_t pk[3] = {{"cluster", OTS_PK_STRING, false},
                                        {"gen", OTS_PK_INTEGER, false},
                                        {"key", OTS_PK_BINARY, false}};
  ots_table_spec_t spec = {.table = b->table, .pk = pk, .npk = 3, .time_to_live = -1,
                           .max_versions = 1, .enable_local_txn = true};
  ots_buf_t req, resp;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  int rc = ots_wire_create_table(&req, &spec, err);
  /* Repeating CreateTable cannot create two tables: at worst it answers "already exists". */
  if (!rc) rc = repl_ots_call(b, "CreateTable", OTS_OP_IDEMPOTENT, &req, &resp, NULL, err);
  if (rc == RV_EEXIST) rc = RV_OK; /* another node created it meanwhile */
  ots_buf_close(&req);
  ots_buf_close(&resp);
  return rc;
}

static int s_open_table(repl_ots_t *b, rv_err_t *err) {
  ots_table_desc_t *d = NULL;
  int rc = s_describe(b, &d, err);
  if (rc == RV_ENOTFOUND) {
    if ((rc = s_create(b, err))) return rv_err_prefix(err, "creating table %s", b->table);
    /* A new table may answer OTSTableNotReady for a while: the retry policy waits for it. */
    rc = s_describe(b, &d, err);
  }
  if (rc) return rv_err_prefix(err, "describing table %s", b->table);
  rc = s_check_schema(b, d, err);
  ots_table_desc_destroy(&d);
  return rc;
}

repl_ots_t *repl_ots_open(const repl_backend_cfg_t *cfg, rv_err_t *err) {
  if (s_check_cfg(cfg, err)) return NULL;
  repl_ots_t *b = calloc(1, sizeof *b);
  if (!b) {
    rv_err_set(err, RV_ENOMEM, "tablestore backend: out of memory");
    return NULL;
  }
  snprintf(b->endpoint, sizeof b->endpoint, "%s", cfg->endpoint);
  size_t el = strlen(b->endpoint);
  if (el > 8 && b->endpoint[el - 1] == '/') b->endpoint[el - 1] = 0;
  snprintf(b->table, sizeof b->table, "%s", cfg->table ? cfg->table : REPL_OTS_TABLE_DEFAULT);
  snprintf(b->cluster, sizeof b->cluster, "%s", cfg->cluster_id);
  snprintf(b->describe, sizeof b->describe, "tablestore %s instance=%.64s table=%s", b->endpoint,
           cfg->instance, b->table);
  b->retry = ots_retry_policy_default();
  b->rng = (uint64_t)repl_ots_wall_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)b;
  b->txn_max_rows = REPL_TXN_MAX_ROWS;
  b->txn_max_bytes = REPL_TXN_MAX_BYTES;
  b->txn_budget_ms = REPL_OTS_TXN_BUDGET_MS;
  ots_client_config_t cc = {.endpoint = b->endpoint,
                            .cred = {cfg->access_key_id, cfg->access_key_secret, cfg->instance, NULL},
                            .request_timeout_ms = cfg->request_timeout_ms > 0
                                                      ? cfg->request_timeout_ms
                                                      : REPL_OTS_REQUEST_TIMEOUT_MS,
                            .cancel = cfg->cancel};
  b->cancel = cfg->cancel;
  b->client = ots_client_new(&cc, err);
  if (!b->client || s_open_table(b, err)) {
    rv_err_prefix(err, "%s", b->describe);
    repl_ots_close(&b);
    return NULL;
  }
  return b;
}

void repl_ots_close(repl_ots_t **bp) {
  if (!bp || !*bp) return;
  repl_ots_t *b = *bp;
  if (b->write) repl_ots_write_abort(&b->write);
  ots_client_destroy(&b->client);
  free(b);
  *bp = NULL;
}

const char *repl_ots_describe(const repl_ots_t *b) { return b->describe; }

void repl_ots_set_retry_policy(repl_ots_t *b, const ots_retry_policy_t *policy) {
  b->retry = *policy;
}

void repl_ots_set_txn_limits(repl_ots_t *b, size_t max_rows, uint64_t max_bytes, int64_t budget_ms) {
  b->txn_max_rows = max_rows ? max_rows : REPL_TXN_MAX_ROWS;
  b->txn_max_bytes = max_bytes ? max_bytes : REPL_TXN_MAX_BYTES;
  b->txn_budget_ms = budget_ms ? budget_ms : REPL_OTS_TXN_BUDGET_MS;
}

/* ---- the meta row ---- */

int repl_ots_get_meta(repl_ots_t *b, const char *txn, repl_meta_t *meta, rv_err_t *err) {
  ots_buf_t req, resp, key;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  ots_buf_init(&key);
  ots_row_result_t res;
  ots_row_result_init(&res);
  ots_rowset_t set;
  ots_rowset_init(&set);
  static const uint8_t empty[1];
  ots_read_opts_t o = {.max_versions = 1, .transaction_id = txn};
  int rc = repl_ots_encode_key(&key, b->cluster, 0, 0, REPL_OTS_KEY_BYTES, empty, 0, err);
  if (!rc) rc = ots_wire_get_row(&req, b->table, ots_buf_bytes(&key), &o, err);
  if (!rc) rc = repl_ots_call(b, "GetRow", OTS_OP_IDEMPOTENT, &req, &resp, NULL, err);
  if (!rc) rc = ots_wire_parse_row_response("GetRow", resp.data, resp.len, &res, err);
  if (!rc && (rc = ots_plainbuf_decode(&set, res.row.data, res.row.len, err)))
    rv_err_prefix(err, "GetRow answer: the meta row's PlainBuffer");
  if (!rc && set.nrows == 0)
    rc = rv_err_set(err, RV_ENOTFOUND, "no meta row for cluster \"%s\": nothing was uploaded yet",
                    b->cluster);
  else if (!rc && set.nrows != 1)
    rc = rv_err_set(err, RV_ECORRUPT, "GetRow of the meta row returned %zu rows", set.nrows);
  if (!rc) rc = repl_ots_decode_meta(&set.rows[0], b->cluster, meta, err);
  if (rc == RV_EDECODE) rc = RV_ECORRUPT;
  if (err && rc) err->code = rc;
  ots_rowset_close(&set);
  ots_row_result_close(&res);
  ots_buf_close(&key);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  return rc;
}

int repl_ots_read_meta(repl_ots_t *b, repl_meta_t *meta, rv_err_t *err) {
  int rc = repl_ots_get_meta(b, NULL, meta, err);
  if (rc && rc != RV_ENOTFOUND) rv_err_prefix(err, "%s: reading the meta row", b->describe);
  return rc;
}

int repl_ots_token_check(const repl_ots_t *b, const char *what, uint64_t term, rv_err_t *err) {
  if (term != 0 && term < (1ull << (63 - REPL_OTS_GEN_TERM_SHIFT))) return RV_OK;
  char t[REPL_TOKEN_STR_MAX];
  return rv_err_set(err, RV_EINVAL,
                    "%s: %s: fencing token %s out of range: this backend's base generations "
                    "(token << %d) hold tokens 1..2^%d-1, i.e. epochs below %llu",
                    b->describe, what, repl_token_str(term, t), REPL_OTS_GEN_TERM_SHIFT,
                    63 - REPL_OTS_GEN_TERM_SHIFT,
                    1ull << (63 - REPL_OTS_GEN_TERM_SHIFT - REPL_EPOCH_SHIFT));
}

int repl_ots_explain_condition(repl_ots_t *b, uint64_t term, uint64_t gen,
                               repl_ots_index_cmp_t cmp, uint64_t index, rv_err_t *err) {
  repl_meta_t m;
  rv_err_t e2;
  int rc = repl_ots_get_meta(b, NULL, &m, &e2);
  if (rc == RV_ENOTFOUND)
    return rv_err_set(err, RV_ESTALE, "the meta row is gone (the table was emptied?)");
  if (rc) return rv_err_set(err, rc, "condition failed; then reading the meta row: %s", e2.msg);
  char t1[REPL_TOKEN_STR_MAX], t2[REPL_TOKEN_STR_MAX];
  if (m.term > term)
    return rv_err_set(err, RV_EFENCED, "fenced: the meta row holds term %s, above ours (%s)",
                      repl_token_str(m.term, t1), repl_token_str(term, t2));
  if (cmp == REPL_OTS_INDEX_ANY) /* a crossing base write: another of our epoch got there first */
    return rv_err_set(err, RV_ESTALE, "the meta row moved: generation %" PRIu64 " synced_index %"
                      PRIu64 " term %s where generation %" PRIu64 " of an epoch below ours was "
                      "expected", m.generation, m.synced_index, repl_token_str(m.term, t1), gen);
  return rv_err_set(err, RV_ESTALE, "the meta row moved: generation %" PRIu64 " synced_index %" PRIu64
                    " term %s where generation %" PRIu64 " and synced_index %s%" PRIu64
                    " were expected", m.generation, m.synced_index, repl_token_str(m.term, t1), gen,
                    cmp == REPL_OTS_INDEX_AT_MOST ? "at most " : "", index);
}

/* One conditional write of the meta row outside a transaction (claim): PutRow of a new row
 * expecting none, or UpdateRow of term (and updated_ms) alone expecting the row with term <=
 * ours, so that a lower term's commit landing between our read and this write is kept, not
 * rolled back. RV_ESTALE when the condition failed. */
static int s_meta_write(repl_ots_t *b, const repl_meta_t *m, bool create, rv_err_t *err) {
  ots_buf_t req, resp, row, cond;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  ots_buf_init(&row);
  ots_buf_init(&cond);
  int rc = create ? repl_ots_encode_meta(&row, b->cluster, m, err)
                  : repl_ots_encode_meta_term(&row, b->cluster, m->term, m->updated_ms, err);
  if (!rc && !create) rc = repl_ots_encode_condition(&cond, m->term, false, 0, REPL_OTS_INDEX_ANY, 0, err);
  ots_write_row_t w = {.table = b->table, .row = ots_buf_bytes(&row),
                       .condition = {create ? OTS_EXPECT_NOT_EXIST : OTS_EXPECT_EXIST,
                                     ots_buf_bytes(&cond)}};
  if (!rc) rc = create ? ots_wire_put_row(&req, &w, err) : ots_wire_update_row(&req, &w, err);
  if (!rc) rc = repl_ots_call(b, create ? "PutRow" : "UpdateRow", OTS_OP_WRITE, &req, &resp, NULL, err);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  ots_buf_close(&row);
  ots_buf_close(&cond);
  return rc;
}

int repl_ots_claim(repl_ots_t *b, uint64_t term, repl_meta_t *meta, rv_err_t *err) {
  if (repl_ots_token_check(b, "claim", term, err)) return err->code;
  /* Each round reads the row and writes it conditionally; a condition that fails means someone
   * else wrote meanwhile, and the next round sees what. An outcome that is unknown (timeout)
   * is also settled by the next read: the row then holds our term, or not. */
  for (int round = 0; round < 8; round++) {
    repl_meta_t m;
    int rc = repl_ots_get_meta(b, NULL, &m, err);
    bool create = rc == RV_ENOTFOUND;
    if (rc && !create) return rv_err_prefix(err, "%s: claim (term %" PRIu64 ")", b->describe, term);
    if (!create && m.term > term)
      return rv_err_set(err, RV_EFENCED, "%s: claim: fenced: the meta row holds term %" PRIu64
                        ", above ours (%" PRIu64 ")", b->describe, m.term, term);
    if (!create && m.term == term) {
      *meta = m; /* already ours (an earlier claim, or one whose answer was lost) */
      return RV_OK;
    }
    if (create) {
      memset(&m, 0, sizeof m);
      m.format = REPL_FORMAT;
      snprintf(m.cluster_id, sizeof m.cluster_id, "%s", b->cluster);
    }
    m.term = term;
    m.updated_ms = repl_ots_wall_ms();
    rv_err_t e2;
    rc = s_meta_write(b, &m, create, &e2);
    if (rc == RV_OK) continue; /* the next round reads the row as it now is and returns it */
    if (rc != RV_ESTALE && rc != RV_EUNAVAIL && rc != RV_ETIMEDOUT) {
      rv_err_set(err, rc, "%s: claim (term %" PRIu64 "): %s", b->describe, term, e2.msg);
      return rc;
    }
    if (rc != RV_ESTALE && round >= 2) { /* the store keeps failing: give up */
      rv_err_set(err, rc, "%s: claim (term %" PRIu64 "): %s", b->describe, term, e2.msg);
      return rc;
    }
  }
  return rv_err_set(err, RV_EUNAVAIL, "%s: claim (term %" PRIu64 "): the meta row kept changing "
                    "under us", b->describe, term);
}

/* ---- scans ---- */

/* One GetRange page of [start, end) with at most limit rows. */
static int s_range(repl_ots_t *b, const ots_buf_t *start, const ots_buf_t *end, int32_t limit,
                   ots_range_result_t *res, rv_err_t *err) {
  ots_buf_t req, resp;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  ots_range_result_close(res);
  ots_range_result_init(res);
  ots_read_opts_t o = {.max_versions = 1};
  int rc = ots_wire_get_range(&req, b->table, OTS_FORWARD, ots_buf_bytes(start), ots_buf_bytes(end),
                              limit, &o, err);
  if (!rc) rc = repl_ots_call(b, "GetRange", OTS_OP_IDEMPOTENT, &req, &resp, NULL, err);
  if (!rc) rc = ots_wire_parse_get_range_response(resp.data, resp.len, res, err);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  return rc;
}

int repl_ots_scan(repl_ots_t *b, const repl_meta_t *meta, const uint8_t *after, size_t alen,
                  size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key, size_t *last_len,
                  bool *done, rv_err_t *err) {
  *done = false;
  if (meta->generation == 0) { /* nothing uploaded yet: an empty namespace */
    *done = true;
    *last_len = alen;
    if (alen) memcpy(last_key, after, alen);
    return RV_OK;
  }
  if (alen >= OTS_PK_VALUE_MAX)
    return rv_err_set(err, RV_EINVAL, "%s: scan: a key of %zu bytes", b->describe, alen);
  if (max_rows == 0) max_rows = 1;
  if (max_rows > 5000) max_rows = 5000;
  int64_t gen = (int64_t)meta->generation;
  uint8_t from[OTS_PK_VALUE_MAX];
  size_t flen = 0;
  if (alen) { /* the smallest key after `after` is after + 0x00 */
    memcpy(from, after, alen);
    from[alen] = 0;
    flen = alen + 1;
  }
  ots_buf_t start, end, scratch;
  ots_buf_init(&start);
  ots_buf_init(&end);
  ots_buf_init(&scratch);
  ots_range_result_t res;
  ots_range_result_init(&res);
  ots_rowset_t set;
  ots_rowset_init(&set);
  size_t given = 0;
  *last_len = alen;
  if (alen) memcpy(last_key, after, alen);
  int rc = repl_ots_encode_key(&start, b->cluster, gen, 0, flen ? REPL_OTS_KEY_BYTES : REPL_OTS_KEY_MIN,
                               from, flen, err);
  if (!rc) rc = repl_ots_encode_key(&end, b->cluster, gen, 0, REPL_OTS_KEY_MAX, NULL, 0, err);
  while (!rc) {
    rc = s_range(b, &start, &end, (int32_t)(max_rows - given), &res, err);
    if (!rc && (rc = ots_plainbuf_decode(&set, res.rows.data, res.rows.len, err)))
      rv_err_prefix(err, "GetRange answer: the rows' PlainBuffer");
    for (size_t i = 0; !rc && i < set.nrows; i++) {
      repl_row_t r;
      if ((rc = repl_ots_decode_data(&set.rows[i], b->cluster, gen, &r, &scratch, err))) break;
      if (r.klen > REPL_KEY_MAX) {
        rc = rv_err_set(err, RV_ECORRUPT, "a key of %zu bytes", r.klen);
        break;
      }
      if ((rc = fn(arg, &r))) goto out; /* the caller's own code, passed through */
      memcpy(last_key, r.key, r.klen);
      *last_len = r.klen;
      given++;
    }
    if (rc) break;
    if (!res.has_next) {
      *done = true;
      break;
    }
    if (given > 0) break; /* a full or short (4 MB) page: the caller resumes from last_key */
    ots_buf_reset(&start); /* an empty page with more to come: go on from where it stopped */
    ots_buf_put(&start, res.next_start.data, res.next_start.len);
  }
  if (!rc) { /* were these rows the namespace the meta row named? */
    repl_meta_t now;
    rc = repl_ots_get_meta(b, NULL, &now, err);
    if (!rc && (now.generation != meta->generation || now.synced_index != meta->synced_index))
      rc = rv_err_set(err, RV_ESTALE, "the remote copy moved during the scan (generation %" PRIu64
                      " synced_index %" PRIu64 ", scanning generation %" PRIu64 " at %" PRIu64 ")",
                      now.generation, now.synced_index, meta->generation, meta->synced_index);
  }
  if (rc == RV_EDECODE) rc = RV_ECORRUPT;
  if (rc) {
    if (err) err->code = rc;
    rv_err_prefix(err, "%s: scan of generation %" PRIu64, b->describe, meta->generation);
  }
out:
  ots_rowset_close(&set);
  ots_range_result_close(&res);
  ots_buf_close(&start);
  ots_buf_close(&end);
  ots_buf_close(&scratch);
  return rc;
}

/* ---- tidy ---- */

int repl_ots_tidy(repl_ots_t *b, uint64_t term, bool *more, rv_err_t *err) {
  *more = false;
  repl_meta_t m;
  int rc = repl_ots_get_meta(b, NULL, &m, err);
  if (rc == RV_ENOTFOUND) return RV_OK;
  if (rc) return rv_err_prefix(err, "%s: tidy", b->describe);
  if (m.term > term)
    return rv_err_set(err, RV_EFENCED, "%s: tidy: fenced: the meta row holds term %" PRIu64
                      ", above ours (%" PRIu64 ")", b->describe, m.term, term);
  /* Generations to keep: the current one and the one this handle is staging; never one of a
   * higher term (a newer leader may be staging it). Deletable: [1, limit) minus those. */
  int64_t limit = (int64_t)((term + 1) << REPL_OTS_GEN_TERM_SHIFT);
  int64_t keep[2] = {(int64_t)m.generation, b->write ? repl_ots_write_gen(b->write) : 0};
  if (keep[0] > keep[1]) {
    int64_t t = keep[0];
    keep[0] = keep[1];
    keep[1] = t;
  }
  int64_t lo = 1;
  size_t deleted = 0;
  ots_range_result_t res;
  ots_range_result_init(&res);
  ots_rowset_t set;
  ots_rowset_init(&set);
  ots_buf_t start, end;
  ots_buf_init(&start);
  ots_buf_init(&end);
  ots_buf_t *changes_buf = calloc(REPL_OTS_TIDY_ROWS, sizeof *changes_buf);
  repl_ots_change_t *ch = calloc(REPL_OTS_TIDY_ROWS, sizeof *ch);
  if (!changes_buf || !ch) {
    rc = rv_err_set(err, RV_ENOMEM, "out of memory");
    goto out;
  }
  for (int part = 0; part < 3 && !rc && deleted < REPL_OTS_TIDY_ROWS; part++) {
    int64_t hi = part < 2 ? keep[part] : limit; /* the interval [lo, hi) */
    if (hi > limit) hi = limit;
    if (hi > lo) {
      ots_buf_reset(&start);
      ots_buf_reset(&end);
      rc = repl_ots_encode_key(&start, b->cluster, lo, 0, REPL_OTS_KEY_MIN, NULL, 0, err);
      if (!rc) rc = repl_ots_encode_key(&end, b->cluster, hi, 0, REPL_OTS_KEY_MIN, NULL, 0, err);
      if (!rc) rc = s_range(b, &start, &end, (int32_t)(REPL_OTS_TIDY_ROWS - deleted), &res, err);
      if (!rc && (rc = ots_plainbuf_decode(&set, res.rows.data, res.rows.len, err)))
        rv_err_prefix(err, "GetRange answer: the rows' PlainBuffer");
      size_t n = 0;
      for (size_t i = 0; !rc && i < set.nrows; i++) {
        const ots_row_t *r = &set.rows[i];
        if (r->npk != 3 || r->pk[1].value.type != OTS_VT_INTEGER || r->pk[2].value.type != OTS_VT_BLOB) {
          rc = rv_err_set(err, RV_ECORRUPT, "a row whose key is not (cluster, gen, key)");
          break;
        }
        ots_buf_reset(&changes_buf[n]);
        rc = repl_ots_encode_delete(&changes_buf[n], b->cluster, r->pk[1].value.i,
                                    r->pk[2].value.s.p, r->pk[2].value.s.len, err);
        ch[n] = (repl_ots_change_t){OTS_BATCH_DELETE, ots_buf_bytes(&changes_buf[n]),
                                    r->pk[2].value.s.p, r->pk[2].value.s.len, r->pk[1].value.i};
        n++;
      }
      if (!rc) rc = repl_ots_batch(b, NULL, ch, n, err);
      deleted += n;
      if (!rc && res.has_next) *more = true;
    }
    if (part < 2 && keep[part] + 1 > lo) lo = keep[part] + 1;
  }
  if (deleted >= REPL_OTS_TIDY_ROWS) *more = true;
  if (rc == RV_EDECODE) rc = RV_ECORRUPT;
  if (rc) {
    if (err) err->code = rc;
    rv_err_prefix(err, "%s: tidy (term %" PRIu64 ", generation %" PRIu64 ")", b->describe, term,
                  m.generation);
  }
out:
  for (size_t i = 0; changes_buf && i < REPL_OTS_TIDY_ROWS; i++) ots_buf_close(&changes_buf[i]);
  free(changes_buf);
  free(ch);
  ots_rowset_close(&set);
  ots_range_result_close(&res);
  ots_buf_close(&start);
  ots_buf_close(&end);
  return rc;
}

/* ---- the vtable repl_backend.c dispatches through (repl_backend_int.h) ---- */

static void s_op_close(repl_backend_t *b) {
  repl_ots_t *o = (repl_ots_t *)b;
  repl_ots_close(&o);
}
static const char *s_op_describe(const repl_backend_t *b) {
  return repl_ots_describe((const repl_ots_t *)b);
}
static int s_op_read_meta(repl_backend_t *b, repl_meta_t *meta, rv_err_t *err) {
  return repl_ots_read_meta((repl_ots_t *)b, meta, err);
}
static int s_op_claim(repl_backend_t *b, uint64_t term, repl_meta_t *meta, rv_err_t *err) {
  return repl_ots_claim((repl_ots_t *)b, term, meta, err);
}
static repl_write_t *s_op_write_begin(repl_backend_t *b, uint64_t term, bool base,
                                      uint64_t generation, uint64_t from_index, rv_err_t *err) {
  return (repl_write_t *)repl_ots_write_begin((repl_ots_t *)b, term, base, generation, from_index, err);
}
static int s_op_write_put(repl_write_t *w, const repl_row_t *rows, size_t n, rv_err_t *err) {
  return repl_ots_write_put((repl_ots_write_t *)w, rows, n, err);
}
static int s_op_write_commit(repl_write_t *w, uint64_t to_index, repl_meta_t *meta, rv_err_t *err) {
  repl_ots_write_t *o = (repl_ots_write_t *)w;
  return repl_ots_write_commit(&o, to_index, meta, err);
}
static void s_op_write_abort(repl_write_t *w) {
  repl_ots_write_t *o = (repl_ots_write_t *)w;
  repl_ots_write_abort(&o);
}
static int s_op_tidy(repl_backend_t *b, uint64_t term, bool *more, rv_err_t *err) {
  return repl_ots_tidy((repl_ots_t *)b, term, more, err);
}
static int s_op_scan(repl_backend_t *b, const repl_meta_t *meta, const uint8_t *after, size_t alen,
                     size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key,
                     size_t *last_len, bool *done, rv_err_t *err) {
  return repl_ots_scan((repl_ots_t *)b, meta, after, alen, max_rows, fn, arg, last_key, last_len,
                       done, err);
}

static const repl_backend_ops_t s_ops = {
    .scheme = "tablestore",
    .close = s_op_close,
    .describe = s_op_describe,
    .read_meta = s_op_read_meta,
    .claim = s_op_claim,
    .write_begin = s_op_write_begin,
    .write_put = s_op_write_put,
    .write_commit = s_op_write_commit,
    .write_abort = s_op_write_abort,
    .tidy = s_op_tidy,
    .scan = s_op_scan,
};

repl_backend_t *repl_backend_ots_open(const repl_backend_cfg_t *cfg, rv_err_t *err) {
  repl_ots_t *b = repl_ots_open(cfg, err);
  if (!b) return NULL;
  b->head.ops = &s_ops;
  return &b->head;
}
