/* srv_store.c: the RocksDB side of rv-ots-server: open, table schemas, primary-key checks
 * against a schema, row keys, row reads through a transaction's batch, commits. I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

int srv_fail(srv_err_t *e, int http, const char *code, const char *fmt, ...) {
  va_list ap;
  e->http = http;
  snprintf(e->code, sizeof e->code, "%s", code);
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return -1;
}

int srv_open(srv_t *s, const char *path, char *err, size_t errlen) {
  char *rerr = NULL;
  memset(s, 0, sizeof *s);
  s->opts = rocksdb_options_create();
  rocksdb_options_set_create_if_missing(s->opts, 1);
  s->db = rocksdb_open(s->opts, path, &rerr);
  if (!s->db) {
    snprintf(err, errlen, "rocksdb open %s: %s", path, rerr ? rerr : "unknown error");
    rocksdb_free(rerr);
    rocksdb_options_destroy(s->opts);
    return -1;
  }
  s->ro = rocksdb_readoptions_create();
  s->wo = rocksdb_writeoptions_create();
  rocksdb_writeoptions_set_sync(s->wo, 1);
  pthread_mutex_init(&s->mu, NULL);
  s->txn_timeout_ms = 60000;
  return 0;
}

void srv_close(srv_t *s) {
  if (!s->db) return;
  for (size_t i = 0; i < s->ntxns; i++) {
    rocksdb_writebatch_wi_destroy(s->txns[i].wb);
    srv_buf_close(&s->txns[i].pkey);
  }
  free(s->txns);
  rocksdb_close(s->db);
  rocksdb_readoptions_destroy(s->ro);
  rocksdb_writeoptions_destroy(s->wo);
  rocksdb_options_destroy(s->opts);
  pthread_mutex_destroy(&s->mu);
  memset(s, 0, sizeof *s);
}

int srv_table_load(srv_t *s, const char *name, srv_table_t *t, srv_err_t *e) {
  char key[SRV_NAME_MAX + 2];
  char *rerr = NULL;
  size_t vl = 0;
  if (strlen(name) > SRV_NAME_MAX) return srv_fail(e, 404, "OTSObjectNotExist", "Requested table does not exist.");
  key[0] = 'm';
  strcpy(key + 1, name);
  char *v = rocksdb_get(s->db, s->ro, key, strlen(key), &vl, &rerr);
  if (rerr) { srv_fail(e, 500, "OTSInternalServerError", "rocksdb get: %s", rerr); rocksdb_free(rerr); return -1; }
  if (!v) return srv_fail(e, 404, "OTSObjectNotExist", "Requested table does not exist.");
  Otssrv__DescribeTableResponse *d = otssrv__describe_table_response__unpack(NULL, vl, (uint8_t *)v);
  rocksdb_free(v);
  if (!d) return srv_fail(e, 500, "OTSInternalServerError", "stored meta of table %s is corrupt", name);
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->npk = d->table_meta->n_primary_key;
  for (size_t i = 0; i < t->npk && i < SRV_MAX_PK; i++) {
    snprintf(t->pk_name[i], sizeof t->pk_name[i], "%s", d->table_meta->primary_key[i]->name);
    t->pk_type[i] = d->table_meta->primary_key[i]->type;
  }
  t->max_versions = d->table_options->has_max_versions ? d->table_options->max_versions : 1;
  otssrv__describe_table_response__free_unpacked(d, NULL);
  return 0;
}

static const char *pk_vt_name(int pk_type) {
  return pk_type == 1 ? "VT_INTEGER" : pk_type == 2 ? "VT_STRING" : "VT_BLOB";
}
static int pk_vt(int pk_type) { return pk_type == 1 ? SRV_VT_INTEGER : pk_type == 2 ? SRV_VT_STRING : SRV_VT_BLOB; }

int srv_pk_check(const srv_table_t *t, const srv_cell_t *pk, size_t npk, bool inf, srv_err_t *e) {
  if (npk != t->npk)
    return srv_fail(e, 400, "OTSInvalidPK", "Validate PK size fail. Input: %zu, Meta: %zu.", npk, t->npk);
  for (size_t i = 0; i < npk; i++) {
    if (strcmp(pk[i].name, t->pk_name[i]) != 0)
      return srv_fail(e, 400, "OTSInvalidPK", "Validate PK name fail. Input: %s, Meta: %s.", pk[i].name, t->pk_name[i]);
    if (!pk[i].has_value || pk[i].has_op || pk[i].has_ts)
      return srv_fail(e, 400, "OTSInvalidPK", "Primary key column '%s' must carry a value and no type or timestamp.", pk[i].name);
    uint8_t vt = pk[i].v.type;
    if (inf && (vt == SRV_VT_INF_MIN || vt == SRV_VT_INF_MAX)) continue;
    if (vt != pk_vt(t->pk_type[i]))
      return srv_fail(e, 400, "OTSInvalidPK", "Validate PK type fail. Input: %s, Meta: %s.", srv_vt_name(vt),
                      pk_vt_name(t->pk_type[i]));
    if ((vt == SRV_VT_STRING || vt == SRV_VT_BLOB) && pk[i].v.len > 1024)
      return srv_fail(e, SRV_PARAM, "The length of primary key column: '%s' exceeds the MaxLength:1024 with CurrentLength:%u.",
                      pk[i].name, pk[i].v.len);
  }
  return 0;
}

void srv_key_prefix(srv_buf_t *b, const char *table) {
  srv_buf_u8(b, 'r');
  srv_buf_put(b, table, strlen(table));
  srv_buf_u8(b, 0);
}

void srv_row_key(srv_buf_t *b, const char *table, const srv_cell_t *pk, size_t npk) {
  srv_key_prefix(b, table);
  for (size_t i = 0; i < npk; i++) srv_key_append(b, &pk[i].v);
}

int srv_row_decode_stored(const char *v, size_t vl, srv_row_t **row, srv_err_t *e) {
  char perr[300];
  size_t n;
  if (srv_pbuf_decode((const uint8_t *)v, vl, 1, row, &n, perr, sizeof perr))
    return srv_fail(e, 500, "OTSInternalServerError", "stored row is corrupt: %s", perr);
  return 0;
}

int srv_row_read(srv_t *s, rocksdb_writebatch_wi_t *wb, const uint8_t *key, size_t klen,
                 srv_row_t **row, srv_err_t *e) {
  char *rerr = NULL;
  size_t vl = 0;
  char *v = wb ? rocksdb_writebatch_wi_get_from_batch_and_db(wb, s->db, s->ro, (const char *)key, klen, &vl, &rerr)
               : rocksdb_get(s->db, s->ro, (const char *)key, klen, &vl, &rerr);
  if (rerr) { srv_fail(e, 500, "OTSInternalServerError", "rocksdb get: %s", rerr); rocksdb_free(rerr); return -1; }
  if (!v) return 0;
  int rc = srv_row_decode_stored(v, vl, row, e);
  rocksdb_free(v);
  return rc ? -1 : 1;
}

int srv_commit(srv_t *s, rocksdb_writebatch_wi_t *wb, srv_err_t *e) {
  char *rerr = NULL;
  rocksdb_write_writebatch_wi(s->db, s->wo, wb, &rerr);
  if (rerr) { srv_fail(e, 500, "OTSInternalServerError", "rocksdb write: %s", rerr); rocksdb_free(rerr); return -1; }
  return 0;
}

void srv_pack(const ProtobufCMessage *m, srv_buf_t *out) {
  size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) { out->failed = true; return; }
  protobuf_c_message_pack(m, buf);
  srv_buf_put(out, buf, len);
  free(buf);
}
