/*
 * lib/printf.c - a small vsnprintf and kprintf on top of the arch console.
 */
#include <stdint.h>

#include "arch/arch.h"
#include "lib/printf.h"
#include "lib/string.h"

struct out {
    char *buf;
    size_t size;
    size_t len;
};

/* Append c if it fits (leaving room for the NUL); always count it. */
static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

/* A parsed conversion: flags, field width, length modifier. */
struct spec {
    int width;
    int zero;
    int left;
    int len;        /* 0 int, 1 long, 2 long long / size_t */
};

/* Append s[0..n) padded to the field width (left- or right-aligned). */
static void put_padded(struct out *o, const char *s, size_t n, const struct spec *sp)
{
    int pad = sp->width > (int)n ? sp->width - (int)n : 0;

    if (!sp->left)
        while (pad-- > 0)
            put(o, sp->zero ? '0' : ' ');
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        while (pad-- > 0)
            put(o, ' ');
}

/* Format v in base 10 or 16; neg adds a leading '-' (before zero padding). */
static void put_num(struct out *o, uint64_t v, int base, int upper, int neg,
                    const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24], s[25];
    int n = 0, k = 0;
    struct spec s2 = *sp;

    do {
        tmp[n++] = digits[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    if (neg && sp->zero) {
        put(o, '-');
        if (s2.width > 0)
            s2.width--;
    } else if (neg) {
        s[k++] = '-';
    }
    while (n > 0)
        s[k++] = tmp[--n];
    put_padded(o, s, (size_t)k, &s2);
}

/* Parse flags, width and length after '%'; returns the conversion char. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    sp->width = sp->zero = sp->left = sp->len = 0;
    for (;; f++) {
        if (*f == '0')
            sp->zero = 1;
        else if (*f == '-')
            sp->left = 1;
        else
            break;
    }
    if (*f == '*') {
        sp->width = va_arg(*ap, int);
        f++;
    }
    while (*f >= '0' && *f <= '9')
        sp->width = sp->width * 10 + (*f++ - '0');
    while (*f == 'l' || *f == 'z') {
        sp->len = (*f == 'z') ? 2 : sp->len + 1;
        f++;
    }
    return f;
}

/* Fetch the next integer argument at the size the length modifier says. */
static uint64_t get_unsigned(const struct spec *sp, va_list *ap)
{
    if (sp->len >= 2)
        return va_arg(*ap, unsigned long long);
    if (sp->len == 1)
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned int);
}

static int64_t get_signed(const struct spec *sp, va_list *ap)
{
    if (sp->len >= 2)
        return va_arg(*ap, long long);
    if (sp->len == 1)
        return va_arg(*ap, long);
    return va_arg(*ap, int);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap0)
{
    struct out o = { buf, size, 0 };
    struct spec sp;
    va_list ap;

    va_copy(ap, ap0);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f = parse_spec(f + 1, &sp, &ap);
        switch (*f) {
        case 'd': case 'i': {
            int64_t v = get_signed(&sp, &ap);
            put_num(&o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10, 0, v < 0, &sp);
            break;
        }
        case 'u': put_num(&o, get_unsigned(&sp, &ap), 10, 0, 0, &sp); break;
        case 'x': put_num(&o, get_unsigned(&sp, &ap), 16, 0, 0, &sp); break;
        case 'X': put_num(&o, get_unsigned(&sp, &ap), 16, 1, 0, &sp); break;
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            sp.width = 16;
            sp.zero = 1;
            put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, &sp);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            put_padded(&o, s, strlen(s), &sp);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&o, &c, 1, &sp);
            break;
        }
        case '%': put(&o, '%'); break;
        case '\0': f--; break;
        default: put(&o, '%'); put(&o, *f); break;
        }
    }
    va_end(ap);
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void kprintf(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    int n = kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    arch_console_write(line, (size_t)n);
}
