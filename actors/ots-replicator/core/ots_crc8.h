/* ots_crc8: the CRC-8 that guards PlainBuffer cells and rows (reference section 4.3).
 *
 * Polynomial 0x07 (x^8+x^2+x+1), initial value 0, no reflection, no final XOR (the parameters of
 * CRC-8/SMBUS; the Java SDK calls it "crc-8-ATM"). Check value over "123456789" is 0xF4.
 * Integers are folded little-endian, byte by byte, as every SDK does. Each function takes the
 * running crc and returns the updated one, so a checksum is built by chaining calls from 0.
 * Pure: libc only. */
#ifndef OTS_CRC8_H
#define OTS_CRC8_H

#include <stddef.h>
#include <stdint.h>

uint8_t ots_crc8_u8(uint8_t crc, uint8_t v);
/* n bytes from p (p may be NULL when n == 0). */
uint8_t ots_crc8_bytes(uint8_t crc, const void *p, size_t n);
uint8_t ots_crc8_u32(uint8_t crc, uint32_t v); /* 4 bytes, little-endian */
uint8_t ots_crc8_u64(uint8_t crc, uint64_t v); /* 8 bytes, little-endian */

#endif
