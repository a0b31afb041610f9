/* srv_pbuf.c: PlainBuffer decoder and encoder, CRC8, key encoding (reference 4.1-4.3). Pure. */
#include "srv_pbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_ROW_PK = 1, TAG_ROW_DATA = 2, TAG_CELL = 3, TAG_CELL_NAME = 4, TAG_CELL_VALUE = 5,
       TAG_CELL_TYPE = 6, TAG_CELL_TS = 7, TAG_DELETE_MARKER = 8, TAG_ROW_CHECKSUM = 9,
       TAG_CELL_CHECKSUM = 10 };
enum { PBUF_HEADER = 0x75, NAME_MAX_BYTES = 255 };

void srv_buf_put(srv_buf_t *b, const void *data, size_t n) {
  if (b->failed || n == 0) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    uint8_t *np = realloc(b->p, cap);
    if (!np) { b->failed = true; return; }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}
void srv_buf_u8(srv_buf_t *b, uint8_t v) { srv_buf_put(b, &v, 1); }
void srv_buf_u32le(srv_buf_t *b, uint32_t v) {
  uint8_t x[4];
  for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
  srv_buf_put(b, x, 4);
}
void srv_buf_u64le(srv_buf_t *b, uint64_t v) {
  uint8_t x[8];
  for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
  srv_buf_put(b, x, 8);
}
void srv_buf_close(srv_buf_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

uint8_t srv_crc8(uint8_t crc, const void *data, size_t n) {
  /* bitwise, no shared table: threads call this concurrently */
  const uint8_t *p = data;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (uint8_t)((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}
static uint8_t crc_u64(uint8_t crc, uint64_t v) {
  uint8_t x[8];
  for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
  return srv_crc8(crc, x, 8);
}
static uint8_t crc_u32(uint8_t crc, uint32_t v) {
  uint8_t x[4];
  for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
  return srv_crc8(crc, x, 4);
}

static uint8_t cell_crc(const srv_cell_t *c) {
  uint8_t crc = srv_crc8(0, c->name, strlen(c->name));
  if (c->has_value) {
    const srv_value_t *v = &c->v;
    crc = srv_crc8(crc, &v->type, 1);
    switch (v->type) {
    case SRV_VT_INTEGER: crc = crc_u64(crc, (uint64_t)v->i); break;
    case SRV_VT_DOUBLE: { uint64_t bits; memcpy(&bits, &v->d, 8); crc = crc_u64(crc, bits); break; }
    case SRV_VT_BOOLEAN: { uint8_t x = v->b; crc = srv_crc8(crc, &x, 1); break; }
    case SRV_VT_STRING: case SRV_VT_BLOB:
      crc = crc_u32(crc, v->len);
      crc = srv_crc8(crc, v->bytes, v->len);
      break;
    default: break; /* INF_MIN, INF_MAX, AUTO_INCREMENT: the type byte only */
    }
  }
  if (c->has_ts) crc = crc_u64(crc, (uint64_t)c->ts); /* timestamp before type (4.3) */
  if (c->has_op) crc = srv_crc8(crc, &c->op, 1);
  return crc;
}

/* ---- decoder ---- */

typedef struct {
  const uint8_t *p;
  size_t n, off;
  char *err;
  size_t errlen;
} rd_t;

static int rd_fail(rd_t *r, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(r->err, r->errlen, "PlainBuffer at byte %zu: %s", r->off, msg);
  return -1;
}
static int rd_peek(rd_t *r) { return r->off < r->n ? r->p[r->off] : -1; }
static int rd_bytes(rd_t *r, size_t k, const uint8_t **out, const char *what) {
  if (r->n - r->off < k) return rd_fail(r, "%s: needs %zu bytes, %zu left", what, k, r->n - r->off);
  *out = r->p + r->off;
  r->off += k;
  return 0;
}
static uint32_t le32(const uint8_t *x) {
  return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}
static uint64_t le64(const uint8_t *x) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | x[i];
  return v;
}

/* Reads type byte + payload; `avail` bytes belong to the value (or SIZE_MAX when unknown). */
static int rd_value(rd_t *r, size_t avail, srv_value_t *v, uint8_t **owned) {
  const uint8_t *x = NULL;
  if (avail < 1 || rd_bytes(r, 1, &x, "value type")) return rd_fail(r, "value without a type byte");
  memset(v, 0, sizeof *v);
  v->type = x[0];
  size_t want;
  switch (v->type) {
  case SRV_VT_INTEGER: case SRV_VT_DOUBLE: want = 9; break;
  case SRV_VT_BOOLEAN: want = 2; break;
  case SRV_VT_STRING: case SRV_VT_BLOB: want = 5; break;
  case SRV_VT_INF_MIN: case SRV_VT_INF_MAX: case SRV_VT_AUTO_INC: want = 1; break;
  default: r->off--; return rd_fail(r, "unknown value type 0x%02x", v->type);
  }
  if (avail != SIZE_MAX && avail < want)
    return rd_fail(r, "value length %zu too short for %s", avail, srv_vt_name(v->type));
  if (want == 9) {
    if (rd_bytes(r, 8, &x, "8-byte value")) return -1;
    uint64_t bits = le64(x);
    if (v->type == SRV_VT_INTEGER) v->i = (int64_t)bits; else memcpy(&v->d, &bits, 8);
  } else if (want == 2) {
    if (rd_bytes(r, 1, &x, "boolean")) return -1;
    if (x[0] > 1) return rd_fail(r, "boolean byte %u is neither 0 nor 1", x[0]);
    v->b = x[0];
  } else if (want == 5) {
    if (rd_bytes(r, 4, &x, "string length")) return -1;
    v->len = le32(x);
    want += v->len;
    if (avail != SIZE_MAX && avail != want)
      return rd_fail(r, "value_len %zu does not match %s of %u bytes", avail, srv_vt_name(v->type), v->len);
    if (rd_bytes(r, v->len, &x, "string bytes")) return -1;
    if (v->len) {
      *owned = malloc(v->len);
      if (!*owned) return rd_fail(r, "out of memory");
      memcpy(*owned, x, v->len);
      v->bytes = *owned;
    }
  }
  if (avail != SIZE_MAX && avail != want)
    return rd_fail(r, "value_len %zu does not match %s (%zu)", avail, srv_vt_name(v->type), want);
  return 0;
}

static int rd_cell(rd_t *r, srv_cell_t *c) {
  const uint8_t *x = NULL;
  memset(c, 0, sizeof *c);
  r->off++; /* TAG_CELL, checked by the caller */
  if (rd_peek(r) != TAG_CELL_NAME) return rd_fail(r, "expected cell name tag 0x04");
  r->off++;
  if (rd_bytes(r, 4, &x, "name length")) return -1;
  uint32_t nl = le32(x);
  if (nl == 0 || nl > NAME_MAX_BYTES) return rd_fail(r, "column name length %u not in 1..255", nl);
  if (rd_bytes(r, nl, &x, "column name")) return -1;
  if (memchr(x, 0, nl)) return rd_fail(r, "column name contains a NUL byte");
  c->name = malloc(nl + 1);
  if (!c->name) return rd_fail(r, "out of memory");
  memcpy(c->name, x, nl);
  c->name[nl] = 0;
  if (rd_peek(r) == TAG_CELL_VALUE) {
    r->off++;
    if (rd_bytes(r, 4, &x, "value length")) return -1;
    uint32_t vl = le32(x);
    if (rd_value(r, vl, &c->v, &c->v.bytes)) return -1;
    c->has_value = true;
  }
  if (rd_peek(r) == TAG_CELL_TYPE) {
    r->off++;
    if (rd_bytes(r, 1, &x, "cell type")) return -1;
    if (x[0] != SRV_OP_DELETE_ALL && x[0] != SRV_OP_DELETE_ONE && x[0] != SRV_OP_INCREMENT)
      return rd_fail(r, "unknown cell operation type 0x%02x", x[0]);
    c->has_op = true;
    c->op = x[0];
  }
  if (rd_peek(r) == TAG_CELL_TS) {
    r->off++;
    if (rd_bytes(r, 8, &x, "timestamp")) return -1;
    c->has_ts = true;
    c->ts = (int64_t)le64(x);
  }
  if (rd_peek(r) != TAG_CELL_CHECKSUM) return rd_fail(r, "expected cell checksum tag 0x0a");
  r->off++;
  if (rd_bytes(r, 1, &x, "cell checksum")) return -1;
  uint8_t want = cell_crc(c);
  if (x[0] != want)
    return rd_fail(r, "cell '%s' checksum mismatch: got 0x%02x, computed 0x%02x", c->name, x[0], want);
  return 0;
}

static int rd_cells(rd_t *r, srv_cell_t **cells, size_t *n) {
  size_t cap = 0;
  while (rd_peek(r) == TAG_CELL) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 4;
      srv_cell_t *nc = realloc(*cells, cap * sizeof **cells);
      if (!nc) return rd_fail(r, "out of memory");
      *cells = nc;
    }
    (*n)++;
    if (rd_cell(r, &(*cells)[*n - 1])) return -1;
  }
  return 0;
}

static int rd_row(rd_t *r, srv_row_t *row) {
  const uint8_t *x = NULL;
  if (rd_peek(r) != TAG_ROW_PK) return rd_fail(r, "expected row primary-key tag 0x01");
  r->off++;
  if (rd_cells(r, &row->pk, &row->npk)) return -1;
  if (rd_peek(r) == TAG_ROW_DATA) {
    r->off++;
    if (rd_peek(r) != TAG_CELL) return rd_fail(r, "attribute tag 0x02 without cells");
    if (rd_cells(r, &row->attrs, &row->nattrs)) return -1;
  }
  if (rd_peek(r) == TAG_DELETE_MARKER) {
    r->off++;
    row->delete_marker = true;
  }
  if (rd_peek(r) != TAG_ROW_CHECKSUM) return rd_fail(r, "expected row checksum tag 0x09");
  r->off++;
  if (rd_bytes(r, 1, &x, "row checksum")) return -1;
  uint8_t crc = 0;
  for (size_t i = 0; i < row->npk; i++) { uint8_t c = cell_crc(&row->pk[i]); crc = srv_crc8(crc, &c, 1); }
  for (size_t i = 0; i < row->nattrs; i++) { uint8_t c = cell_crc(&row->attrs[i]); crc = srv_crc8(crc, &c, 1); }
  uint8_t dm = row->delete_marker;
  crc = srv_crc8(crc, &dm, 1);
  if (x[0] != crc) return rd_fail(r, "row checksum mismatch: got 0x%02x, computed 0x%02x", x[0], crc);
  return 0;
}

int srv_pbuf_decode(const uint8_t *p, size_t n, size_t max_rows, srv_row_t **rows, size_t *nrows,
                    char *err, size_t errlen) {
  rd_t r = {p, n, 0, err, errlen};
  const uint8_t *x = NULL;
  *rows = NULL;
  *nrows = 0;
  if (n == 0 && max_rows == 0) return 0;
  if (rd_bytes(&r, 4, &x, "header")) return -1;
  if (le32(x) != PBUF_HEADER) { r.off = 0; return rd_fail(&r, "header is 0x%08x, expected 0x75", le32(x)); }
  size_t cap = 0;
  while (r.off < n) {
    /* Tag 0 at the end reads as "no tag" (JAVA PlainBufferInputStream.readTag, 4.2): the JS SDK
     * 5.6.5 counts an INF_MIN/INF_MAX key value one byte too long and sends a trailing 0x00,
     * which the real service accepts. Only zero bytes may trail. */
    size_t z = r.off;
    while (z < n && p[z] == 0) z++;
    if (z == n && *nrows > 0) break;
    if (max_rows && *nrows == max_rows) { rd_fail(&r, "%zu bytes after the last row", n - r.off); goto bad; }
    if (*nrows == cap) {
      cap = cap ? cap * 2 : 1;
      srv_row_t *nr = realloc(*rows, cap * sizeof **rows);
      if (!nr) { rd_fail(&r, "out of memory"); goto bad; }
      *rows = nr;
    }
    memset(&(*rows)[*nrows], 0, sizeof **rows);
    (*nrows)++;
    if (rd_row(&r, &(*rows)[*nrows - 1])) goto bad;
  }
  if (*nrows == 0) { rd_fail(&r, "no row after the header"); goto bad; }
  return 0;
bad:
  srv_rows_free(*rows, *nrows);
  *rows = NULL;
  *nrows = 0;
  return -1;
}

static void cells_free(srv_cell_t *c, size_t n) {
  for (size_t i = 0; i < n; i++) { free(c[i].name); free(c[i].v.bytes); }
  free(c);
}
void srv_rows_free(srv_row_t *rows, size_t n) {
  for (size_t i = 0; i < n; i++) { cells_free(rows[i].pk, rows[i].npk); cells_free(rows[i].attrs, rows[i].nattrs); }
  free(rows);
}

int srv_pbuf_decode_bare_value(const uint8_t *p, size_t n, srv_value_t *v, uint8_t **owned,
                               char *err, size_t errlen) {
  rd_t r = {p, n, 0, err, errlen};
  *owned = NULL;
  if (rd_value(&r, n, v, owned)) { free(*owned); *owned = NULL; return -1; }
  return 0;
}

/* ---- encoder ---- */

static void wr_value(srv_buf_t *b, const srv_value_t *v) {
  srv_buf_u8(b, v->type);
  switch (v->type) {
  case SRV_VT_INTEGER: srv_buf_u64le(b, (uint64_t)v->i); break;
  case SRV_VT_DOUBLE: { uint64_t bits; memcpy(&bits, &v->d, 8); srv_buf_u64le(b, bits); break; }
  case SRV_VT_BOOLEAN: srv_buf_u8(b, v->b); break;
  case SRV_VT_STRING: case SRV_VT_BLOB: srv_buf_u32le(b, v->len); srv_buf_put(b, v->bytes, v->len); break;
  default: break;
  }
}
static uint32_t value_len(const srv_value_t *v) {
  switch (v->type) {
  case SRV_VT_INTEGER: case SRV_VT_DOUBLE: return 9;
  case SRV_VT_BOOLEAN: return 2;
  case SRV_VT_STRING: case SRV_VT_BLOB: return 5 + v->len;
  default: return 1;
  }
}
static void wr_cell(srv_buf_t *b, const srv_cell_t *c) {
  size_t nl = strlen(c->name);
  srv_buf_u8(b, TAG_CELL);
  srv_buf_u8(b, TAG_CELL_NAME);
  srv_buf_u32le(b, (uint32_t)nl);
  srv_buf_put(b, c->name, nl);
  if (c->has_value) {
    srv_buf_u8(b, TAG_CELL_VALUE);
    srv_buf_u32le(b, value_len(&c->v));
    wr_value(b, &c->v);
  }
  if (c->has_op) { srv_buf_u8(b, TAG_CELL_TYPE); srv_buf_u8(b, c->op); }
  if (c->has_ts) { srv_buf_u8(b, TAG_CELL_TS); srv_buf_u64le(b, (uint64_t)c->ts); }
  srv_buf_u8(b, TAG_CELL_CHECKSUM);
  srv_buf_u8(b, cell_crc(c));
}
void srv_pbuf_encode_header(srv_buf_t *b) { srv_buf_u32le(b, PBUF_HEADER); }
void srv_pbuf_encode_row(srv_buf_t *b, const srv_cell_t *pk, size_t npk, const srv_cell_t *attrs,
                         size_t nattrs, bool delete_marker) {
  uint8_t crc = 0;
  srv_buf_u8(b, TAG_ROW_PK);
  for (size_t i = 0; i < npk; i++) { wr_cell(b, &pk[i]); uint8_t c = cell_crc(&pk[i]); crc = srv_crc8(crc, &c, 1); }
  if (nattrs) {
    srv_buf_u8(b, TAG_ROW_DATA);
    for (size_t i = 0; i < nattrs; i++) { wr_cell(b, &attrs[i]); uint8_t c = cell_crc(&attrs[i]); crc = srv_crc8(crc, &c, 1); }
  }
  if (delete_marker) srv_buf_u8(b, TAG_DELETE_MARKER);
  uint8_t dm = delete_marker;
  crc = srv_crc8(crc, &dm, 1);
  srv_buf_u8(b, TAG_ROW_CHECKSUM);
  srv_buf_u8(b, crc);
}

/* ---- ordering ---- */

int srv_value_cmp(const srv_value_t *a, const srv_value_t *b) {
  if (a->type != b->type) {
    int ra = a->type == SRV_VT_INF_MIN ? -1 : a->type == SRV_VT_INF_MAX ? 1 : 0;
    int rb = b->type == SRV_VT_INF_MIN ? -1 : b->type == SRV_VT_INF_MAX ? 1 : 0;
    return ra != rb ? (ra < rb ? -1 : 1) : (a->type < b->type ? -1 : 1);
  }
  switch (a->type) {
  case SRV_VT_INTEGER: return a->i < b->i ? -1 : a->i > b->i;
  case SRV_VT_DOUBLE: return a->d < b->d ? -1 : a->d > b->d;
  case SRV_VT_BOOLEAN: return (int)a->b - (int)b->b;
  case SRV_VT_STRING: case SRV_VT_BLOB: {
    uint32_t m = a->len < b->len ? a->len : b->len;
    int c = m ? memcmp(a->bytes, b->bytes, m) : 0;
    return c ? c : (a->len < b->len ? -1 : a->len > b->len);
  }
  default: return 0;
  }
}

void srv_key_append(srv_buf_t *b, const srv_value_t *v) {
  if (v->type == SRV_VT_INTEGER) {
    uint64_t u = (uint64_t)v->i ^ 0x8000000000000000ull;
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(u >> (56 - 8 * i));
    srv_buf_put(b, x, 8);
    return;
  }
  /* STRING / BLOB: 0x00 escaped as 00 ff, terminated by 00 01, so memcmp order is byte order */
  for (uint32_t i = 0; i < v->len; i++) {
    srv_buf_u8(b, v->bytes[i]);
    if (v->bytes[i] == 0) srv_buf_u8(b, 0xff);
  }
  srv_buf_u8(b, 0);
  srv_buf_u8(b, 1);
}

const char *srv_vt_name(uint8_t type) {
  switch (type) {
  case SRV_VT_INTEGER: return "VT_INTEGER";
  case SRV_VT_DOUBLE: return "VT_DOUBLE";
  case SRV_VT_BOOLEAN: return "VT_BOOLEAN";
  case SRV_VT_STRING: return "VT_STRING";
  case SRV_VT_BLOB: return "VT_BLOB";
  case SRV_VT_INF_MIN: return "VT_INF_MIN";
  case SRV_VT_INF_MAX: return "VT_INF_MAX";
  case SRV_VT_AUTO_INC: return "VT_AUTO_INCREMENT";
  default: return "VT_UNKNOWN";
  }
}
