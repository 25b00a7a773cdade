/*
 * lib/string.h - the freestanding subset of <string.h> the kernel needs.
 * GCC may emit calls to memset/memcpy/memmove/memcmp on its own, so these
 * four must exist under their standard names.
 */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>
#include <stdint.h>

#ifdef MM_HOST
/* Host unit tests of mm/: the C library provides the standard functions. */
#include <string.h>
#else
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
#endif

/* Fill n bytes (n a multiple of 8, dst 8-byte aligned) with a 64-bit pattern. */
void memset64(void *dst, uint64_t pattern, size_t n);

#endif
