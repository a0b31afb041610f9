/* cli_fs_fmt: the formats raftvisor fs computes itself, pure (libc only;
 * tests/test_cli_fs_fmt.c): Hadoop's human-readable sizes and -checksum's CRC-32C. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_fs.h"

/* Hadoop's TraditionalBinaryPrefix.long2String(n, "", 1): "1023", "1 K", "1.5 M". */
void cli_fs_human(uint64_t n, char *out, size_t cap) {
  static const char sym[] = "KMGTPE";
  if (n < 1024) {
    snprintf(out, cap, "%" PRIu64, n);
    return;
  }
  int i = 0;
  while (i < 5 && n >= (1ull << (10 * (i + 2)))) i++;
  unsigned shift = 10u * (unsigned)(i + 1);
  if ((n & ((1ull << shift) - 1)) == 0) {
    snprintf(out, cap, "%" PRIu64 " %c", n >> shift, sym[i]);
    return;
  }
  char s[64];
  snprintf(s, sizeof s, "%.1f", (double)n / (double)(1ull << shift));
  if (strncmp(s, "1024", 4) == 0 && i < 5) { /* rounded up to the next prefix */
    i++;
    shift += 10;
    snprintf(s, sizeof s, "%.1f", (double)n / (double)(1ull << shift));
  }
  snprintf(out, cap, "%s %c", s, sym[i]);
}

/* CRC-32C (Castagnoli, reflected, as iSCSI and HDFS use) of p[0..n). */
uint32_t cli_fs_crc32c(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
  }
  return ~c;
}

