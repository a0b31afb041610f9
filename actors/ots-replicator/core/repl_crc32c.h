/* repl_crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the file
 * backend's segment records, indexes and manifests. Pure: libc only.
 * Check value: repl_crc32c(0, "123456789", 9) == 0xE3069283. */
#ifndef REPL_CRC32C_H
#define REPL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over n bytes of p (p may be NULL when n is 0). */
uint32_t repl_crc32c(uint32_t crc, const void *p, size_t n);

#endif
