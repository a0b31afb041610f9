/* srv_rows.c: PutRow, GetRow, UpdateRow, DeleteRow (reference 3.3) and the row-change logic
 * BatchWriteRow shares. Rows keep the latest version of each column, with its timestamp. */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum { MAX_COLUMNS = 1024, MAX_COLUMNS_TO_GET = 128, MAX_ATTR_BYTES = 2 * 1024 * 1024 };
static const int64_t TS_LIMIT = INT64_MAX / 1000;

void srv_consumed(Otssrv__ConsumedCapacity *c, Otssrv__CapacityUnit *cu, int read, int write) {
  otssrv__capacity_unit__init(cu);
  otssrv__consumed_capacity__init(c);
  cu->has_read = cu->has_write = 1;
  cu->read = read;
  cu->write = write;
  c->capacity_unit = cu;
}

static int check_attrs(int kind, const srv_row_t *r, srv_err_t *e) {
  if (kind == SRV_W_DELETE) {
    if (!r->delete_marker) return srv_fail(e, SRV_PARAM, "A delete row change must carry the delete-row marker (0x08).");
    if (r->nattrs) return srv_fail(e, SRV_PARAM, "A delete row change must not carry attribute columns.");
    return 0;
  }
  if (r->delete_marker) return srv_fail(e, SRV_PARAM, "Only a delete row change may carry the delete-row marker.");
  if (r->nattrs > MAX_COLUMNS)
    return srv_fail(e, SRV_PARAM, "The number of columns from the request exceeds the limit, limit count: %d, column count: %zu.",
                    MAX_COLUMNS, r->nattrs);
  for (size_t i = 0; i < r->nattrs; i++) {
    const srv_cell_t *c = &r->attrs[i];
    for (size_t j = 0; j < i; j++)
      if (strcmp(r->attrs[j].name, c->name) == 0) return srv_fail(e, SRV_PARAM, "Duplicated attribute column name: '%s'.", c->name);
    if (c->has_ts && (c->ts < 0 || c->ts >= TS_LIMIT))
      return srv_fail(e, SRV_PARAM, "Timestamp must be in range [0, INT64_MAX/1000).");
    if (c->has_value) {
      uint8_t vt = c->v.type;
      if (vt == SRV_VT_INF_MIN || vt == SRV_VT_INF_MAX || vt == SRV_VT_AUTO_INC)
        return srv_fail(e, SRV_PARAM, "Attribute column '%s' cannot hold %s.", c->name, srv_vt_name(vt));
      if ((vt == SRV_VT_STRING || vt == SRV_VT_BLOB) && c->v.len > MAX_ATTR_BYTES)
        return srv_fail(e, SRV_PARAM, "The length of attribute column: '%s' exceeds the MaxLength:%d with CurrentLength:%u.",
                        c->name, MAX_ATTR_BYTES, c->v.len);
    }
    if (kind == SRV_W_PUT) {
      if (c->has_op) return srv_fail(e, SRV_PARAM, "A put row change must not carry a cell operation type (column '%s').", c->name);
      if (!c->has_value) return srv_fail(e, SRV_PARAM, "Column '%s' of a put row change has no value.", c->name);
      continue;
    }
    if (!c->has_op && !c->has_value) return srv_fail(e, SRV_PARAM, "Column '%s' of an update has no value.", c->name);
    if (c->has_op && c->op == SRV_OP_DELETE_ALL && (c->has_value || c->has_ts))
      return srv_fail(e, SRV_PARAM, "DELETE_ALL_VERSION of column '%s' takes no value and no timestamp.", c->name);
    if (c->has_op && c->op == SRV_OP_DELETE_ONE && (c->has_value || !c->has_ts))
      return srv_fail(e, SRV_PARAM, "DELETE_ONE_VERSION of column '%s' takes a timestamp and no value.", c->name);
    if (c->has_op && c->op == SRV_OP_INCREMENT && (!c->has_value || c->v.type != SRV_VT_INTEGER || c->has_ts))
      return srv_fail(e, SRV_PARAM, "INCREMENT of column '%s' takes an integer value and no timestamp.", c->name);
  }
  return 0;
}

static int find_attr(const srv_cell_t *a, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i].name, name) == 0) return (int)i;
  return -1;
}

/* The new attribute list after applying change r to cur (may be NULL); cells are shallow
 * copies pointing into r or cur, so both must outlive the result. */
static int merge(int kind, const srv_row_t *cur, const srv_row_t *r, int64_t now, srv_cell_t **out, size_t *nout,
                 srv_err_t *e) {
  size_t cap = (cur ? cur->nattrs : 0) + r->nattrs + 1;
  srv_cell_t *a = calloc(cap, sizeof *a);
  size_t n = 0;
  if (!a) return srv_fail(e, 500, "OTSInternalServerError", "out of memory");
  if (kind == SRV_W_UPDATE && cur)
    for (size_t i = 0; i < cur->nattrs; i++) a[n++] = cur->attrs[i];
  for (size_t i = 0; i < r->nattrs; i++) {
    const srv_cell_t *c = &r->attrs[i];
    int at = find_attr(a, n, c->name);
    if (c->has_op && (c->op == SRV_OP_DELETE_ALL || c->op == SRV_OP_DELETE_ONE)) {
      if (at >= 0 && (c->op == SRV_OP_DELETE_ALL || a[at].ts == c->ts)) a[at] = a[--n];
      continue;
    }
    srv_cell_t nc = *c;
    nc.has_op = false;
    nc.has_ts = true;
    if (!c->has_ts) nc.ts = now;
    if (c->has_op && c->op == SRV_OP_INCREMENT) {
      if (at >= 0 && a[at].v.type != SRV_VT_INTEGER) {
        free(a);
        return srv_fail(e, SRV_PARAM, "Column '%s' to increment is not an integer.", c->name);
      }
      nc.v.i = (int64_t)((uint64_t)(at >= 0 ? a[at].v.i : 0) + (uint64_t)c->v.i);
    }
    if (at >= 0) a[at] = nc; else a[n++] = nc;
  }
  *out = a;
  *nout = n;
  return 0;
}

int srv_write_row(srv_t *s, const srv_table_t *t, rocksdb_writebatch_wi_t *wb, const srv_txn_t *txn, int kind,
                  const uint8_t *change, size_t n, const Otssrv__Condition *cond,
                  const Otssrv__ReturnContent *ret_content, int64_t now, srv_buf_t *ret, srv_err_t *e) {
  srv_row_t *r = NULL, *cur = NULL;
  size_t nr = 0;
  srv_cell_t *attrs = NULL;
  size_t nattrs = 0;
  srv_buf_t key = {0}, val = {0};
  char perr[300];
  int rc = -1, found = 0;
  if (srv_pbuf_decode(change, n, 1, &r, &nr, perr, sizeof perr)) { srv_fail(e, SRV_PARAM, "%s", perr); goto done; }
  if (srv_pk_check(t, r->pk, r->npk, false, e) || check_attrs(kind, r, e)) goto done;
  srv_row_key(&key, t->name, r->pk, r->npk);
  if (txn && !srv_txn_covers(txn, t->name, key.p, key.len)) {
    srv_fail(e, SRV_PARAM, "The row is outside the transaction's table and partition key.");
    goto done;
  }
  if (srv_txn_conflict(s, key.p, key.len, txn)) {
    srv_fail(e, 409, "OTSRowOperationConflict", "Data is being modified by the other request.");
    goto done;
  }
  if ((found = srv_row_read(s, wb, key.p, key.len, &cur, e)) < 0) goto done;
  if (srv_condition_check(cond, found ? cur : NULL, e)) goto done;
  if (kind == SRV_W_DELETE) {
    rocksdb_writebatch_wi_delete(wb, (char *)key.p, key.len);
  } else {
    if (merge(kind, found ? cur : NULL, r, now, &attrs, &nattrs, e)) goto done;
    srv_pbuf_encode_header(&val);
    srv_pbuf_encode_row(&val, r->pk, r->npk, attrs, nattrs, false);
    if (val.failed) { srv_fail(e, 500, "OTSInternalServerError", "out of memory"); goto done; }
    rocksdb_writebatch_wi_put(wb, (char *)key.p, key.len, (char *)val.p, val.len);
  }
  if (ret_content && ret_content->has_return_type && ret_content->return_type != OTSSRV__RETURN_TYPE__RT_NONE) {
    size_t k = 0;
    /* RT_AFTER_MODIFY: the changed columns' new values; RT_PK: the key only */
    for (size_t i = 0; ret_content->return_type == OTSSRV__RETURN_TYPE__RT_AFTER_MODIFY && i < nattrs; i++)
      if (find_attr(r->attrs, r->nattrs, attrs[i].name) >= 0) attrs[k++] = attrs[i];
    srv_pbuf_encode_header(ret);
    srv_pbuf_encode_row(ret, r->pk, r->npk, attrs, k, false);
  }
  rc = 0;
done:
  free(attrs); /* shallow: the cells' strings belong to r and cur */
  srv_buf_close(&key);
  srv_buf_close(&val);
  srv_rows_free(r, nr);
  if (found > 0) srv_rows_free(cur, 1);
  return rc;
}

/* PutRow, UpdateRow, DeleteRow share one shape once unpacked. */
static int single_write(srv_t *s, const char *table, int kind, const ProtobufCBinaryData *change,
                        const Otssrv__Condition *cond, const Otssrv__ReturnContent *rcnt, const char *txn_id,
                        int64_t now, srv_buf_t *out, srv_err_t *e) {
  srv_table_t t;
  srv_txn_t *txn = NULL;
  if (srv_table_load(s, table, &t, e)) return -1;
  if (txn_id && srv_txn_find(s, txn_id, &txn, e)) return -1;
  rocksdb_writebatch_wi_t *wb = txn ? txn->wb : rocksdb_writebatch_wi_create(0, 1);
  srv_buf_t row = {0};
  int rc = srv_write_row(s, &t, wb, txn, kind, change->data, change->len, cond, rcnt, now, &row, e);
  if (rc == 0 && !txn) rc = srv_commit(s, wb, e);
  if (!txn) rocksdb_writebatch_wi_destroy(wb);
  if (rc == 0) {
    /* Put/Update/DeleteRowResponse share the wire shape {consumed=1, row=2}. */
    Otssrv__PutRowResponse rs = OTSSRV__PUT_ROW_RESPONSE__INIT;
    Otssrv__ConsumedCapacity c;
    Otssrv__CapacityUnit cu;
    srv_consumed(&c, &cu, 0, 1);
    rs.consumed = &c;
    if (row.len) { rs.has_row = 1; rs.row.data = row.p; rs.row.len = row.len; }
    srv_pack(&rs.base, out);
  }
  srv_buf_close(&row);
  return rc;
}

int srv_op_put_row(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__PutRowRequest *rq = otssrv__put_row_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed PutRowRequest (missing required field or bad protobuf).");
  int rc = single_write(s, rq->table_name, SRV_W_PUT, &rq->row, rq->condition, rq->return_content, rq->transaction_id, now, out, e);
  otssrv__put_row_request__free_unpacked(rq, NULL);
  return rc;
}

int srv_op_update_row(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__UpdateRowRequest *rq = otssrv__update_row_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed UpdateRowRequest (missing required field or bad protobuf).");
  int rc = single_write(s, rq->table_name, SRV_W_UPDATE, &rq->row_change, rq->condition, rq->return_content,
                        rq->transaction_id, now, out, e);
  otssrv__update_row_request__free_unpacked(rq, NULL);
  return rc;
}

int srv_op_delete_row(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__DeleteRowRequest *rq = otssrv__delete_row_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed DeleteRowRequest (missing required field or bad protobuf).");
  int rc = single_write(s, rq->table_name, SRV_W_DELETE, &rq->primary_key, rq->condition, rq->return_content,
                        rq->transaction_id, now, out, e);
  otssrv__delete_row_request__free_unpacked(rq, NULL);
  return rc;
}

int srv_read_check(bool has_max_versions, int32_t max_versions, const Otssrv__TimeRange *tr, size_t ncols,
                   srv_err_t *e) {
  if (!has_max_versions && !tr) return srv_fail(e, SRV_PARAM, "No version condition is specified while querying row.");
  if (has_max_versions && max_versions <= 0) return srv_fail(e, SRV_PARAM, "max_versions must be greater than 0.");
  if (tr && !tr->has_specific_time && !(tr->has_start_time && tr->has_end_time && tr->start_time < tr->end_time))
    return srv_fail(e, SRV_PARAM, "Invalid time_range: give specific_time, or start_time < end_time.");
  if (ncols > MAX_COLUMNS_TO_GET)
    return srv_fail(e, SRV_PARAM, "The number of columns to get exceeds the limit: %d, got %zu.", MAX_COLUMNS_TO_GET, ncols);
  return 0;
}

static bool in_time(const srv_cell_t *c, const Otssrv__TimeRange *tr) {
  if (!tr) return true;
  if (tr->has_specific_time) return c->ts == tr->specific_time;
  return c->ts >= tr->start_time && c->ts < tr->end_time;
}

size_t srv_read_project(srv_buf_t *b, const srv_row_t *row, char **cols, size_t ncols, const Otssrv__TimeRange *tr) {
  srv_cell_t *a = calloc(row->nattrs + 1, sizeof *a);
  size_t k = 0, before = b->len;
  if (!a) { b->failed = true; return 0; }
  for (size_t i = 0; i < row->nattrs; i++) {
    bool want = ncols == 0;
    for (size_t j = 0; !want && j < ncols; j++) want = strcmp(cols[j], row->attrs[i].name) == 0;
    if (want && in_time(&row->attrs[i], tr)) a[k++] = row->attrs[i];
  }
  bool pk_asked = false;
  for (size_t j = 0; j < ncols; j++)
    for (size_t i = 0; i < row->npk; i++) pk_asked |= strcmp(cols[j], row->pk[i].name) == 0;
  if (ncols == 0 || k || pk_asked) srv_pbuf_encode_row(b, row->pk, row->npk, a, k, false);
  free(a);
  return b->len - before;
}

int srv_op_get_row(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__GetRowRequest *rq = otssrv__get_row_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed GetRowRequest (missing required field or bad protobuf).");
  srv_table_t t;
  srv_txn_t *txn = NULL;
  srv_row_t *pk = NULL, *cur = NULL;
  size_t npk = 0;
  srv_buf_t key = {0}, row = {0};
  char perr[300];
  int rc = -1, found = 0;
  if (srv_table_load(s, rq->table_name, &t, e)) goto done;
  if (srv_read_check(rq->has_max_versions, rq->max_versions, rq->time_range, rq->n_columns_to_get, e)) goto done;
  if (rq->has_filter && srv_filter_check(rq->filter.data, rq->filter.len, e)) goto done;
  if (srv_pbuf_decode(rq->primary_key.data, rq->primary_key.len, 1, &pk, &npk, perr, sizeof perr)) {
    srv_fail(e, SRV_PARAM, "%s", perr);
    goto done;
  }
  if (pk->nattrs || pk->delete_marker) { srv_fail(e, SRV_PARAM, "The primary_key of GetRow must hold key columns only."); goto done; }
  if (srv_pk_check(&t, pk->pk, pk->npk, false, e)) goto done;
  if (rq->transaction_id && srv_txn_find(s, rq->transaction_id, &txn, e)) goto done;
  srv_row_key(&key, t.name, pk->pk, pk->npk);
  if ((found = srv_row_read(s, txn ? txn->wb : NULL, key.p, key.len, &cur, e)) < 0) goto done;
  if (found && (!rq->has_filter || srv_filter_eval(rq->filter.data, rq->filter.len, cur))) {
    srv_pbuf_encode_header(&row);
    if (srv_read_project(&row, cur, rq->columns_to_get, rq->n_columns_to_get, rq->time_range) == 0) row.len = 0;
  }
  Otssrv__GetRowResponse rs = OTSSRV__GET_ROW_RESPONSE__INIT;
  Otssrv__ConsumedCapacity c;
  Otssrv__CapacityUnit cu;
  srv_consumed(&c, &cu, 1, 0);
  rs.consumed = &c;
  rs.row.data = row.p;
  rs.row.len = row.len; /* absent row: present but empty (3.3) */
  srv_pack(&rs.base, out);
  rc = 0;
done:
  srv_buf_close(&key);
  srv_buf_close(&row);
  srv_rows_free(pk, npk);
  if (found > 0) srv_rows_free(cur, 1);
  otssrv__get_row_request__free_unpacked(rq, NULL);
  return rc;
}
