/*
 * lib/crc32.h - CRC-32 (IEEE 802.3, zlib's): reflected polynomial 0xEDB88320,
 * initial value and final XOR 0xFFFFFFFF. crc32("123456789") == 0xcbf43926.
 */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32(const void *data, size_t len);

#endif
