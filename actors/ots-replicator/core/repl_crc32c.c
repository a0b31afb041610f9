/* repl_crc32c: table-driven CRC-32C, one byte at a time (the file backend checks a few MB per
 * commit; speed is not the point here). Pure. */
#include "repl_crc32c.h"

static uint32_t s_table[256];

/* Filled before main (no thread can race it). */
__attribute__((constructor)) static void s_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    s_table[i] = c;
  }
}

uint32_t repl_crc32c(uint32_t crc, const void *p, size_t n) {
  const uint8_t *b = p;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = s_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}
