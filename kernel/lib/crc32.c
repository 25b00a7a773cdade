/*
 * lib/crc32.c - bitwise CRC-32. Markers are short and rare, so no table:
 * nothing to initialize and nothing that can be used before it is ready.
 */
#include "lib/crc32.h"

uint32_t crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}
