/* srv_batch.c: BatchWriteRow (reference 3.4): request-level checks first (tables exist, no
 * duplicate table, no empty table, no duplicate key in a table, <= 200 rows, <= 4 MiB of row
 * data, every row change parses), then each row is applied on its own with a positional result;
 * rows that pass are committed together (or stay in the transaction's batch). */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum { MAX_ROWS = 200, MAX_BYTES = 4194304 };

_Thread_local srv_rowfail_t srv_rowfail;

static int key_cmp(const void *a, const void *b) {
  const srv_buf_t *x = a, *y = b;
  size_t m = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->p, y->p, m);
  return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

/* Request-level validation; fills tabs[] with the tables' schemas. */
static int check_request(srv_t *s, const Otssrv__BatchWriteRowRequest *rq, srv_table_t *tabs, srv_err_t *e) {
  size_t rows = 0, bytes = 0;
  if (rq->n_tables == 0) return srv_fail(e, SRV_PARAM, "No table is specified in BatchWriteRow.");
  for (size_t i = 0; i < rq->n_tables; i++) {
    rows += rq->tables[i]->n_rows;
    for (size_t j = 0; j < rq->tables[i]->n_rows; j++) bytes += rq->tables[i]->rows[j]->row_change.len;
  }
  if (rows > MAX_ROWS) return srv_fail(e, SRV_PARAM, "Rows count exceeds the upper limit: %d.", MAX_ROWS);
  if (bytes > MAX_BYTES)
    return srv_fail(e, SRV_PARAM, "The total data size of BatchWriteRow request exceeds the limit, limit size: %d, data size: %zu.",
                    MAX_BYTES, bytes);
  for (size_t i = 0; i < rq->n_tables; i++) {
    const Otssrv__TableInBatchWriteRowRequest *tb = rq->tables[i];
    for (size_t j = 0; j < i; j++)
      if (strcmp(rq->tables[j]->table_name, tb->table_name) == 0)
        return srv_fail(e, SRV_PARAM, "Duplicated table name: '%s'.", tb->table_name);
    if (tb->n_rows == 0) return srv_fail(e, SRV_PARAM, "No row is specified in table: '%s'.", tb->table_name);
    if (srv_table_load(s, tb->table_name, &tabs[i], e))
      return srv_fail(e, SRV_PARAM, "Requested table does not exist: '%s'.", tb->table_name);
    srv_buf_t *keys = calloc(tb->n_rows, sizeof *keys);
    if (!keys) return srv_fail(e, 500, "OTSInternalServerError", "out of memory");
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < tb->n_rows; j++) {
      srv_row_t *r;
      size_t nr;
      char perr[300];
      const Otssrv__RowInBatchWriteRowRequest *row = tb->rows[j];
      if ((int)row->type < SRV_W_PUT || (int)row->type > SRV_W_DELETE) {
        rc = srv_fail(e, SRV_PARAM, "Invalid operation type %d of row %zu in table '%s'.", (int)row->type, j, tb->table_name);
      } else if (srv_pbuf_decode(row->row_change.data, row->row_change.len, 1, &r, &nr, perr, sizeof perr)) {
        rc = srv_fail(e, SRV_PARAM, "Row %zu in table '%s': %s", j, tb->table_name, perr);
      } else {
        rc = srv_pk_check(&tabs[i], r->pk, r->npk, false, e);
        if (rc == 0) srv_row_key(&keys[j], tb->table_name, r->pk, r->npk);
        srv_rows_free(r, nr);
      }
    }
    if (rc == 0) {
      qsort(keys, tb->n_rows, sizeof *keys, key_cmp);
      for (size_t j = 1; j < tb->n_rows; j++)
        if (key_cmp(&keys[j - 1], &keys[j]) == 0) {
          rc = srv_fail(e, SRV_PARAM, "Duplicated primary key in table '%s' of BatchWriteRow.", tb->table_name);
          break;
        }
    }
    for (size_t j = 0; j < tb->n_rows; j++) srv_buf_close(&keys[j]);
    free(keys);
    if (rc) return rc;
  }
  return 0;
}

static bool injected_fail(int index) {
  for (int i = 0; i < srv_rowfail.count && i < 16; i++)
    if (srv_rowfail.index[i] == index) return true;
  return false;
}

int srv_op_batch_write_row(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__BatchWriteRowRequest *rq = otssrv__batch_write_row_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed BatchWriteRowRequest (missing required field or bad protobuf).");
  int rc = -1;
  srv_txn_t *txn = NULL;
  srv_table_t *tabs = calloc(rq->n_tables ? rq->n_tables : 1, sizeof *tabs);
  size_t total = 0;
  for (size_t i = 0; i < rq->n_tables; i++) total += rq->tables[i]->n_rows;
  Otssrv__TableInBatchWriteRowResponse *tr = calloc(rq->n_tables ? rq->n_tables : 1, sizeof *tr);
  Otssrv__TableInBatchWriteRowResponse **trp = calloc(rq->n_tables ? rq->n_tables : 1, sizeof *trp);
  Otssrv__RowInBatchWriteRowResponse *rr = calloc(total ? total : 1, sizeof *rr);
  Otssrv__RowInBatchWriteRowResponse **rrp = calloc(total ? total : 1, sizeof *rrp);
  Otssrv__Error *errs = calloc(total ? total : 1, sizeof *errs);
  srv_err_t *emsg = calloc(total ? total : 1, sizeof *emsg);
  srv_buf_t *rows = calloc(total ? total : 1, sizeof *rows);
  Otssrv__ConsumedCapacity c;
  Otssrv__CapacityUnit cu;
  rocksdb_writebatch_wi_t *wb = NULL;
  if (!tabs || !tr || !trp || !rr || !rrp || !errs || !emsg || !rows) { srv_fail(e, 500, "OTSInternalServerError", "out of memory"); goto done; }
  if (check_request(s, rq, tabs, e)) goto done;
  if (rq->transaction_id && srv_txn_find(s, rq->transaction_id, &txn, e)) goto done;
  if (rq->has_is_atomic && rq->is_atomic && !txn) {
    srv_fail(e, SRV_PARAM, "is_atomic without a transaction_id is not supported by rv-ots-server.");
    goto done;
  }
  wb = txn ? txn->wb : rocksdb_writebatch_wi_create(0, 1);
  srv_consumed(&c, &cu, 0, 1);
  size_t k = 0;
  for (size_t i = 0; i < rq->n_tables; i++) {
    const Otssrv__TableInBatchWriteRowRequest *tb = rq->tables[i];
    otssrv__table_in_batch_write_row_response__init(&tr[i]);
    trp[i] = &tr[i];
    tr[i].table_name = tb->table_name;
    tr[i].n_rows = tb->n_rows;
    tr[i].rows = &rrp[k];
    for (size_t j = 0; j < tb->n_rows; j++, k++) {
      const Otssrv__RowInBatchWriteRowRequest *row = tb->rows[j];
      otssrv__row_in_batch_write_row_response__init(&rr[k]);
      rrp[k] = &rr[k];
      int bad;
      if (rq->has_is_atomic && rq->is_atomic) /* with a transaction: every row fails (3.4, [BELIEF]) */
        bad = srv_fail(&emsg[k], 409, "OTSRowOperationConflict", "is_atomic cannot be combined with a transaction.");
      else if (injected_fail((int)k))
        bad = srv_fail(&emsg[k], 503, srv_rowfail.code, "Injected row failure (rv-ots-server fault).");
      else
        bad = srv_write_row(s, &tabs[i], wb, txn, (int)row->type, row->row_change.data, row->row_change.len, row->condition,
                            row->return_content, now, &rows[k], &emsg[k]);
      rr[k].is_ok = bad == 0;
      if (bad) {
        otssrv__error__init(&errs[k]);
        errs[k].code = emsg[k].code;
        errs[k].message = emsg[k].msg;
        rr[k].error = &errs[k];
      } else {
        rr[k].consumed = &c;
        if (rows[k].len) { rr[k].has_row = 1; rr[k].row.data = rows[k].p; rr[k].row.len = rows[k].len; }
      }
    }
  }
  if (!txn && srv_commit(s, wb, e)) goto done;
  Otssrv__BatchWriteRowResponse rs = OTSSRV__BATCH_WRITE_ROW_RESPONSE__INIT;
  rs.n_tables = rq->n_tables;
  rs.tables = trp;
  srv_pack(&rs.base, out);
  rc = 0;
done:
  if (wb && !txn) rocksdb_writebatch_wi_destroy(wb);
  for (size_t i = 0; rows && i < total; i++) srv_buf_close(&rows[i]);
  free(rows);
  free(emsg);
  free(errs);
  free(rrp);
  free(rr);
  free(trp);
  free(tr);
  free(tabs);
  otssrv__batch_write_row_request__free_unpacked(rq, NULL);
  return rc;
}
