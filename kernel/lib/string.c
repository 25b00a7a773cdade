/*
 * lib/string.c - memory and string primitives for the freestanding kernel.
 *
 * Written as plain word loops: under QEMU TCG an unrolled 64-bit store loop
 * runs much faster than a `rep stos` string instruction, and frame zeroing
 * and poisoning are on the allocator's hot path.
 */
#include "lib/string.h"

void memset64(void *dst, uint64_t pattern, size_t n)
{
    uint64_t *p = dst;
    size_t words = n / 8;

    while (words >= 8) {
        p[0] = pattern; p[1] = pattern; p[2] = pattern; p[3] = pattern;
        p[4] = pattern; p[5] = pattern; p[6] = pattern; p[7] = pattern;
        p += 8;
        words -= 8;
    }
    while (words--)
        *p++ = pattern;
}

#ifndef MM_HOST
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;

    if (n >= 64 && ((uintptr_t)d & 7) == 0) {
        uint64_t pat = 0x0101010101010101ull * (unsigned char)c;
        size_t bulk = n & ~(size_t)7;
        memset64(d, pat, bulk);
        d += bulk;
        n -= bulk;
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(uint64_t *)d = *(const uint64_t *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
#endif /* !MM_HOST */
