/* repl_ots_codec.c: the Tablestore backend's rows (repl_backend_ots.h describes the layout) to
 * and from PlainBuffer, and its write conditions as filters. No I/O: everything here is a
 * function of its arguments (ots_wire's protobuf-c for filters). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "repl_ots_int.h"

static ots_bytes_t s_str(const char *s) { return (ots_bytes_t){(const uint8_t *)s, strlen(s)}; }

static ots_cell_t s_pk_str(const char *name, const char *v) {
  ots_cell_t c = {.name = s_str(name), .has_value = true};
  c.value.type = OTS_VT_STRING;
  c.value.s = s_str(v);
  return c;
}

static ots_cell_t s_int(const char *name, int64_t v) {
  ots_cell_t c = {.name = s_str(name), .has_value = true};
  c.value.type = OTS_VT_INTEGER;
  c.value.i = v;
  return c;
}

static ots_cell_t s_blob(const char *name, const uint8_t *p, size_t n) {
  ots_cell_t c = {.name = s_str(name), .has_value = true};
  c.value.type = OTS_VT_BLOB;
  c.value.s = (ots_bytes_t){p, n};
  return c;
}

static ots_cell_t s_inf(const char *name, bool max) {
  ots_cell_t c = {.name = s_str(name), .has_value = true};
  c.value.type = max ? OTS_VT_INF_MAX : OTS_VT_INF_MIN;
  return c;
}

/* The three key cells of a data row. */
static void s_pk(ots_cell_t pk[3], const char *cluster, int64_t gen, const uint8_t *key,
                 size_t klen) {
  pk[0] = s_pk_str("cluster", cluster);
  pk[1] = s_int("gen", gen);
  pk[2] = s_blob("key", key, klen);
}

static int s_encode(ots_buf_t *out, const ots_row_t *row, rv_err_t *err) {
  return ots_plainbuf_encode(out, row, 1, err);
}

int repl_ots_encode_key(ots_buf_t *out, const char *cluster, int64_t gen, int gen_inf,
                        repl_ots_keypos_t pos, const uint8_t *key, size_t klen, rv_err_t *err) {
  ots_cell_t pk[3];
  s_pk(pk, cluster, gen, key, klen);
  if (gen_inf) {
    pk[1] = s_inf("gen", gen_inf > 0);
    pk[2] = s_inf("key", gen_inf > 0);
  } else if (pos != REPL_OTS_KEY_BYTES) {
    pk[2] = s_inf("key", pos == REPL_OTS_KEY_MAX);
  }
  ots_row_t row = {.pk = pk, .npk = 3};
  return s_encode(out, &row, err);
}

int repl_ots_encode_partition(ots_buf_t *out, const char *cluster, rv_err_t *err) {
  ots_cell_t pk = s_pk_str("cluster", cluster);
  ots_row_t row = {.pk = &pk, .npk = 1};
  return s_encode(out, &row, err);
}

size_t repl_ots_parts(size_t vlen) {
  return vlen <= REPL_OTS_PART_MAX ? 1 : (vlen + REPL_OTS_PART_MAX - 1) / REPL_OTS_PART_MAX;
}

int repl_ots_encode_put(ots_buf_t *out, const char *cluster, int64_t gen, const repl_row_t *r,
                        rv_err_t *err) {
  ots_cell_t pk[3], attrs[2];
  s_pk(pk, cluster, gen, r->key, r->klen);
  size_t parts = repl_ots_parts(r->vlen);
  size_t first = parts == 1 ? r->vlen : REPL_OTS_PART_MAX;
  static const uint8_t none[1];
  attrs[0] = s_blob("v", r->vlen ? r->val : none, first);
  attrs[1] = s_int("vn", (int64_t)parts);
  ots_row_t row = {.pk = pk, .npk = 3, .attrs = attrs, .nattrs = parts > 1 ? 2 : 1};
  return s_encode(out, &row, err);
}

int repl_ots_encode_part(ots_buf_t *out, const char *cluster, int64_t gen, const repl_row_t *r,
                         size_t part, rv_err_t *err) {
  ots_cell_t pk[3], attr;
  char name[32];
  size_t off = part * REPL_OTS_PART_MAX;
  if (part == 0 || off >= r->vlen)
    return rv_err_set(err, RV_EINTERNAL, "value part %zu of %zu bytes does not exist", part, r->vlen);
  size_t len = r->vlen - off < REPL_OTS_PART_MAX ? r->vlen - off : REPL_OTS_PART_MAX;
  snprintf(name, sizeof name, "v%zu", part);
  s_pk(pk, cluster, gen, r->key, r->klen);
  attr = s_blob(name, r->val + off, len);
  ots_row_t row = {.pk = pk, .npk = 3, .attrs = &attr, .nattrs = 1};
  return s_encode(out, &row, err);
}

int repl_ots_encode_delete(ots_buf_t *out, const char *cluster, int64_t gen, const uint8_t *key,
                           size_t klen, rv_err_t *err) {
  ots_cell_t pk[3];
  s_pk(pk, cluster, gen, key, klen);
  ots_row_t row = {.pk = pk, .npk = 3, .delete_marker = true};
  return s_encode(out, &row, err);
}

int repl_ots_encode_meta_term(ots_buf_t *out, const char *cluster, uint64_t term,
                              int64_t updated_ms, rv_err_t *err) {
  ots_cell_t pk[3];
  static const uint8_t empty[1];
  s_pk(pk, cluster, 0, empty, 0);
  ots_cell_t a[2] = {s_int("term", (int64_t)term), s_int("updated_ms", updated_ms)};
  ots_row_t row = {.pk = pk, .npk = 3, .attrs = a, .nattrs = 2};
  return s_encode(out, &row, err);
}

int repl_ots_encode_meta(ots_buf_t *out, const char *cluster, const repl_meta_t *m, rv_err_t *err) {
  ots_cell_t pk[3];
  static const uint8_t empty[1];
  s_pk(pk, cluster, 0, empty, 0);
  ots_cell_t a[8] = {
      s_int("format", m->format),
      s_pk_str("cluster_id", m->cluster_id),
      s_int("synced_index", (int64_t)m->synced_index),
      s_int("term", (int64_t)m->term),
      s_int("generation", (int64_t)m->generation),
      s_int("updated_ms", m->updated_ms),
      s_int("rows", (int64_t)m->rows),
      s_int("bytes", (int64_t)m->bytes),
  };
  ots_row_t row = {.pk = pk, .npk = 3, .attrs = a, .nattrs = 8};
  return s_encode(out, &row, err);
}

int repl_ots_encode_condition(ots_buf_t *out, uint64_t term, bool with_gen, uint64_t gen,
                              repl_ots_index_cmp_t index_cmp, uint64_t index, rv_err_t *err) {
  ots_column_filter_t f[3];
  size_t n = 0;
  f[n++] = (ots_column_filter_t){.cmp = OTS_CMP_LESS_EQUAL, .column = "term",
                                 .value = {.type = OTS_VT_INTEGER, .i = (int64_t)term},
                                 .latest_version_only = true};
  if (with_gen)
    f[n++] = (ots_column_filter_t){.cmp = OTS_CMP_EQUAL, .column = "generation",
                                   .value = {.type = OTS_VT_INTEGER, .i = (int64_t)gen},
                                   .latest_version_only = true};
  if (index_cmp != REPL_OTS_INDEX_ANY)
    f[n++] = (ots_column_filter_t){.cmp = index_cmp == REPL_OTS_INDEX_EQUAL ? OTS_CMP_EQUAL
                                                                           : OTS_CMP_LESS_EQUAL,
                                   .column = "synced_index",
                                   .value = {.type = OTS_VT_INTEGER, .i = (int64_t)index},
                                   .latest_version_only = true};
  return ots_wire_filter(out, n == 1 ? OTS_LOGIC_SINGLE : OTS_LOGIC_AND, f, n, err);
}

static bool s_name_is(ots_bytes_t n, const char *s) {
  size_t l = strlen(s);
  return n.len == l && memcmp(n.p, s, l) == 0;
}

static const ots_cell_t *s_attr(const ots_row_t *row, const char *name) {
  for (size_t i = 0; i < row->nattrs; i++)
    if (s_name_is(row->attrs[i].name, name) && row->attrs[i].has_value) return &row->attrs[i];
  return NULL;
}

/* Checks the key columns: (cluster, gen, key) with the expected cluster. */
static int s_check_pk(const ots_row_t *row, const char *cluster, rv_err_t *err) {
  if (row->npk != 3 || !s_name_is(row->pk[0].name, "cluster") ||
      row->pk[0].value.type != OTS_VT_STRING || !s_name_is(row->pk[1].name, "gen") ||
      row->pk[1].value.type != OTS_VT_INTEGER || !s_name_is(row->pk[2].name, "key") ||
      row->pk[2].value.type != OTS_VT_BLOB)
    return rv_err_set(err, RV_ECORRUPT,
                      "a row whose primary key is not (cluster STRING, gen INTEGER, key BINARY)");
  if (!s_name_is(row->pk[0].value.s, cluster))
    return rv_err_set(err, RV_ECORRUPT, "a row of cluster \"%.*s\" where \"%s\" was read",
                      (int)(row->pk[0].value.s.len > 128 ? 128 : row->pk[0].value.s.len),
                      (const char *)row->pk[0].value.s.p, cluster);
  return RV_OK;
}

static int s_meta_int(const ots_row_t *row, const char *name, int64_t *v, rv_err_t *err) {
  const ots_cell_t *c = s_attr(row, name);
  if (!c) return rv_err_set(err, RV_ECORRUPT, "meta row: column '%s' is missing", name);
  if (c->value.type != OTS_VT_INTEGER)
    return rv_err_set(err, RV_ECORRUPT, "meta row: column '%s' is %s, expected INTEGER", name,
                      ots_vtype_name(c->value.type));
  if (c->value.i < 0 && strcmp(name, "updated_ms") != 0)
    return rv_err_set(err, RV_ECORRUPT, "meta row: column '%s' is negative (%" PRId64 ")", name,
                      c->value.i);
  *v = c->value.i;
  return RV_OK;
}

int repl_ots_decode_meta(const ots_row_t *row, const char *cluster, repl_meta_t *m, rv_err_t *err) {
  int rc = s_check_pk(row, cluster, err);
  if (rc) return rv_err_prefix(err, "meta row");
  if (row->pk[1].value.i != 0 || row->pk[2].value.s.len != 0)
    return rv_err_set(err, RV_ECORRUPT, "meta row: key is not (cluster, 0, \"\")");
  memset(m, 0, sizeof *m);
  int64_t v[7];
  static const char *names[7] = {"format", "synced_index", "term", "generation",
                                 "updated_ms", "rows", "bytes"};
  for (int i = 0; i < 7; i++)
    if ((rc = s_meta_int(row, names[i], &v[i], err))) return rc;
  if (v[0] == 0 || v[0] > REPL_FORMAT)
    return rv_err_set(err, RV_ECORRUPT,
                      "meta row: format %" PRId64 " (this build reads format %d): written by a "
                      "newer raftvisor?", v[0], REPL_FORMAT);
  m->format = (uint32_t)v[0];
  m->synced_index = (uint64_t)v[1];
  m->term = (uint64_t)v[2];
  m->generation = (uint64_t)v[3];
  m->updated_ms = v[4];
  m->rows = (uint64_t)v[5];
  m->bytes = (uint64_t)v[6];
  const ots_cell_t *c = s_attr(row, "cluster_id");
  if (!c || c->value.type != OTS_VT_STRING)
    return rv_err_set(err, RV_ECORRUPT, "meta row: column 'cluster_id' is missing or not a STRING");
  if (!s_name_is(c->value.s, cluster))
    return rv_err_set(err, RV_ECORRUPT, "meta row: cluster_id \"%.*s\" where \"%s\" was expected",
                      (int)(c->value.s.len > 128 ? 128 : c->value.s.len),
                      (const char *)c->value.s.p, cluster);
  snprintf(m->cluster_id, sizeof m->cluster_id, "%s", cluster);
  return RV_OK;
}

void repl_ots_key_text(char *out, size_t cap, int64_t gen, const uint8_t *key, size_t klen) {
  static const char d[] = "0123456789abcdef";
  char hex[2 * 48 + 4];
  size_t n = klen > 48 ? 48 : klen, j = 0;
  for (size_t i = 0; i < n; i++) {
    hex[j++] = d[key[i] >> 4];
    hex[j++] = d[key[i] & 15];
  }
  if (klen > n) {
    memcpy(hex + j, "...", 3);
    j += 3;
  }
  hex[j] = 0;
  snprintf(out, cap, "(gen %" PRId64 ", key %zu bytes %s)", gen, klen, hex);
}

int repl_ots_decode_data(const ots_row_t *row, const char *cluster, int64_t gen, repl_row_t *out,
                         ots_buf_t *scratch, rv_err_t *err) {
  int rc = s_check_pk(row, cluster, err);
  if (rc) return rc;
  char kt[160];
  const ots_bytes_t key = row->pk[2].value.s;
  repl_ots_key_text(kt, sizeof kt, row->pk[1].value.i, key.p, key.len);
  if (row->pk[1].value.i != gen)
    return rv_err_set(err, RV_ECORRUPT, "row %s read in generation %" PRId64, kt, gen);
  const ots_cell_t *v = s_attr(row, "v");
  if (!v || v->value.type != OTS_VT_BLOB)
    return rv_err_set(err, RV_ECORRUPT, "row %s: column 'v' is missing or not BINARY", kt);
  *out = (repl_row_t){.key = key.p, .klen = key.len, .val = v->value.s.p, .vlen = v->value.s.len};
  const ots_cell_t *vn = s_attr(row, "vn");
  if (!vn) return RV_OK;
  if (vn->value.type != OTS_VT_INTEGER || vn->value.i < 2 || vn->value.i > 1024)
    return rv_err_set(err, RV_ECORRUPT, "row %s: column 'vn' is not a part count", kt);
  if (v->value.s.len != REPL_OTS_PART_MAX)
    return rv_err_set(err, RV_ECORRUPT, "row %s: first part of %zu bytes, expected %u", kt,
                      v->value.s.len, REPL_OTS_PART_MAX);
  ots_buf_reset(scratch);
  ots_buf_put(scratch, v->value.s.p, v->value.s.len);
  for (int64_t i = 1; i < vn->value.i; i++) {
    char name[32];
    snprintf(name, sizeof name, "v%" PRId64, i);
    const ots_cell_t *p = s_attr(row, name);
    if (!p || p->value.type != OTS_VT_BLOB)
      return rv_err_set(err, RV_ECORRUPT, "row %s: part '%s' of %" PRId64 " is missing", kt,
                        name, vn->value.i);
    bool last = i + 1 == vn->value.i;
    if ((!last && p->value.s.len != REPL_OTS_PART_MAX) || (last && p->value.s.len == 0))
      return rv_err_set(err, RV_ECORRUPT, "row %s: part '%s' has %zu bytes", kt, name,
                        p->value.s.len);
    ots_buf_put(scratch, p->value.s.p, p->value.s.len);
  }
  if (!ots_buf_ok(scratch)) return rv_err_set(err, RV_ENOMEM, "row %s: out of memory", kt);
  out->val = scratch->data;
  out->vlen = scratch->len;
  return RV_OK;
}
