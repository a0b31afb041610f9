/* ots_wire, the response side: Tablestore's proto2 responses -> plain C results. Each parser
 * unpacks (protobuf-c refuses malformed bytes and missing required fields), copies what the
 * caller needs into memory the result owns, and frees the message. No I/O. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ots_table_store.pb-c.h"
#include "ots_wire.h"

static void *s_unpack(const ProtobufCMessageDescriptor *d, const char *what, const uint8_t *p,
                      size_t n, rv_err_t *err) {
  static const uint8_t empty[1];
  void *m = protobuf_c_message_unpack(d, NULL, n, n ? p : empty);
  if (!m)
    rv_err_set(err, RV_EDECODE,
               "%s: body of %zu bytes is not a valid message (malformed protobuf or a required "
               "field missing)",
               what, n);
  return m;
}

static void s_copy_str(char *dst, size_t cap, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= cap) n = cap - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = '\0';
}

static void s_error(ots_error_t *out, const Otsproto__Error *e) {
  s_copy_str(out->code, sizeof out->code, e ? e->code : NULL);
  s_copy_str(out->message, sizeof out->message, e ? e->message : NULL);
}

static ots_capacity_t s_capacity(const Otsproto__ConsumedCapacity *c) {
  ots_capacity_t r = {0, 0};
  if (c && c->capacity_unit) {
    r.read = c->capacity_unit->has_read ? c->capacity_unit->read : 0;
    r.write = c->capacity_unit->has_write ? c->capacity_unit->write : 0;
  }
  return r;
}

int ots_wire_parse_error(const uint8_t *p, size_t n, ots_error_t *out, rv_err_t *err) {
  Otsproto__Error *e = s_unpack(&otsproto__error__descriptor, "Error", p, n, err);
  if (!e) return RV_EDECODE;
  s_error(out, e);
  otsproto__error__free_unpacked(e, NULL);
  return RV_OK;
}

void ots_row_result_init(ots_row_result_t *r) {
  memset(r, 0, sizeof *r);
  ots_buf_init(&r->row);
}

void ots_row_result_close(ots_row_result_t *r) {
  if (!r) return;
  ots_buf_close(&r->row);
}

int ots_wire_parse_row_response(const char *action, const uint8_t *p, size_t n,
                                ots_row_result_t *out, rv_err_t *err) {
  const ProtobufCMessageDescriptor *d;
  if (strcmp(action, "PutRow") == 0) d = &otsproto__put_row_response__descriptor;
  else if (strcmp(action, "UpdateRow") == 0) d = &otsproto__update_row_response__descriptor;
  else if (strcmp(action, "DeleteRow") == 0) d = &otsproto__delete_row_response__descriptor;
  else if (strcmp(action, "GetRow") == 0) d = &otsproto__get_row_response__descriptor;
  else {
    assert(!"ots_wire_parse_row_response: not a row action");
    return rv_err_set(err, RV_EINTERNAL, "not a row action: %s", action);
  }
  ProtobufCMessage *m = s_unpack(d, d->short_name, p, n, err);
  if (!m) return RV_EDECODE;
  /* The four responses put consumed at 1 and row at 2; read them through their own structs. */
  const Otsproto__ConsumedCapacity *c;
  ProtobufCBinaryData row = {0, NULL};
  if (d == &otsproto__get_row_response__descriptor) {
    const Otsproto__GetRowResponse *g = (const Otsproto__GetRowResponse *)m;
    c = g->consumed;
    row = g->row;
  } else if (d == &otsproto__put_row_response__descriptor) {
    const Otsproto__PutRowResponse *r = (const Otsproto__PutRowResponse *)m;
    c = r->consumed;
    if (r->has_row) row = r->row;
  } else if (d == &otsproto__update_row_response__descriptor) {
    const Otsproto__UpdateRowResponse *r = (const Otsproto__UpdateRowResponse *)m;
    c = r->consumed;
    if (r->has_row) row = r->row;
  } else {
    const Otsproto__DeleteRowResponse *r = (const Otsproto__DeleteRowResponse *)m;
    c = r->consumed;
    if (r->has_row) row = r->row;
  }
  out->consumed = s_capacity(c);
  ots_buf_reset(&out->row);
  ots_buf_put(&out->row, row.data, row.len);
  protobuf_c_message_free_unpacked(m, NULL);
  if (!ots_buf_ok(&out->row)) return rv_err_set(err, RV_ENOMEM, "wire: out of memory");
  return RV_OK;
}

void ots_range_result_init(ots_range_result_t *r) {
  memset(r, 0, sizeof *r);
  ots_buf_init(&r->rows);
  ots_buf_init(&r->next_start);
}

void ots_range_result_close(ots_range_result_t *r) {
  if (!r) return;
  ots_buf_close(&r->rows);
  ots_buf_close(&r->next_start);
}

int ots_wire_parse_get_range_response(const uint8_t *p, size_t n, ots_range_result_t *out,
                                      rv_err_t *err) {
  Otsproto__GetRangeResponse *m =
      s_unpack(&otsproto__get_range_response__descriptor, "GetRangeResponse", p, n, err);
  if (!m) return RV_EDECODE;
  out->consumed = s_capacity(m->consumed);
  ots_buf_reset(&out->rows);
  ots_buf_reset(&out->next_start);
  ots_buf_put(&out->rows, m->rows.data, m->rows.len);
  out->has_next = m->has_next_start_primary_key && m->next_start_primary_key.len > 0;
  if (out->has_next)
    ots_buf_put(&out->next_start, m->next_start_primary_key.data, m->next_start_primary_key.len);
  otsproto__get_range_response__free_unpacked(m, NULL);
  if (!ots_buf_ok(&out->rows) || !ots_buf_ok(&out->next_start))
    return rv_err_set(err, RV_ENOMEM, "wire: out of memory");
  return RV_OK;
}

int ots_wire_parse_start_local_transaction_response(const uint8_t *p, size_t n,
                                                    char **transaction_id, rv_err_t *err) {
  Otsproto__StartLocalTransactionResponse *m =
      s_unpack(&otsproto__start_local_transaction_response__descriptor,
               "StartLocalTransactionResponse", p, n, err);
  if (!m) return RV_EDECODE;
  int rc = RV_OK;
  if (!m->transaction_id[0])
    rc = rv_err_set(err, RV_EDECODE, "StartLocalTransactionResponse: empty transaction id");
  else if (!(*transaction_id = strdup(m->transaction_id)))
    rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
  otsproto__start_local_transaction_response__free_unpacked(m, NULL);
  return rc;
}

int ots_wire_parse_empty_response(const char *action, const uint8_t *p, size_t n, rv_err_t *err) {
  const ProtobufCMessageDescriptor *d;
  if (strcmp(action, "CreateTable") == 0) d = &otsproto__create_table_response__descriptor;
  else if (strcmp(action, "DeleteTable") == 0) d = &otsproto__delete_table_response__descriptor;
  else if (strcmp(action, "CommitTransaction") == 0)
    d = &otsproto__commit_transaction_response__descriptor;
  else if (strcmp(action, "AbortTransaction") == 0)
    d = &otsproto__abort_transaction_response__descriptor;
  else {
    assert(!"ots_wire_parse_empty_response: not an empty-response action");
    return rv_err_set(err, RV_EINTERNAL, "not an empty-response action: %s", action);
  }
  ProtobufCMessage *m = s_unpack(d, d->short_name, p, n, err);
  if (!m) return RV_EDECODE;
  protobuf_c_message_free_unpacked(m, NULL);
  return RV_OK;
}

void ots_batch_result_destroy(ots_batch_result_t **rp) {
  if (!rp || !*rp) return;
  ots_batch_result_t *r = *rp;
  for (size_t t = 0; t < r->ntables; t++) {
    for (size_t i = 0; r->rows && r->rows[t] && i < r->nrows[t]; i++) free(r->rows[t][i].row);
    if (r->rows) free(r->rows[t]);
  }
  free(r->rows);
  free(r->nrows);
  free(r);
  *rp = NULL;
}

bool ots_batch_result_retriable(const ots_batch_result_t *r) {
  if (r->nfailed == 0) return false;
  for (size_t t = 0; t < r->ntables; t++)
    for (size_t i = 0; i < r->nrows[t]; i++) {
      const ots_batch_row_result_t *o = &r->rows[t][i];
      if (!o->ok && !ots_retry_code_always(o->error.code, o->error.message)) return false;
    }
  return true;
}

int ots_wire_parse_batch_write_row_response(const uint8_t *p, size_t n,
                                            const ots_batch_table_t *req, size_t ntables,
                                            ots_batch_result_t **out, rv_err_t *err) {
  *out = NULL;
  Otsproto__BatchWriteRowResponse *m =
      s_unpack(&otsproto__batch_write_row_response__descriptor, "BatchWriteRowResponse", p, n, err);
  if (!m) return RV_EDECODE;
  int rc = RV_OK;
  ots_batch_result_t *r = calloc(1, sizeof *r);
  if (!r) {
    rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
    goto out;
  }
  if (m->n_tables != ntables) {
    rc = rv_err_set(err, RV_EDECODE, "BatchWriteRowResponse: %zu tables for a request of %zu",
                    m->n_tables, ntables);
    goto out;
  }
  r->ntables = ntables;
  r->nrows = calloc(ntables ? ntables : 1, sizeof *r->nrows);
  r->rows = calloc(ntables ? ntables : 1, sizeof *r->rows);
  if (!r->nrows || !r->rows) {
    rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
    goto out;
  }
  for (size_t t = 0; t < ntables; t++) {
    const Otsproto__TableInBatchWriteRowResponse *mt = m->tables[t];
    if (strcmp(mt->table_name, req[t].table) != 0 || mt->n_rows != req[t].nrows) {
      rc = rv_err_set(err, RV_EDECODE,
                      "BatchWriteRowResponse: table %zu is \"%.64s\" with %zu rows, the request "
                      "had \"%s\" with %zu",
                      t, mt->table_name, mt->n_rows, req[t].table, req[t].nrows);
      goto out;
    }
    r->rows[t] = calloc(mt->n_rows ? mt->n_rows : 1, sizeof *r->rows[t]);
    if (!r->rows[t]) {
      rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
      goto out;
    }
    r->nrows[t] = mt->n_rows;
    for (size_t i = 0; i < mt->n_rows; i++) {
      const Otsproto__RowInBatchWriteRowResponse *mr = mt->rows[i];
      ots_batch_row_result_t *o = &r->rows[t][i];
      o->ok = mr->is_ok;
      o->consumed = s_capacity(mr->consumed);
      if (!o->ok) {
        r->nfailed++;
        if (!mr->error) {
          rc = rv_err_set(err, RV_EDECODE,
                          "BatchWriteRowResponse: table \"%s\" row %zu failed without an error",
                          req[t].table, i);
          goto out;
        }
        s_error(&o->error, mr->error);
      }
      if (mr->has_row && mr->row.len) {
        if (!(o->row = malloc(mr->row.len))) {
          rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
          goto out;
        }
        memcpy(o->row, mr->row.data, mr->row.len);
        o->row_len = mr->row.len;
      }
    }
  }
out:
  otsproto__batch_write_row_response__free_unpacked(m, NULL);
  if (rc) ots_batch_result_destroy(&r);
  *out = r;
  return rc;
}

void ots_table_desc_destroy(ots_table_desc_t **dp) {
  if (!dp || !*dp) return;
  ots_table_desc_t *d = *dp;
  free(d->table);
  for (size_t i = 0; i < d->npk; i++) free((char *)d->pk[i].name);
  free(d);
  *dp = NULL;
}

int ots_wire_parse_describe_table_response(const uint8_t *p, size_t n, ots_table_desc_t **out,
                                           rv_err_t *err) {
  *out = NULL;
  Otsproto__DescribeTableResponse *m =
      s_unpack(&otsproto__describe_table_response__descriptor, "DescribeTableResponse", p, n, err);
  if (!m) return RV_EDECODE;
  int rc = RV_OK;
  ots_table_desc_t *d = calloc(1, sizeof *d);
  if (!d || !(d->table = strdup(m->table_meta->table_name))) {
    rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
    goto out;
  }
  if (m->table_meta->n_primary_key < 1 || m->table_meta->n_primary_key > OTS_PK_COLUMNS_MAX) {
    rc = rv_err_set(err, RV_EDECODE, "DescribeTableResponse: %zu primary key columns",
                    m->table_meta->n_primary_key);
    goto out;
  }
  for (size_t i = 0; i < m->table_meta->n_primary_key; i++) {
    const Otsproto__PrimaryKeySchema *s = m->table_meta->primary_key[i];
    if (!(d->pk[i].name = strdup(s->name))) {
      rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
      goto out;
    }
    d->npk = i + 1;
    d->pk[i].type = (ots_pk_type_t)s->type;
    d->pk[i].auto_increment = s->has_option && s->option == OTSPROTO__PRIMARY_KEY_OPTION__AUTO_INCREMENT;
  }
  d->time_to_live = m->table_options->has_time_to_live ? m->table_options->time_to_live : 0;
  d->max_versions = m->table_options->has_max_versions ? m->table_options->max_versions : 0;
  const Otsproto__CapacityUnit *cu = m->reserved_throughput_details->capacity_unit;
  d->reserved.read = cu->has_read ? cu->read : 0;
  d->reserved.write = cu->has_write ? cu->write : 0;
  d->table_status = m->has_table_status ? (int)m->table_status : 0;
out:
  otsproto__describe_table_response__free_unpacked(m, NULL);
  if (rc) ots_table_desc_destroy(&d);
  *out = d;
  return rc;
}

void ots_wire_names_free(char **names, size_t count) {
  for (size_t i = 0; names && i < count; i++) free(names[i]);
  free(names);
}

int ots_wire_parse_list_table_response(const uint8_t *p, size_t n, char ***names, size_t *count,
                                       rv_err_t *err) {
  *names = NULL;
  *count = 0;
  Otsproto__ListTableResponse *m =
      s_unpack(&otsproto__list_table_response__descriptor, "ListTableResponse", p, n, err);
  if (!m) return RV_EDECODE;
  int rc = RV_OK;
  char **v = calloc(m->n_table_names ? m->n_table_names : 1, sizeof *v);
  size_t k = 0;
  if (!v) rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
  for (; !rc && k < m->n_table_names; k++)
    if (!(v[k] = strdup(m->table_names[k]))) rc = rv_err_set(err, RV_ENOMEM, "wire: out of memory");
  otsproto__list_table_response__free_unpacked(m, NULL);
  if (rc) {
    ots_wire_names_free(v, k);
    return rc;
  }
  *names = v;
  *count = k;
  return RV_OK;
}
