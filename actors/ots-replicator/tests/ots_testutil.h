/* Helpers shared by the ots-replicator tests: hex to bytes and back. Header-only. */
#ifndef OTS_TESTUTIL_H
#define OTS_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes a hex string into a malloc'd buffer (caller frees); *n gets the length. Aborts on a
 * malformed string: that is a bug in the test, not in the code under test. */
static inline uint8_t *ots_hex_decode(const char *hex, size_t *n) {
  size_t len = strlen(hex);
  if (len % 2) abort();
  uint8_t *out = malloc(len / 2 + 1);
  if (!out) abort();
  for (size_t i = 0; i < len / 2; i++) {
    unsigned v;
    char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
    char *end;
    v = (unsigned)strtoul(two, &end, 16);
    if (*end) abort();
    out[i] = (uint8_t)v;
  }
  *n = len / 2;
  return out;
}

/* Lower-case hex of n bytes into a malloc'd string (caller frees). */
static inline char *ots_hex_encode(const uint8_t *p, size_t n) {
  static const char d[] = "0123456789abcdef";
  char *s = malloc(2 * n + 1);
  if (!s) abort();
  for (size_t i = 0; i < n; i++) {
    s[2 * i] = d[p[i] >> 4];
    s[2 * i + 1] = d[p[i] & 15];
  }
  s[2 * n] = 0;
  return s;
}

#endif
