/* kv_snap: encoding and checked decoding of snapshot pairs (see kv_snap.h). Pure. */
#include "kv_snap.h"

#include <string.h>

static void s_put_le32(kv_buf_t *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  kv_buf_put(b, x, 4);
}

static uint32_t s_get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int kv_snap_put(kv_buf_t *b, const void *key, size_t klen, const void *val, size_t vlen) {
  if (klen == 0 || klen > KV_SNAP_KEY_MAX || vlen > KV_SNAP_VAL_MAX) return RV_ETOOBIG;
  if (!kv_buf_reserve(b, 8 + klen + vlen)) return RV_OK; /* sticky failure: caller checks */
  s_put_le32(b, (uint32_t)klen);
  kv_buf_put(b, key, klen);
  s_put_le32(b, (uint32_t)vlen);
  if (vlen) kv_buf_put(b, val, vlen);
  return RV_OK;
}

void kv_snap_cursor_init(kv_snap_cursor_t *c, const void *p, size_t len) {
  c->p = p;
  c->len = p ? len : 0;
  c->pos = 0;
}

static int s_bad(kv_snap_cursor_t *c, rv_err_t *err, const char *what, size_t at) {
  c->pos = c->len + 1; /* failed: every later call fails too */
  rv_err_set(err, RV_EDECODE, "snapshot chunk: %s at byte %zu", what, at);
  return -RV_EDECODE;
}

int kv_snap_next(kv_snap_cursor_t *c, kv_bytes_t *key, kv_bytes_t *val, rv_err_t *err) {
  if (c->pos > c->len) return s_bad(c, err, "read after an error", c->len);
  if (c->pos == c->len) return 0;
  size_t at = c->pos, left = c->len - c->pos;
  if (left < 4) return s_bad(c, err, "truncated key length", at);
  uint32_t klen = s_get_le32(c->p + c->pos);
  if (klen == 0 || klen > KV_SNAP_KEY_MAX) return s_bad(c, err, "key length out of bounds", at);
  if (left - 4 < (size_t)klen + 4) return s_bad(c, err, "truncated key", at);
  const uint8_t *k = c->p + c->pos + 4;
  uint32_t vlen = s_get_le32(k + klen);
  if (vlen > KV_SNAP_VAL_MAX) return s_bad(c, err, "value length out of bounds", at);
  if (left - 8 - klen < vlen) return s_bad(c, err, "truncated value", at);
  key->p = k;
  key->len = klen;
  val->p = k + klen + 4;
  val->len = vlen;
  c->pos += 8 + (size_t)klen + vlen;
  return 1;
}
