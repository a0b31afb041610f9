/* ots_plainbuf: PlainBuffer rows (reference section 4): the encoder checks the grammar and the
 * Tablestore limits before writing a byte; the decoder treats its input as hostile, checks every
 * tag, length and both checksum levels, and names the offset of whatever was wrong.
 * Pure: libc + rv_common. */
#include "ots_plainbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ots_crc8.h"

const char *ots_vtype_name(int type) {
  switch (type) {
    case OTS_VT_INTEGER: return "INTEGER";
    case OTS_VT_DOUBLE: return "DOUBLE";
    case OTS_VT_BOOLEAN: return "BOOLEAN";
    case OTS_VT_STRING: return "STRING";
    case OTS_VT_BLOB: return "BLOB";
    case OTS_VT_INF_MIN: return "INF_MIN";
    case OTS_VT_INF_MAX: return "INF_MAX";
    case OTS_VT_AUTO_INCREMENT: return "AUTO_INCREMENT";
  }
  return "?";
}

static const char *s_op_name(int op) {
  switch (op) {
    case OTS_CELL_PUT: return "PUT";
    case OTS_CELL_DELETE_ALL: return "DELETE_ALL_VERSION";
    case OTS_CELL_DELETE_ONE: return "DELETE_ONE_VERSION";
    case OTS_CELL_INCREMENT: return "INCREMENT";
  }
  return "?";
}

static uint64_t s_double_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

/* Bytes of the value after the 4-byte value_len (type byte + payload). */
static size_t s_value_len(const ots_value_t *v) {
  switch (v->type) {
    case OTS_VT_INTEGER:
    case OTS_VT_DOUBLE: return 9;
    case OTS_VT_BOOLEAN: return 2;
    case OTS_VT_STRING:
    case OTS_VT_BLOB: return 5 + v->s.len;
    default: return 1;
  }
}

static uint8_t s_value_crc(uint8_t crc, const ots_value_t *v) {
  crc = ots_crc8_u8(crc, (uint8_t)v->type);
  switch (v->type) {
    case OTS_VT_INTEGER: return ots_crc8_u64(crc, (uint64_t)v->i);
    case OTS_VT_DOUBLE: return ots_crc8_u64(crc, s_double_bits(v->d));
    case OTS_VT_BOOLEAN: return ots_crc8_u8(crc, v->b ? 1 : 0);
    case OTS_VT_STRING:
    case OTS_VT_BLOB:
      crc = ots_crc8_u32(crc, (uint32_t)v->s.len);
      return ots_crc8_bytes(crc, v->s.p, v->s.len);
    default: return crc;
  }
}

uint8_t ots_plainbuf_cell_crc(const ots_cell_t *c) {
  uint8_t crc = ots_crc8_bytes(0, c->name.p, c->name.len);
  if (c->has_value) crc = s_value_crc(crc, &c->value);
  if (c->has_ts) crc = ots_crc8_u64(crc, (uint64_t)c->ts);
  if (c->op != OTS_CELL_PUT) crc = ots_crc8_u8(crc, (uint8_t)c->op);
  return crc;
}

uint8_t ots_plainbuf_row_crc(const ots_row_t *r) {
  uint8_t crc = 0;
  for (size_t i = 0; i < r->npk; i++) crc = ots_crc8_u8(crc, ots_plainbuf_cell_crc(&r->pk[i]));
  for (size_t i = 0; i < r->nattrs; i++)
    crc = ots_crc8_u8(crc, ots_plainbuf_cell_crc(&r->attrs[i]));
  return ots_crc8_u8(crc, r->delete_marker ? 1 : 0);
}

/* ---- encoder ---- */

static int s_check_name(const ots_cell_t *c, const char *what, size_t idx, rv_err_t *err) {
  size_t n = c->name.len;
  if (n == 0 || n > OTS_NAME_MAX)
    return rv_err_set(err, RV_EINVAL, "%s cell %zu: name length %zu not in 1..%d", what, idx, n,
                      OTS_NAME_MAX);
  for (size_t i = 0; i < n; i++) {
    uint8_t ch = c->name.p[i];
    bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    bool digit = ch >= '0' && ch <= '9';
    if (!alpha && !(digit && i > 0))
      return rv_err_set(err, RV_EINVAL,
                        "%s cell %zu '%.*s': byte %zu (0x%02x) not allowed in a column name "
                        "([A-Za-z_][A-Za-z0-9_]*)",
                        what, idx, (int)n, (const char *)c->name.p, i, ch);
  }
  return RV_OK;
}

static int s_check_pk_cell(const ots_cell_t *c, size_t idx, rv_err_t *err) {
  int rc = s_check_name(c, "primary key", idx, err);
  if (rc) return rc;
  const char *nm = (const char *)c->name.p;
  int nl = (int)c->name.len;
  if (!c->has_value)
    return rv_err_set(err, RV_EINVAL, "primary key cell '%.*s': no value", nl, nm);
  if (c->op != OTS_CELL_PUT || c->has_ts)
    return rv_err_set(err, RV_EINVAL,
                      "primary key cell '%.*s': primary key cells carry no op type or timestamp",
                      nl, nm);
  switch (c->value.type) {
    case OTS_VT_STRING:
    case OTS_VT_BLOB:
      if (c->value.s.len > OTS_PK_VALUE_MAX)
        return rv_err_set(err, RV_EINVAL,
                          "primary key cell '%.*s': value of %zu bytes exceeds %d", nl, nm,
                          c->value.s.len, OTS_PK_VALUE_MAX);
      return RV_OK;
    case OTS_VT_INTEGER:
    case OTS_VT_INF_MIN:
    case OTS_VT_INF_MAX:
    case OTS_VT_AUTO_INCREMENT: return RV_OK;
    default:
      return rv_err_set(err, RV_EINVAL, "primary key cell '%.*s': type %s (%d) not allowed", nl,
                        nm, ots_vtype_name(c->value.type), (int)c->value.type);
  }
}

static int s_check_attr_cell(const ots_cell_t *c, size_t idx, rv_err_t *err) {
  int rc = s_check_name(c, "attribute", idx, err);
  if (rc) return rc;
  const char *nm = (const char *)c->name.p;
  int nl = (int)c->name.len;
  if (c->has_ts && (c->ts < 0 || c->ts >= OTS_TIMESTAMP_MAX))
    return rv_err_set(err, RV_EINVAL, "attribute cell '%.*s': timestamp %lld not in [0, %lld)",
                      nl, nm, (long long)c->ts, (long long)OTS_TIMESTAMP_MAX);
  switch (c->op) {
    case OTS_CELL_PUT:
      if (!c->has_value)
        return rv_err_set(err, RV_EINVAL, "attribute cell '%.*s': PUT needs a value", nl, nm);
      break;
    case OTS_CELL_DELETE_ONE:
      if (c->has_value || !c->has_ts)
        return rv_err_set(err, RV_EINVAL,
                          "attribute cell '%.*s': DELETE_ONE_VERSION takes a timestamp and no "
                          "value",
                          nl, nm);
      return RV_OK;
    case OTS_CELL_DELETE_ALL:
      if (c->has_value || c->has_ts)
        return rv_err_set(err, RV_EINVAL,
                          "attribute cell '%.*s': DELETE_ALL_VERSION takes no value and no "
                          "timestamp",
                          nl, nm);
      return RV_OK;
    case OTS_CELL_INCREMENT:
      if (!c->has_value || c->value.type != OTS_VT_INTEGER || c->has_ts)
        return rv_err_set(err, RV_EINVAL,
                          "attribute cell '%.*s': INCREMENT takes an INTEGER value and no "
                          "timestamp",
                          nl, nm);
      return RV_OK;
    default:
      return rv_err_set(err, RV_EINVAL, "attribute cell '%.*s': unknown op type %d", nl, nm,
                        (int)c->op);
  }
  switch (c->value.type) {
    case OTS_VT_STRING:
    case OTS_VT_BLOB:
      if (c->value.s.len > OTS_ATTR_VALUE_MAX)
        return rv_err_set(err, RV_EINVAL, "attribute cell '%.*s': value of %zu bytes exceeds %u",
                          nl, nm, c->value.s.len, OTS_ATTR_VALUE_MAX);
      return RV_OK;
    case OTS_VT_INTEGER:
    case OTS_VT_DOUBLE:
    case OTS_VT_BOOLEAN: return RV_OK;
    default:
      return rv_err_set(err, RV_EINVAL, "attribute cell '%.*s': type %s (%d) not allowed", nl,
                        nm, ots_vtype_name(c->value.type), (int)c->value.type);
  }
}

static void s_put_value_payload(ots_buf_t *out, const ots_value_t *v) {
  ots_buf_put_u8(out, (uint8_t)v->type);
  switch (v->type) {
    case OTS_VT_INTEGER: ots_buf_put_u64le(out, (uint64_t)v->i); break;
    case OTS_VT_DOUBLE: ots_buf_put_u64le(out, s_double_bits(v->d)); break;
    case OTS_VT_BOOLEAN: ots_buf_put_u8(out, v->b ? 1 : 0); break;
    case OTS_VT_STRING:
    case OTS_VT_BLOB:
      ots_buf_put_u32le(out, (uint32_t)v->s.len);
      ots_buf_put(out, v->s.p, v->s.len);
      break;
    default: break;
  }
}

static void s_put_cell(ots_buf_t *out, const ots_cell_t *c) {
  ots_buf_put_u8(out, OTS_TAG_CELL);
  ots_buf_put_u8(out, OTS_TAG_CELL_NAME);
  ots_buf_put_u32le(out, (uint32_t)c->name.len);
  ots_buf_put(out, c->name.p, c->name.len);
  if (c->has_value) {
    ots_buf_put_u8(out, OTS_TAG_CELL_VALUE);
    ots_buf_put_u32le(out, (uint32_t)s_value_len(&c->value));
    s_put_value_payload(out, &c->value);
  }
  if (c->op != OTS_CELL_PUT) {
    ots_buf_put_u8(out, OTS_TAG_CELL_TYPE);
    ots_buf_put_u8(out, (uint8_t)c->op);
  }
  if (c->has_ts) {
    ots_buf_put_u8(out, OTS_TAG_CELL_TIMESTAMP);
    ots_buf_put_u64le(out, (uint64_t)c->ts);
  }
  ots_buf_put_u8(out, OTS_TAG_CELL_CHECKSUM);
  ots_buf_put_u8(out, ots_plainbuf_cell_crc(c));
}

static int s_check_row(const ots_row_t *r, rv_err_t *err) {
  if (r->npk < 1 || r->npk > OTS_PK_COLUMNS_MAX)
    return rv_err_set(err, RV_EINVAL, "%zu primary key cells, must be in range [1, %d]", r->npk,
                      OTS_PK_COLUMNS_MAX);
  if (r->nattrs > OTS_ATTR_COLUMNS_MAX)
    return rv_err_set(err, RV_EINVAL, "%zu attribute cells exceed the limit of %d", r->nattrs,
                      OTS_ATTR_COLUMNS_MAX);
  if (r->delete_marker && r->nattrs)
    return rv_err_set(err, RV_EINVAL, "a delete row carries no attribute cells (has %zu)",
                      r->nattrs);
  if (r->has_seq)
    return rv_err_set(err, RV_EINVAL, "sequence info is server-side only, not encoded");
  for (size_t i = 0; i < r->npk; i++) {
    int rc = s_check_pk_cell(&r->pk[i], i, err);
    if (rc) return rc;
  }
  for (size_t i = 0; i < r->nattrs; i++) {
    int rc = s_check_attr_cell(&r->attrs[i], i, err);
    if (rc) return rc;
  }
  return RV_OK;
}

int ots_plainbuf_encode(ots_buf_t *out, const ots_row_t *rows, size_t nrows, rv_err_t *err) {
  for (size_t i = 0; i < nrows; i++) {
    int rc = s_check_row(&rows[i], err);
    if (rc) return nrows > 1 ? rv_err_prefix(err, "row %zu", i) : rc;
  }
  ots_buf_put_u32le(out, OTS_PB_HEADER);
  for (size_t i = 0; i < nrows; i++) {
    const ots_row_t *r = &rows[i];
    ots_buf_put_u8(out, OTS_TAG_ROW_PK);
    for (size_t j = 0; j < r->npk; j++) s_put_cell(out, &r->pk[j]);
    if (r->nattrs) {
      ots_buf_put_u8(out, OTS_TAG_ROW_DATA);
      for (size_t j = 0; j < r->nattrs; j++) s_put_cell(out, &r->attrs[j]);
    }
    if (r->delete_marker) ots_buf_put_u8(out, OTS_TAG_DELETE_ROW_MARKER);
    ots_buf_put_u8(out, OTS_TAG_ROW_CHECKSUM);
    ots_buf_put_u8(out, ots_plainbuf_row_crc(r));
  }
  if (!ots_buf_ok(out)) return rv_err_set(err, RV_ENOMEM, "plainbuf: out of memory");
  return RV_OK;
}

int ots_plainbuf_encode_filter_value(ots_buf_t *out, const ots_value_t *v, rv_err_t *err) {
  switch (v->type) {
    case OTS_VT_INTEGER:
    case OTS_VT_DOUBLE:
    case OTS_VT_BOOLEAN: break;
    case OTS_VT_STRING:
    case OTS_VT_BLOB:
      if (v->s.len > OTS_ATTR_VALUE_MAX)
        return rv_err_set(err, RV_EINVAL, "filter value of %zu bytes exceeds %u", v->s.len,
                          OTS_ATTR_VALUE_MAX);
      break;
    default:
      return rv_err_set(err, RV_EINVAL, "filter value: type %s (%d) not allowed",
                        ots_vtype_name(v->type), (int)v->type);
  }
  s_put_value_payload(out, v);
  if (!ots_buf_ok(out)) return rv_err_set(err, RV_ENOMEM, "plainbuf: out of memory");
  return RV_OK;
}

/* ---- decoder ---- */

void ots_rowset_init(ots_rowset_t *set) { memset(set, 0, sizeof *set); }

void ots_rowset_close(ots_rowset_t *set) {
  if (!set) return;
  free(set->rows);
  free(set->cells);
  memset(set, 0, sizeof *set);
}

/* A bounds-checked cursor; every failure records the offset it happened at. */
typedef struct {
  const uint8_t *p;
  size_t len, off;
  rv_err_t *err;
} s_rd_t;

static int s_fail(s_rd_t *rd, size_t off, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_fail(s_rd_t *rd, size_t off, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rv_err_vset(rd->err, code, fmt, ap);
  va_end(ap);
  return rv_err_prefix(rd->err, "plainbuf offset %zu", off);
}

static bool s_have(const s_rd_t *rd, size_t n) { return n <= rd->len - rd->off; }

static int s_need(s_rd_t *rd, size_t n, const char *what) {
  if (s_have(rd, n)) return RV_OK;
  return s_fail(rd, rd->off, RV_EDECODE, "truncated %s: need %zu bytes, %zu left", what, n,
                rd->len - rd->off);
}

/* The next byte, if any, without consuming it; -1 at the end. */
static int s_peek(const s_rd_t *rd) { return rd->off < rd->len ? rd->p[rd->off] : -1; }

static int s_expect_tag(s_rd_t *rd, uint8_t tag, const char *what) {
  int t = s_peek(rd);
  if (t < 0)
    return s_fail(rd, rd->off, RV_EDECODE, "truncated: expected %s tag 0x%02x, buffer ended",
                  what, tag);
  if (t != tag)
    return s_fail(rd, rd->off, RV_EDECODE, "expected %s tag 0x%02x, found 0x%02x", what, tag, t);
  rd->off++;
  return RV_OK;
}

static int s_read_u32(s_rd_t *rd, uint32_t *v, const char *what) {
  int rc = s_need(rd, 4, what);
  if (rc) return rc;
  *v = ots_le32_get(rd->p + rd->off);
  rd->off += 4;
  return RV_OK;
}

static int s_read_u64(s_rd_t *rd, uint64_t *v, const char *what) {
  int rc = s_need(rd, 8, what);
  if (rc) return rc;
  *v = ots_le64_get(rd->p + rd->off);
  rd->off += 8;
  return RV_OK;
}

static int s_read_value(s_rd_t *rd, ots_cell_t *c) {
  int rc;
  size_t at = rd->off;
  uint32_t vlen;
  if ((rc = s_read_u32(rd, &vlen, "value length"))) return rc;
  if (vlen < 1) return s_fail(rd, at, RV_EDECODE, "value length 0 (a value needs a type byte)");
  if (!s_have(rd, vlen))
    return s_fail(rd, at, RV_EDECODE, "value length %u runs past the end (%zu bytes left)", vlen,
                  rd->len - rd->off);
  size_t start = rd->off;
  ots_value_t *v = &c->value;
  uint8_t type = rd->p[rd->off++];
  size_t want;
  switch (type) {
    case OTS_VT_INTEGER:
    case OTS_VT_DOUBLE: want = 9; break;
    case OTS_VT_BOOLEAN: want = 2; break;
    case OTS_VT_STRING:
    case OTS_VT_BLOB: want = 0; break; /* checked below against the inner length */
    case OTS_VT_INF_MIN:
    case OTS_VT_INF_MAX:
    case OTS_VT_AUTO_INCREMENT: want = 1; break;
    default: return s_fail(rd, start, RV_EDECODE, "unknown value type 0x%02x", type);
  }
  v->type = (ots_vtype_t)type;
  if (want && vlen != want)
    return s_fail(rd, at, RV_EDECODE, "value length %u does not match type %s (must be %zu)",
                  vlen, ots_vtype_name(type), want);
  uint64_t u;
  switch (type) {
    case OTS_VT_INTEGER:
      s_read_u64(rd, &u, "integer");
      v->i = (int64_t)u;
      break;
    case OTS_VT_DOUBLE:
      s_read_u64(rd, &u, "double");
      memcpy(&v->d, &u, sizeof v->d);
      break;
    case OTS_VT_BOOLEAN: {
      uint8_t b = rd->p[rd->off];
      if (b > 1) return s_fail(rd, rd->off, RV_EDECODE, "boolean byte 0x%02x is not 0 or 1", b);
      v->b = b == 1;
      rd->off++;
      break;
    }
    case OTS_VT_STRING:
    case OTS_VT_BLOB: {
      if (vlen < 5)
        return s_fail(rd, at, RV_EDECODE, "value length %u too short for %s (needs >= 5)", vlen,
                      ots_vtype_name(type));
      uint32_t n;
      size_t nat = rd->off;
      s_read_u32(rd, &n, "string length");
      if (n != vlen - 5)
        return s_fail(rd, nat, RV_EDECODE,
                      "%s length %u does not match value length %u (must be value length - 5)",
                      ots_vtype_name(type), n, vlen);
      v->s.p = rd->p + rd->off;
      v->s.len = n;
      rd->off += n;
      break;
    }
    default: break;
  }
  c->has_value = true;
  return RV_OK;
}

/* A column name from hostile input, made safe to print: at most 48 bytes, anything outside
 * printable ASCII as \xNN. */
typedef struct {
  char s[48 * 4 + 4];
} s_printable_t;

static s_printable_t s_printable(ots_bytes_t b) {
  static const char hex[] = "0123456789abcdef";
  s_printable_t out;
  size_t k = 0;
  for (size_t i = 0; i < b.len && i < 48; i++) {
    uint8_t ch = b.p[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
      out.s[k++] = (char)ch;
    } else {
      out.s[k++] = '\\';
      out.s[k++] = 'x';
      out.s[k++] = hex[ch >> 4];
      out.s[k++] = hex[ch & 15];
    }
  }
  if (b.len > 48) out.s[k++] = '.', out.s[k++] = '.', out.s[k++] = '.';
  out.s[k] = '\0';
  return out;
}

static int s_read_cell(s_rd_t *rd, ots_cell_t *c, bool is_pk) {
  int rc;
  size_t cell_at = rd->off;
  memset(c, 0, sizeof *c);
  if ((rc = s_expect_tag(rd, OTS_TAG_CELL, "cell"))) return rc;
  if ((rc = s_expect_tag(rd, OTS_TAG_CELL_NAME, "cell name"))) return rc;
  size_t at = rd->off;
  uint32_t n;
  if ((rc = s_read_u32(rd, &n, "name length"))) return rc;
  if (!s_have(rd, n))
    return s_fail(rd, at, RV_EDECODE, "name length %u runs past the end (%zu bytes left)", n,
                  rd->len - rd->off);
  c->name.p = rd->p + rd->off;
  c->name.len = n;
  rd->off += n;
  if (s_peek(rd) == OTS_TAG_CELL_VALUE) {
    rd->off++;
    if ((rc = s_read_value(rd, c))) return rc;
  }
  if (s_peek(rd) == OTS_TAG_CELL_TYPE) {
    size_t tat = rd->off++;
    if ((rc = s_need(rd, 1, "cell type"))) return rc;
    uint8_t op = rd->p[rd->off++];
    if (op != OTS_CELL_DELETE_ALL && op != OTS_CELL_DELETE_ONE && op != OTS_CELL_INCREMENT)
      return s_fail(rd, tat, RV_EDECODE, "unknown cell type 0x%02x", op);
    c->op = (ots_cell_op_t)op;
  }
  if (s_peek(rd) == OTS_TAG_CELL_TIMESTAMP) {
    rd->off++;
    uint64_t ts;
    if ((rc = s_read_u64(rd, &ts, "timestamp"))) return rc;
    c->ts = (int64_t)ts;
    c->has_ts = true;
  }
  size_t crc_at = rd->off;
  if ((rc = s_expect_tag(rd, OTS_TAG_CELL_CHECKSUM, "cell checksum"))) return rc;
  if ((rc = s_need(rd, 1, "cell checksum"))) return rc;
  uint8_t found = rd->p[rd->off++];
  s_printable_t pn = s_printable(c->name);
  const char *nm = pn.s;
  /* Consistency of the fields, before the checksum: a well-formed lie is still a lie. */
  if (is_pk) {
    if (!c->has_value)
      return s_fail(rd, cell_at, RV_EDECODE, "primary key cell '%s' has no value", nm);
    if (c->op != OTS_CELL_PUT || c->has_ts)
      return s_fail(rd, cell_at, RV_EDECODE,
                    "primary key cell '%s' carries an op type or a timestamp", nm);
    if (c->value.type == OTS_VT_DOUBLE || c->value.type == OTS_VT_BOOLEAN)
      return s_fail(rd, cell_at, RV_EDECODE, "primary key cell '%s' has type %s", nm,
                    ots_vtype_name(c->value.type));
  } else {
    if (c->has_value && (c->value.type == OTS_VT_INF_MIN || c->value.type == OTS_VT_INF_MAX ||
                         c->value.type == OTS_VT_AUTO_INCREMENT))
      return s_fail(rd, cell_at, RV_EDECODE, "attribute cell '%s' has primary-key-only type %s",
                    nm, ots_vtype_name(c->value.type));
    bool ok;
    switch (c->op) {
      case OTS_CELL_PUT: ok = c->has_value; break;
      case OTS_CELL_DELETE_ONE: ok = !c->has_value && c->has_ts; break;
      case OTS_CELL_DELETE_ALL: ok = !c->has_value; break; /* tolerate a timestamp */
      case OTS_CELL_INCREMENT: ok = c->has_value && c->value.type == OTS_VT_INTEGER; break;
      default: ok = false; break;
    }
    if (!ok)
      return s_fail(rd, cell_at, RV_EDECODE,
                    "attribute cell '%s': %s with%s value and with%s timestamp is not valid",
                    nm, s_op_name(c->op), c->has_value ? "" : "out",
                    c->has_ts ? "" : "out");
  }
  uint8_t want = ots_plainbuf_cell_crc(c);
  if (found != want)
    return s_fail(rd, crc_at, RV_ECORRUPT,
                  "cell '%s' checksum mismatch: computed 0x%02x, found 0x%02x", nm, want,
                  found);
  return RV_OK;
}

static int s_grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return RV_OK;
  size_t nc = *cap ? *cap * 2 : 8;
  while (nc < need) nc *= 2;
  void *p = realloc(*arr, nc * elem);
  if (!p) return RV_ENOMEM;
  *arr = p;
  *cap = nc;
  return RV_OK;
}

static int s_read_cells(s_rd_t *rd, ots_rowset_t *set, bool is_pk) {
  while (s_peek(rd) == OTS_TAG_CELL) {
    if (s_grow((void **)&set->cells, &set->cells_cap, set->ncells + 1, sizeof *set->cells))
      return rv_err_set(rd->err, RV_ENOMEM, "plainbuf: out of memory");
    int rc = s_read_cell(rd, &set->cells[set->ncells], is_pk);
    if (rc) return rc;
    set->ncells++;
  }
  return RV_OK;
}

static int s_read_ext(s_rd_t *rd, ots_row_t *r) {
  int rc;
  size_t at = rd->off;
  uint32_t n;
  if ((rc = s_read_u32(rd, &n, "extension length"))) return rc;
  if (!s_have(rd, n))
    return s_fail(rd, at, RV_EDECODE, "extension length %u runs past the end (%zu bytes left)",
                  n, rd->len - rd->off);
  /* The only extension known is sequence info: 0x0C u32(19) 0x0D u32 0x0E i64 0x0F u32. */
  const uint8_t *e = rd->p + rd->off;
  if (n != 24 || e[0] != OTS_TAG_SEQ_INFO || ots_le32_get(e + 1) != 19 ||
      e[5] != OTS_TAG_SEQ_INFO_EPOCH || e[10] != OTS_TAG_SEQ_INFO_TS ||
      e[19] != OTS_TAG_SEQ_INFO_ROW_INDEX)
    return s_fail(rd, rd->off, RV_EDECODE,
                  "extension of %u bytes is not a sequence info record (0x0c, 19 bytes)", n);
  r->has_seq = true;
  r->seq.epoch = ots_le32_get(e + 6);
  r->seq.ts = (int64_t)ots_le64_get(e + 11);
  r->seq.row_index = ots_le32_get(e + 20);
  rd->off += n;
  return RV_OK;
}

/* Row ranges are kept as cell indexes while cells may still move (realloc), then turned into
 * pointers at the end. */
typedef struct {
  size_t pk0, npk, attr0, nattrs;
} s_span_t;

int ots_plainbuf_decode(ots_rowset_t *set, const uint8_t *p, size_t len, rv_err_t *err) {
  set->nrows = set->ncells = 0;
  if (len == 0) return RV_OK;
  s_rd_t rd = {p, len, 0, err};
  s_span_t *spans = NULL;
  size_t spans_cap = 0;
  int rc = s_need(&rd, 4, "header");
  if (rc) goto fail;
  uint32_t hdr = ots_le32_get(p);
  if (hdr != OTS_PB_HEADER) {
    rc = s_fail(&rd, 0, RV_EDECODE, "bad header 0x%08x (expected 0x%08x)", hdr, OTS_PB_HEADER);
    goto fail;
  }
  rd.off = 4;
  if (rd.off == len) {
    rc = s_fail(&rd, rd.off, RV_EDECODE, "header without rows");
    goto fail;
  }
  while (rd.off < len) {
    size_t row_at = rd.off;
    if ((rc = s_expect_tag(&rd, OTS_TAG_ROW_PK, "row primary key"))) goto fail;
    if (s_grow((void **)&set->rows, &set->rows_cap, set->nrows + 1, sizeof *set->rows) ||
        s_grow((void **)&spans, &spans_cap, set->nrows + 1, sizeof *spans)) {
      rc = rv_err_set(err, RV_ENOMEM, "plainbuf: out of memory");
      goto fail;
    }
    ots_row_t *r = &set->rows[set->nrows];
    s_span_t *sp = &spans[set->nrows];
    memset(r, 0, sizeof *r);
    sp->pk0 = set->ncells;
    if ((rc = s_read_cells(&rd, set, true))) goto fail;
    sp->npk = set->ncells - sp->pk0;
    if (sp->npk == 0) {
      rc = s_fail(&rd, row_at, RV_EDECODE, "row without primary key cells");
      goto fail;
    }
    sp->attr0 = set->ncells;
    if (s_peek(&rd) == OTS_TAG_ROW_DATA) {
      size_t data_at = rd.off++;
      if ((rc = s_read_cells(&rd, set, false))) goto fail;
      if (set->ncells == sp->attr0) {
        rc = s_fail(&rd, data_at, RV_EDECODE, "attribute section without cells");
        goto fail;
      }
    }
    sp->nattrs = set->ncells - sp->attr0;
    if (s_peek(&rd) == OTS_TAG_DELETE_ROW_MARKER) {
      if (sp->nattrs) {
        rc = s_fail(&rd, rd.off, RV_EDECODE, "delete marker on a row with attribute cells");
        goto fail;
      }
      rd.off++;
      r->delete_marker = true;
    }
    if (s_peek(&rd) == OTS_TAG_EXTENSION) {
      rd.off++;
      if ((rc = s_read_ext(&rd, r))) goto fail;
    }
    size_t crc_at = rd.off;
    if ((rc = s_expect_tag(&rd, OTS_TAG_ROW_CHECKSUM, "row checksum"))) goto fail;
    if ((rc = s_need(&rd, 1, "row checksum"))) goto fail;
    uint8_t found = p[rd.off++];
    uint8_t want = 0;
    for (size_t i = sp->pk0; i < set->ncells; i++)
      want = ots_crc8_u8(want, ots_plainbuf_cell_crc(&set->cells[i]));
    want = ots_crc8_u8(want, r->delete_marker ? 1 : 0);
    if (want != found) {
      rc = s_fail(&rd, crc_at, RV_ECORRUPT,
                  "row %zu checksum mismatch: computed 0x%02x, found 0x%02x", set->nrows, want,
                  found);
      goto fail;
    }
    set->nrows++;
  }
  for (size_t i = 0; i < set->nrows; i++) {
    set->rows[i].pk = set->cells + spans[i].pk0;
    set->rows[i].npk = spans[i].npk;
    set->rows[i].attrs = spans[i].nattrs ? set->cells + spans[i].attr0 : NULL;
    set->rows[i].nattrs = spans[i].nattrs;
  }
  free(spans);
  return RV_OK;
fail:
  free(spans);
  set->nrows = set->ncells = 0;
  return rc;
}

/* ---- formatting ---- */

typedef struct {
  char *out;
  size_t cap, len; /* len counts what was needed, even past cap */
} s_fmt_t;

static void s_fmt_c(s_fmt_t *f, char c) {
  if (f->len + 1 < f->cap) f->out[f->len] = c;
  f->len++;
}

static void s_fmt_s(s_fmt_t *f, const char *s) {
  while (*s) s_fmt_c(f, *s++);
}

static void s_fmt_bytes(s_fmt_t *f, ots_bytes_t b, bool quoted) {
  static const char hex[] = "0123456789abcdef";
  size_t n = b.len > 32 ? 32 : b.len;
  if (quoted) s_fmt_c(f, '"');
  else s_fmt_s(f, "0x");
  for (size_t i = 0; i < n; i++) {
    uint8_t ch = b.p[i];
    if (quoted && ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
      s_fmt_c(f, (char)ch);
      continue;
    }
    if (quoted) s_fmt_s(f, "\\x");
    s_fmt_c(f, hex[ch >> 4]);
    s_fmt_c(f, hex[ch & 15]);
  }
  if (b.len > n) s_fmt_s(f, "...");
  if (quoted) s_fmt_c(f, '"');
}

static void s_fmt_value(s_fmt_t *f, const ots_value_t *v) {
  char num[48];
  switch (v->type) {
    case OTS_VT_INTEGER: snprintf(num, sizeof num, "%lld", (long long)v->i); s_fmt_s(f, num); break;
    case OTS_VT_DOUBLE: snprintf(num, sizeof num, "%.17g", v->d); s_fmt_s(f, num); break;
    case OTS_VT_BOOLEAN: s_fmt_s(f, v->b ? "true" : "false"); break;
    case OTS_VT_STRING: s_fmt_bytes(f, v->s, true); break;
    case OTS_VT_BLOB: s_fmt_bytes(f, v->s, false); break;
    default: s_fmt_s(f, ots_vtype_name(v->type)); break;
  }
}

static void s_fmt_cells(s_fmt_t *f, const char *label, const ots_cell_t *c, size_t n) {
  s_fmt_s(f, label);
  s_fmt_c(f, '(');
  for (size_t i = 0; i < n; i++) {
    if (i) s_fmt_s(f, ", ");
    s_fmt_s(f, s_printable(c[i].name).s);
    if (c[i].op == OTS_CELL_INCREMENT) s_fmt_s(f, "+=");
    else if (c[i].op != OTS_CELL_PUT) {
      s_fmt_c(f, ':');
      s_fmt_s(f, s_op_name(c[i].op));
    } else s_fmt_c(f, '=');
    if (c[i].has_value) s_fmt_value(f, &c[i].value);
    if (c[i].has_ts) {
      char ts[32];
      snprintf(ts, sizeof ts, "@%lld", (long long)c[i].ts);
      s_fmt_s(f, ts);
    }
  }
  s_fmt_c(f, ')');
}

size_t ots_plainbuf_format_row(const ots_row_t *r, char *out, size_t cap) {
  s_fmt_t f = {out, cap, 0};
  s_fmt_cells(&f, "pk", r->pk, r->npk);
  if (r->nattrs) s_fmt_cells(&f, " attrs", r->attrs, r->nattrs);
  if (r->delete_marker) s_fmt_s(&f, " delete");
  if (cap) out[f.len < cap ? f.len : cap - 1] = '\0';
  return f.len;
}
