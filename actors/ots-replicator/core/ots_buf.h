/* ots_buf: a growable byte buffer with a sticky failure flag, the output of every ots encoder.
 *
 * Appends after an allocation failure are ignored and ots_buf_ok() turns false, so an encoder
 * checks once at the end and returns RV_ENOMEM. Embedded by value: ots_buf_init / ots_buf_close.
 * Also the little-endian helpers PlainBuffer needs (every PlainBuffer integer is little-endian).
 * Pure: libc only. */
#ifndef OTS_BUF_H
#define OTS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte range (not NUL-terminated); p may be NULL when len == 0. */
typedef struct {
  const uint8_t *p;
  size_t len;
} ots_bytes_t;

typedef struct {
  uint8_t *data; /* owned; NULL until the first append */
  size_t len;    /* bytes used */
  size_t cap;    /* bytes allocated */
  bool failed;   /* an allocation failed since the last ots_buf_reset */
} ots_buf_t;

void ots_buf_init(ots_buf_t *b);
/* Frees the bytes and re-initialises the buffer (so it may be reused). Safe twice. */
void ots_buf_close(ots_buf_t *b);
/* Empties the buffer (keeps the allocation) and clears the failure flag. */
void ots_buf_reset(ots_buf_t *b);
static inline bool ots_buf_ok(const ots_buf_t *b) { return !b->failed; }
/* Makes room for extra more bytes; false (and failed) when it cannot. */
bool ots_buf_reserve(ots_buf_t *b, size_t extra);
void ots_buf_put(ots_buf_t *b, const void *p, size_t n);
void ots_buf_put_u8(ots_buf_t *b, uint8_t v);
void ots_buf_put_u32le(ots_buf_t *b, uint32_t v);
void ots_buf_put_u64le(ots_buf_t *b, uint64_t v);
/* A borrowed view of the contents (valid until the next append or close). */
static inline ots_bytes_t ots_buf_bytes(const ots_buf_t *b) {
  ots_bytes_t v = {b->data, b->len};
  return v;
}

/* Little-endian loads from raw memory (p must hold the width). */
uint32_t ots_le32_get(const uint8_t *p);
uint64_t ots_le64_get(const uint8_t *p);

#endif
