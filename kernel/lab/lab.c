/*
 * lab/lab.c - emitting lab console protocol markers with CRC-32.
 */
#include "arch/arch.h"
#include "lab/lab.h"
#include "lib/crc32.h"
#include "lib/printf.h"
#include "lib/string.h"

#define KERNEL_NAME     "redox-lab-ref"
#define KERNEL_VERSION  "0.1"

static int failed_tests;

static void append(struct lab_marker *m, const char *s, size_t n)
{
    /* Keep room for " truncated=1" and " *xxxxxxxx\n". */
    if (m->len + n + 32 > LAB_MARKER_MAX) {
        m->overflow = 1;
        return;
    }
    memcpy(m->buf + m->len, s, n);
    m->len += n;
}

void lab_begin(struct lab_marker *m, const char *type)
{
    m->len = 0;
    m->overflow = 0;
    append(m, "@@LAB ", 6);
    append(m, type, strlen(type));
}

void lab_str(struct lab_marker *m, const char *key, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";

    append(m, " ", 1);
    append(m, key, strlen(key));
    append(m, "=", 1);
    if (*value == '\0') {
        append(m, "-", 1);      /* the protocol has no empty values */
        return;
    }
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x21 || *p > 0x7e || *p == '%') {
            char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            append(m, esc, 3);
        } else {
            append(m, (const char *)p, 1);
        }
    }
}

void lab_u64(struct lab_marker *m, const char *key, uint64_t value)
{
    char tmp[24];
    ksnprintf(tmp, sizeof tmp, "%llu", (unsigned long long)value);
    lab_str(m, key, tmp);
}

void lab_hex(struct lab_marker *m, const char *key, uint64_t value)
{
    char tmp[24];
    ksnprintf(tmp, sizeof tmp, "0x%llx", (unsigned long long)value);
    lab_str(m, key, tmp);
}

void lab_hexlist(struct lab_marker *m, const char *key, const uint64_t *v, int n)
{
    char tmp[32 * 20];
    size_t len = 0;

    tmp[0] = '\0';
    for (int i = 0; i < n && len + 20 < sizeof tmp; i++)
        len += (size_t)ksnprintf(tmp + len, sizeof tmp - len, "%s0x%llx",
                                 i ? "," : "", (unsigned long long)v[i]);
    lab_str(m, key, n ? tmp : "none");
}

void lab_emit(struct lab_marker *m)
{
    char tail[16];

    if (m->overflow) {
        memcpy(m->buf + m->len, " truncated=1", 12);   /* fits the reserve */
        m->len += 12;
    }
    uint32_t crc = crc32(m->buf, m->len);
    int n = ksnprintf(tail, sizeof tail, " *%08x\n", crc);
    memcpy(m->buf + m->len, tail, (size_t)n);
    uint64_t flags = arch_irq_save();
    arch_console_write(m->buf, m->len + (size_t)n);
    arch_irq_restore(flags);
}

void lab_hello(const char *variant)
{
    struct lab_marker m;
    lab_begin(&m, "hello");
    lab_str(&m, "proto", "1");
    lab_str(&m, "kernel", KERNEL_NAME);
    lab_str(&m, "version", KERNEL_VERSION);
    lab_str(&m, "variant", variant);
    lab_emit(&m);
}

void lab_tsc(uint64_t hz, uint64_t base)
{
    struct lab_marker m;
    lab_begin(&m, "tsc");
    lab_u64(&m, "hz", hz);
    lab_u64(&m, "base", base);
    lab_emit(&m);
}

void lab_stage(const char *name, uint64_t tsc)
{
    struct lab_marker m;
    lab_begin(&m, "stage");
    lab_str(&m, "name", name);
    lab_u64(&m, "tsc", tsc);
    lab_emit(&m);
}

void lab_metric(const char *name, uint64_t value, const char *unit,
                uint64_t n, const char *stat)
{
    struct lab_marker m;
    lab_begin(&m, "metric");
    lab_str(&m, "name", name);
    lab_u64(&m, "value", value);
    lab_str(&m, "unit", unit);
    if (n > 1 || stat) {
        lab_u64(&m, "n", n);
        lab_str(&m, "stat", stat ? stat : "value");
    }
    lab_emit(&m);
}

void lab_test(const char *name, int pass, const char *detail)
{
    struct lab_marker m;
    if (!pass)
        failed_tests++;
    lab_begin(&m, "test");
    lab_str(&m, "name", name);
    lab_str(&m, "result", pass ? "pass" : "fail");
    if (detail && *detail)
        lab_str(&m, "detail", detail);
    lab_emit(&m);
}

void lab_note_failed(int n)
{
    failed_tests += n;
}

int lab_failed_tests(void)
{
    return failed_tests;
}

void lab_end(const char *status, int code)
{
    struct lab_marker m;
    lab_begin(&m, "end");
    lab_str(&m, "status", status);
    lab_u64(&m, "code", (uint64_t)code);
    lab_emit(&m);
    if (strcmp(status, "panic") == 0)
        arch_exit_panic(1);
    arch_exit(strcmp(status, "pass") == 0 ? 0 : 1);
}
