/* srv_tables.c: CreateTable, DescribeTable, ListTable, DeleteTable (reference 3.2, limits 6).
 * A table's DescribeTableResponse is built once at creation and stored; DescribeTable returns
 * those bytes. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum { MAX_TABLES = 64 };

/* 1-255 bytes of [A-Za-z0-9_], not starting with a digit (6). */
static bool name_ok(const char *n) {
  size_t l = strlen(n);
  if (l < 1 || l > SRV_NAME_MAX || isdigit((unsigned char)n[0])) return false;
  for (size_t i = 0; i < l; i++)
    if (!isalnum((unsigned char)n[i]) && n[i] != '_') return false;
  return true;
}

static size_t table_count(srv_t *s) {
  size_t n = 0;
  rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ro);
  for (rocksdb_iter_seek(it, "m", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
    size_t kl;
    const char *k = rocksdb_iter_key(it, &kl);
    if (kl < 1 || k[0] != 'm') break;
    n++;
  }
  rocksdb_iter_destroy(it);
  return n;
}

static int check_meta(const Otssrv__TableMeta *m, srv_err_t *e) {
  if (!name_ok(m->table_name))
    return srv_fail(e, SRV_PARAM, "Invalid table name: '%s'. It must be 1-255 of [A-Za-z0-9_], not starting with a digit.",
                    m->table_name);
  if (m->n_primary_key < 1 || m->n_primary_key > SRV_MAX_PK)
    return srv_fail(e, SRV_PARAM, "The number of primary key columns must be in range: [1, 4].");
  for (size_t i = 0; i < m->n_primary_key; i++) {
    const Otssrv__PrimaryKeySchema *pk = m->primary_key[i];
    if (!name_ok(pk->name)) return srv_fail(e, SRV_PARAM, "Invalid primary key name: '%s'.", pk->name);
    if (pk->type < 1 || pk->type > 3)
      return srv_fail(e, SRV_PARAM, "Invalid type %d of primary key column '%s'.", (int)pk->type, pk->name);
    if (pk->has_option)
      return srv_fail(e, SRV_PARAM, "AUTO_INCREMENT primary key column '%s' is not supported by rv-ots-server.", pk->name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(m->primary_key[j]->name, pk->name) == 0)
        return srv_fail(e, SRV_PARAM, "Duplicated primary key name: '%s'.", pk->name);
  }
  return 0;
}

int srv_op_create_table(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__CreateTableRequest *rq = otssrv__create_table_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed CreateTableRequest (missing required field or bad protobuf).");
  int rc = -1;
  srv_table_t t;
  srv_err_t ignore;
  if (check_meta(rq->table_meta, e)) goto done;
  Otssrv__TableOptions *o = rq->table_options;
  if (o && o->has_max_versions && o->max_versions < 1) { srv_fail(e, SRV_PARAM, "max_versions must be at least 1."); goto done; }
  if (o && o->has_time_to_live && o->time_to_live != -1 && o->time_to_live <= 0) {
    srv_fail(e, SRV_PARAM, "time_to_live must be -1 or positive.");
    goto done;
  }
  if (srv_table_load(s, rq->table_meta->table_name, &t, &ignore) == 0) {
    srv_fail(e, 409, "OTSObjectAlreadyExist", "Requested table already exists.");
    goto done;
  }
  if (table_count(s) >= MAX_TABLES) { srv_fail(e, 403, "OTSQuotaExhausted", "Number of tables exceeded the quota."); goto done; }

  Otssrv__TableOptions opts = OTSSRV__TABLE_OPTIONS__INIT;
  opts.has_time_to_live = opts.has_max_versions = opts.has_deviation_cell_version_in_sec = opts.has_allow_update = 1;
  opts.time_to_live = o && o->has_time_to_live ? o->time_to_live : -1;
  opts.max_versions = o && o->has_max_versions ? o->max_versions : 1;
  opts.deviation_cell_version_in_sec = o && o->has_deviation_cell_version_in_sec ? o->deviation_cell_version_in_sec : 86400;
  opts.allow_update = o && o->has_allow_update ? o->allow_update : 1;
  Otssrv__CapacityUnit cu = OTSSRV__CAPACITY_UNIT__INIT;
  cu.has_read = cu.has_write = 1;
  cu.read = rq->reserved_throughput->capacity_unit->has_read ? rq->reserved_throughput->capacity_unit->read : 0;
  cu.write = rq->reserved_throughput->capacity_unit->has_write ? rq->reserved_throughput->capacity_unit->write : 0;
  Otssrv__ReservedThroughputDetails rtd = OTSSRV__RESERVED_THROUGHPUT_DETAILS__INIT;
  rtd.capacity_unit = &cu;
  rtd.last_increase_time = now / 1000;
  Otssrv__DescribeTableResponse d = OTSSRV__DESCRIBE_TABLE_RESPONSE__INIT;
  Otssrv__TableMeta meta = OTSSRV__TABLE_META__INIT; /* defined columns are not kept */
  meta.table_name = rq->table_meta->table_name;
  meta.n_primary_key = rq->table_meta->n_primary_key;
  meta.primary_key = rq->table_meta->primary_key;
  d.table_meta = &meta;
  d.reserved_throughput_details = &rtd;
  d.table_options = &opts;
  d.table_status = OTSSRV__TABLE_STATUS__ACTIVE;
  d.has_creation_time = 1;
  d.creation_time = now * 1000; /* microseconds */
  srv_buf_t v = {0}, k = {0};
  srv_pack(&d.base, &v);
  srv_buf_u8(&k, 'm');
  srv_buf_put(&k, meta.table_name, strlen(meta.table_name));
  char *rerr = NULL;
  if (v.failed || k.failed) {
    srv_fail(e, 500, "OTSInternalServerError", "out of memory");
  } else {
    rocksdb_put(s->db, s->wo, (char *)k.p, k.len, (char *)v.p, v.len, &rerr);
    if (rerr) { srv_fail(e, 500, "OTSInternalServerError", "rocksdb put: %s", rerr); rocksdb_free(rerr); }
    else rc = 0;
  }
  srv_buf_close(&v);
  srv_buf_close(&k);
done:
  otssrv__create_table_request__free_unpacked(rq, NULL);
  return rc; /* CreateTableResponse is empty */
}

int srv_op_describe_table(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__DescribeTableRequest *rq = otssrv__describe_table_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed DescribeTableRequest (missing required field or bad protobuf).");
  srv_table_t t;
  int rc = srv_table_load(s, rq->table_name, &t, e);
  if (rc == 0) {
    char key[SRV_NAME_MAX + 2], *rerr = NULL;
    size_t vl = 0;
    key[0] = 'm';
    strcpy(key + 1, t.name);
    char *v = rocksdb_get(s->db, s->ro, key, strlen(key), &vl, &rerr);
    if (!v) rc = srv_fail(e, 500, "OTSInternalServerError", "rocksdb get: %s", rerr ? rerr : "vanished");
    else srv_buf_put(out, v, vl);
    rocksdb_free(v);
    rocksdb_free(rerr);
  }
  otssrv__describe_table_request__free_unpacked(rq, NULL);
  return rc;
}

int srv_op_list_table(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__ListTableRequest *rq = otssrv__list_table_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed ListTableRequest.");
  otssrv__list_table_request__free_unpacked(rq, NULL);
  char *names[MAX_TABLES + 1];
  size_t k = 0;
  rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ro);
  for (rocksdb_iter_seek(it, "m", 1); rocksdb_iter_valid(it) && k <= MAX_TABLES; rocksdb_iter_next(it)) {
    size_t kl;
    const char *key = rocksdb_iter_key(it, &kl);
    if (kl < 1 || key[0] != 'm') break;
    names[k] = strndup(key + 1, kl - 1);
    if (names[k]) k++;
  }
  rocksdb_iter_destroy(it);
  Otssrv__ListTableResponse rs = OTSSRV__LIST_TABLE_RESPONSE__INIT;
  rs.n_table_names = k;
  rs.table_names = names;
  srv_pack(&rs.base, out);
  for (size_t i = 0; i < k; i++) free(names[i]);
  return 0;
}

int srv_op_delete_table(srv_t *s, const uint8_t *body, size_t n, int64_t now, srv_buf_t *out, srv_err_t *e) {
  Otssrv__DeleteTableRequest *rq = otssrv__delete_table_request__unpack(NULL, n, body);
  if (!rq) return srv_fail(e, SRV_PARAM, "Malformed DeleteTableRequest (missing required field or bad protobuf).");
  srv_table_t t;
  int rc = srv_table_load(s, rq->table_name, &t, e);
  if (rc == 0) {
    for (size_t i = 0; i < s->ntxns;) { /* the table's open transactions die with it */
      if (strcmp(s->txns[i].table, t.name) == 0) {
        rocksdb_writebatch_wi_destroy(s->txns[i].wb);
        srv_buf_close(&s->txns[i].pkey);
        s->txns[i] = s->txns[--s->ntxns];
      } else {
        i++;
      }
    }
    srv_buf_t lo = {0}, hi = {0};
    srv_key_prefix(&lo, t.name);
    srv_buf_u8(&hi, 'r');
    srv_buf_put(&hi, t.name, strlen(t.name));
    srv_buf_u8(&hi, 1); /* just past every "r" name 0x00 ... key */
    char mk[SRV_NAME_MAX + 2], *rerr = NULL;
    mk[0] = 'm';
    strcpy(mk + 1, t.name);
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    rocksdb_writebatch_delete(wb, mk, strlen(mk));
    rocksdb_writebatch_delete_range(wb, (char *)lo.p, lo.len, (char *)hi.p, hi.len);
    rocksdb_write(s->db, s->wo, wb, &rerr);
    if (rerr) { rc = srv_fail(e, 500, "OTSInternalServerError", "rocksdb write: %s", rerr); rocksdb_free(rerr); }
    rocksdb_writebatch_destroy(wb);
    srv_buf_close(&lo);
    srv_buf_close(&hi);
  }
  otssrv__delete_table_request__free_unpacked(rq, NULL);
  return rc;
}
