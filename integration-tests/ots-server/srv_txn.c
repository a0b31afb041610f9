/* srv_txn.c: local transactions (reference 3.6): one partition key of one table, writes kept in
 * a RocksDB write batch with index (its reads see them, nobody else does) until commit; expiry
 * after txn_timeout_ms; non-transactional writes to a held partition conflict. Callers hold mu. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

static void txn_drop(srv_t *s, size_t i) {
  rocksdb_writebatch_wi_destroy(s->txns[i].wb);
  srv_buf_close(&s->txns[i].pkey);
  s->txns[i] = s->txns[--s->ntxns];
}

void srv_txn_expire(srv_t *s, int64_t now_ms) {
  for (size_t i = 0; i < s->ntxns;) {
    if (s->txns[i].deadline_ms <= now_ms) {
      fprintf(stderr, "rv-ots-server: transaction %s expired, aborted\n", s->txns[i].id);
      txn_drop(s, i);
    } else {
      i++;
    }
  }
}

int srv_txn_find(srv_t *s, const char *id, srv_txn_t **txn, srv_err_t *e) {
  for (size_t i = 0; i < s->ntxns; i++)
    if (strcmp(s->txns[i].id, id) == 0) { *txn = &s->txns[i]; return 0; }
  return srv_fail(e, SRV_PARAM, "TransactionID is invalid.");
}

bool srv_txn_covers(const srv_txn_t *t, const char *table, const uint8_t *key, size_t klen) {
  return strcmp(t->table, table) == 0 && klen >= t->pkey.len && memcmp(key, t->pkey.p, t->pkey.len) == 0;
}

bool srv_txn_conflict(srv_t *s, const uint8_t *key, size_t klen, const srv_txn_t *self) {
  for (size_t i = 0; i < s->ntxns; i++) {
    const srv_txn_t *t = &s->txns[i];
    if (t != self && klen >= t->pkey.len && memcmp(key, t->pkey.p, t->pkey.len) == 0) return true;
  }
  return false;
}

int srv_op_start_txn(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__StartLocalTransactionRequest *rq = otssrv__start_local_transaction_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed StartLocalTransactionRequest (missing required field or bad protobuf).");
  srv_table_t t;
  srv_row_t *row = NULL;
  size_t nrows = 0;
  srv_buf_t key = {0};
  char perr[300];
  int rc = -1;
  if (srv_table_load(s, rq->table_name, &t, e)) goto done;
  if (srv_pbuf_decode(rq->key.data, rq->key.len, 1, &row, &nrows, perr, sizeof perr)) {
    srv_fail(e, SRV_PARAM, "Invalid key: %s", perr);
    goto done;
  }
  if (row->npk != 1 || row->nattrs || row->delete_marker) {
    srv_fail(e, SRV_PARAM, "StartLocalTransaction support only one primary key.");
    goto done;
  }
  srv_table_t one = t;
  one.npk = 1; /* only the partition key is checked */
  if (srv_pk_check(&one, row->pk, 1, false, e)) goto done;
  srv_row_key(&key, t.name, row->pk, 1);
  if (srv_txn_conflict(s, key.p, key.len, NULL)) {
    srv_fail(e, 409, "OTSRowOperationConflict", "Data is being modified by the other request.");
    goto done;
  }
  if (s->ntxns == s->captxns) {
    size_t cap = s->captxns ? s->captxns * 2 : 8;
    srv_txn_t *nt = realloc(s->txns, cap * sizeof *nt);
    if (!nt) { srv_fail(e, 500, "OTSInternalServerError", "out of memory"); goto done; }
    s->txns = nt;
    s->captxns = cap;
  }
  srv_txn_t *x = &s->txns[s->ntxns++];
  memset(x, 0, sizeof *x);
  snprintf(x->id, sizeof x->id, "%016" PRIX64 "%08" PRIX64, (uint64_t)now, ++s->txn_seq);
  snprintf(x->table, sizeof x->table, "%s", t.name);
  x->pkey = key;
  key = (srv_buf_t){0};
  x->wb = rocksdb_writebatch_wi_create(0, 1);
  x->deadline_ms = now + s->txn_timeout_ms;
  Otssrv__StartLocalTransactionResponse rs = OTSSRV__START_LOCAL_TRANSACTION_RESPONSE__INIT;
  rs.transaction_id = x->id;
  srv_pack(&rs.base, out);
  rc = 0;
done:
  srv_buf_close(&key);
  srv_rows_free(row, nrows);
  otssrv__start_local_transaction_request__free_unpacked(rq, NULL);
  return rc;
}

static int end_txn(srv_t *s, const char *id, bool commit, srv_err_t *e) {
  srv_txn_t *t = NULL;
  if (srv_txn_find(s, id, &t, e)) return -1;
  int rc = commit ? srv_commit(s, t->wb, e) : 0;
  txn_drop(s, (size_t)(t - s->txns));
  return rc;
}

int srv_op_commit_txn(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__CommitTransactionRequest *rq = otssrv__commit_transaction_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed CommitTransactionRequest (missing required field or bad protobuf).");
  int rc = end_txn(s, rq->transaction_id, true, e);
  otssrv__commit_transaction_request__free_unpacked(rq, NULL);
  return rc; /* CommitTransactionResponse is empty: zero bytes */
}

int srv_op_abort_txn(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__AbortTransactionRequest *rq = otssrv__abort_transaction_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed AbortTransactionRequest (missing required field or bad protobuf).");
  int rc = end_txn(s, rq->transaction_id, false, e);
  otssrv__abort_transaction_request__free_unpacked(rq, NULL);
  return rc;
}
