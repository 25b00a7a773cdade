/*
 * lib/printf.h - formatted output for the kernel console.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, flags '0' and '-', a field width
 * (number or '*'), length modifiers l, ll, z. %p prints 0x and 16 digits.
 */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Like C's vsnprintf: always NUL-terminates when size > 0, returns the length
 * the full output would have had. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format into a 512-byte line buffer and write it to the console whole. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
