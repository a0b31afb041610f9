/* kv_codec: big-endian fixed-width integers, length-prefixed strings, a growable buffer and a
 * bounds-checked reader. Pure (libc only). */
#include "kv_codec.h"

#include <stdlib.h>
#include <string.h>

void kv_buf_init(kv_buf_t *b) { memset(b, 0, sizeof *b); }

void kv_buf_close(kv_buf_t *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void kv_buf_reset(kv_buf_t *b) {
  b->len = 0;
  b->failed = false;
}

void kv_buf_truncate(kv_buf_t *b, size_t len) {
  if (len < b->len) b->len = len;
}

bool kv_buf_reserve(kv_buf_t *b, size_t extra) {
  if (b->failed) return false;
  if (extra <= b->cap - b->len) return true;
  if (extra > SIZE_MAX / 2 - b->len) {
    b->failed = true;
    return false;
  }
  size_t need = b->len + extra;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  uint8_t *d = realloc(b->data, cap);
  if (!d) {
    b->failed = true;
    return false;
  }
  b->data = d;
  b->cap = cap;
  return true;
}

void kv_buf_put(kv_buf_t *b, const void *p, size_t n) {
  if (!kv_buf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}

void kv_be16_put(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

void kv_be32_put(uint8_t *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

void kv_be64_put(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

uint16_t kv_be16_get(const uint8_t *p) { return (uint16_t)((uint16_t)p[0] << 8 | p[1]); }

uint32_t kv_be32_get(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | p[i];
  return v;
}

uint64_t kv_be64_get(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

void kv_buf_put_u8(kv_buf_t *b, uint8_t v) { kv_buf_put(b, &v, 1); }

void kv_buf_put_u16(kv_buf_t *b, uint16_t v) {
  uint8_t x[2];
  kv_be16_put(x, v);
  kv_buf_put(b, x, sizeof x);
}

void kv_buf_put_u32(kv_buf_t *b, uint32_t v) {
  uint8_t x[4];
  kv_be32_put(x, v);
  kv_buf_put(b, x, sizeof x);
}

void kv_buf_put_u64(kv_buf_t *b, uint64_t v) {
  uint8_t x[8];
  kv_be64_put(x, v);
  kv_buf_put(b, x, sizeof x);
}

void kv_buf_put_i64(kv_buf_t *b, int64_t v) { kv_buf_put_u64(b, (uint64_t)v); }

void kv_buf_put_str8(kv_buf_t *b, const void *p, size_t n) {
  kv_buf_put_u8(b, (uint8_t)n);
  kv_buf_put(b, p, n);
}

void kv_buf_put_str16(kv_buf_t *b, const void *p, size_t n) {
  kv_buf_put_u16(b, (uint16_t)n);
  kv_buf_put(b, p, n);
}

void kv_buf_put_str32(kv_buf_t *b, const void *p, size_t n) {
  kv_buf_put_u32(b, (uint32_t)n);
  kv_buf_put(b, p, n);
}

void kv_reader_init(kv_reader_t *r, const void *p, size_t len) {
  r->p = p;
  r->len = p ? len : 0;
  r->off = 0;
  r->failed = false;
}

const uint8_t *kv_reader_bytes(kv_reader_t *r, size_t n) {
  if (r->failed || n > r->len - r->off) {
    r->failed = true;
    return NULL;
  }
  static const uint8_t s_empty[1];
  const uint8_t *at = r->p ? r->p + r->off : s_empty;
  r->off += n;
  return at;
}

uint8_t kv_reader_u8(kv_reader_t *r) {
  const uint8_t *p = kv_reader_bytes(r, 1);
  return p ? p[0] : 0;
}

uint16_t kv_reader_u16(kv_reader_t *r) {
  const uint8_t *p = kv_reader_bytes(r, 2);
  return p ? kv_be16_get(p) : 0;
}

uint32_t kv_reader_u32(kv_reader_t *r) {
  const uint8_t *p = kv_reader_bytes(r, 4);
  return p ? kv_be32_get(p) : 0;
}

uint64_t kv_reader_u64(kv_reader_t *r) {
  const uint8_t *p = kv_reader_bytes(r, 8);
  return p ? kv_be64_get(p) : 0;
}

int64_t kv_reader_i64(kv_reader_t *r) { return (int64_t)kv_reader_u64(r); }

static bool s_reader_str(kv_reader_t *r, size_t n, kv_bytes_t *out) {
  const uint8_t *p = kv_reader_bytes(r, n);
  out->p = p;
  out->len = p ? n : 0;
  return p != NULL;
}

bool kv_reader_str8(kv_reader_t *r, kv_bytes_t *out) {
  out->p = NULL;
  out->len = 0;
  size_t n = kv_reader_u8(r);
  return !r->failed && s_reader_str(r, n, out);
}

bool kv_reader_str16(kv_reader_t *r, kv_bytes_t *out) {
  out->p = NULL;
  out->len = 0;
  size_t n = kv_reader_u16(r);
  return !r->failed && s_reader_str(r, n, out);
}

bool kv_reader_str32(kv_reader_t *r, kv_bytes_t *out) {
  out->p = NULL;
  out->len = 0;
  size_t n = kv_reader_u32(r);
  return !r->failed && s_reader_str(r, n, out);
}

uint64_t kv_fnv64(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t kv_hash64(const void *p, size_t n) {
  uint64_t h = kv_fnv64(KV_FNV64_INIT, p, n);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

uint64_t kv_digest_row(uint64_t h, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  uint8_t len[4];
  kv_be32_put(len, (uint32_t)kl);
  h = kv_fnv64(h, len, sizeof len);
  h = kv_fnv64(h, k, kl);
  kv_be32_put(len, (uint32_t)vl);
  h = kv_fnv64(h, len, sizeof len);
  return kv_fnv64(h, v, vl);
}
