/* kv_codec: the portable byte encoding every kv-store key, value and command uses.
 *
 * All integers are fixed-width big-endian (so keys sort numerically under a bytewise comparator
 * and every replica, whatever its CPU, writes the same bytes). Strings and byte strings are a
 * length (u8, u16 or u32, as the field says) followed by the bytes, never NUL-terminated.
 *
 * kv_buf_t is a growable byte buffer with a sticky failure flag: appends after an allocation
 * failure are ignored and kv_buf_ok() turns false, so an encoder checks once at the end.
 * kv_reader_t is a bounds-checked cursor with the same sticky flag: a read past the end returns
 * zero / NULL and marks the reader failed; nothing ever reads outside [p, p + len).
 * Pure: libc only. */
#ifndef KV_CODEC_H
#define KV_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte range (not NUL-terminated). */
typedef struct {
  const uint8_t *p; /* may be NULL when len == 0 */
  size_t len;
} kv_bytes_t;

/* A growable buffer, embedded by value: kv_buf_init / kv_buf_close. */
typedef struct {
  uint8_t *data; /* owned; NULL until the first append */
  size_t len;    /* bytes used */
  size_t cap;    /* bytes allocated */
  bool failed;   /* an allocation failed since the last kv_buf_reset */
} kv_buf_t;

void kv_buf_init(kv_buf_t *b);
/* Frees the bytes; the buffer may be reused after kv_buf_init. Safe twice. */
void kv_buf_close(kv_buf_t *b);
/* Empties the buffer (keeps the allocation) and clears the failure flag. */
void kv_buf_reset(kv_buf_t *b);
/* true when no append has failed since the last reset. */
static inline bool kv_buf_ok(const kv_buf_t *b) { return !b->failed; }
/* Makes room for extra more bytes; returns false (and marks failed) when it cannot. */
bool kv_buf_reserve(kv_buf_t *b, size_t extra);
/* Shrinks to len bytes (len <= b->len). */
void kv_buf_truncate(kv_buf_t *b, size_t len);

void kv_buf_put(kv_buf_t *b, const void *p, size_t n);
void kv_buf_put_u8(kv_buf_t *b, uint8_t v);
void kv_buf_put_u16(kv_buf_t *b, uint16_t v);
void kv_buf_put_u32(kv_buf_t *b, uint32_t v);
void kv_buf_put_u64(kv_buf_t *b, uint64_t v);
void kv_buf_put_i64(kv_buf_t *b, int64_t v); /* two's complement, as u64 */
/* Length-prefixed strings; the caller has checked that n fits the prefix. */
void kv_buf_put_str8(kv_buf_t *b, const void *p, size_t n);
void kv_buf_put_str16(kv_buf_t *b, const void *p, size_t n);
void kv_buf_put_str32(kv_buf_t *b, const void *p, size_t n);

/* Fixed big-endian into / out of raw memory (p must hold the width). */
void kv_be16_put(uint8_t *p, uint16_t v);
void kv_be32_put(uint8_t *p, uint32_t v);
void kv_be64_put(uint8_t *p, uint64_t v);
uint16_t kv_be16_get(const uint8_t *p);
uint32_t kv_be32_get(const uint8_t *p);
uint64_t kv_be64_get(const uint8_t *p);

/* A checked reader over borrowed bytes. */
typedef struct {
  const uint8_t *p;
  size_t len;
  size_t off;  /* next byte to read */
  bool failed; /* a read ran past the end */
} kv_reader_t;

void kv_reader_init(kv_reader_t *r, const void *p, size_t len);
uint8_t kv_reader_u8(kv_reader_t *r);
uint16_t kv_reader_u16(kv_reader_t *r);
uint32_t kv_reader_u32(kv_reader_t *r);
uint64_t kv_reader_u64(kv_reader_t *r);
int64_t kv_reader_i64(kv_reader_t *r);
/* n raw bytes, borrowed from the input; NULL (and failed) when fewer remain. n == 0 gives a
 * non-NULL pointer at the cursor unless already failed. */
const uint8_t *kv_reader_bytes(kv_reader_t *r, size_t n);
/* Length-prefixed strings into out (borrowed from the input); false when truncated. */
bool kv_reader_str8(kv_reader_t *r, kv_bytes_t *out);
bool kv_reader_str16(kv_reader_t *r, kv_bytes_t *out);
bool kv_reader_str32(kv_reader_t *r, kv_bytes_t *out);
static inline size_t kv_reader_left(const kv_reader_t *r) {
  return r->failed ? 0 : r->len - r->off;
}
/* true when every byte was consumed and no read failed: the check that refuses both truncated
 * input and trailing garbage. */
static inline bool kv_reader_done(const kv_reader_t *r) { return !r->failed && r->off == r->len; }

/* FNV-1a 64-bit, incremental: start from KV_FNV64_INIT. (The replica digest.) */
#define KV_FNV64_INIT 0xcbf29ce484222325ull
uint64_t kv_fnv64(uint64_t h, const void *p, size_t n);
/* One row's part of the namespace digest (`fs -digest`, and the remote copy's digest of
 * `raftvisor meta-status --digest`): FNV-1a over be32 klen, key, be32 vlen, value. Rows are
 * hashed in key order, starting from KV_FNV64_INIT. */
uint64_t kv_digest_row(uint64_t h, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);

/* A hash for tables: FNV-1a finished with murmur3's fmix64, so every input bit reaches every
 * output bit (plain FNV-1a barely moves the middle bits when only the last byte differs, and
 * our keys end in big-endian counters). Not for the digest, whose values are a contract. */
uint64_t kv_hash64(const void *p, size_t n);

#endif
