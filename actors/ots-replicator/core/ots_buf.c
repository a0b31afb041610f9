/* ots_buf: growable byte buffer with a sticky failure flag; little-endian helpers. Pure. */
#include "ots_buf.h"

#include <stdlib.h>
#include <string.h>

void ots_buf_init(ots_buf_t *b) { memset(b, 0, sizeof *b); }

void ots_buf_close(ots_buf_t *b) {
  if (!b) return;
  free(b->data);
  memset(b, 0, sizeof *b);
}

void ots_buf_reset(ots_buf_t *b) {
  b->len = 0;
  b->failed = false;
}

bool ots_buf_reserve(ots_buf_t *b, size_t extra) {
  if (b->failed) return false;
  if (extra <= b->cap - b->len) return true;
  if (extra > SIZE_MAX / 2 - b->len) {
    b->failed = true;
    return false;
  }
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->len < extra) cap *= 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p) {
    b->failed = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void ots_buf_put(ots_buf_t *b, const void *p, size_t n) {
  if (n == 0 || !ots_buf_reserve(b, n)) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void ots_buf_put_u8(ots_buf_t *b, uint8_t v) { ots_buf_put(b, &v, 1); }

void ots_buf_put_u32le(ots_buf_t *b, uint32_t v) {
  uint8_t x[4];
  for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
  ots_buf_put(b, x, 4);
}

void ots_buf_put_u64le(ots_buf_t *b, uint64_t v) {
  uint8_t x[8];
  for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
  ots_buf_put(b, x, 8);
}

uint32_t ots_le32_get(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t ots_le64_get(const uint8_t *p) {
  return (uint64_t)ots_le32_get(p) | (uint64_t)ots_le32_get(p + 4) << 32;
}
