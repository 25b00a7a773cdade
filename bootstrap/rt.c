/*
 * rt.c - bootstrap's runtime (see rt.h).
 */
#include "rt.h"

static int have_rdtscp;

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

size_t rt_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void print(const char *s)
{
    sys_write(1, s, rt_strlen(s));
}

void clock_init(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u));
    if (a >= 0x80000001u) {
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u));
        have_rdtscp = (d >> 27) & 1;
    }
}

uint64_t timestamp(void)
{
    uint32_t lo, hi, aux;
    if (have_rdtscp)
        __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
    else
        __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

const char *timestamp_kind(void)
{
    return have_rdtscp ? "rdtscp" : "lfence-rdtsc";
}

int fmt_u64(char *buf, uint64_t v)
{
    char t[24];
    int n = 0, k = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        buf[k++] = t[--n];
    buf[k] = 0;
    return k;
}

int fmt_hex(char *buf, uint64_t v)
{
    static const char dig[] = "0123456789abcdef";
    char t[20];
    int n = 0, k = 0;
    do {
        t[n++] = dig[v & 15];
        v >>= 4;
    } while (v);
    buf[k++] = '0';
    buf[k++] = 'x';
    while (n)
        buf[k++] = t[--n];
    buf[k] = 0;
    return k;
}

static void put(struct marker *m, char c)
{
    if (m->len < sizeof m->buf - 16)    /* room for " *crc\n" */
        m->buf[m->len++] = c;
}

static void puts_raw(struct marker *m, const char *s)
{
    while (*s)
        put(m, *s++);
}

void mk_begin(struct marker *m, const char *type)
{
    m->len = 0;
    puts_raw(m, "@@LAB ");
    puts_raw(m, type);
}

void mk_str(struct marker *m, const char *key, const char *value)
{
    static const char dig[] = "0123456789ABCDEF";
    put(m, ' ');
    puts_raw(m, key);
    put(m, '=');
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        if (*v < 0x21 || *v > 0x7e || *v == '%') {
            put(m, '%');
            put(m, dig[*v >> 4]);
            put(m, dig[*v & 15]);
        } else {
            put(m, (char)*v);
        }
    }
}

void mk_u64(struct marker *m, const char *key, uint64_t value)
{
    char b[24];
    fmt_u64(b, value);
    mk_str(m, key, b);
}

void mk_tenths(struct marker *m, const char *key, uint64_t tenths)
{
    char b[32];
    int n = fmt_u64(b, tenths / 10);
    b[n++] = '.';
    b[n++] = (char)('0' + tenths % 10);
    b[n] = 0;
    mk_str(m, key, b);
}

void mk_emit(struct marker *m)
{
    static const char dig[] = "0123456789abcdef";
    uint32_t c = crc32(m->buf, m->len);
    m->buf[m->len++] = ' ';
    m->buf[m->len++] = '*';
    for (int i = 7; i >= 0; i--)
        m->buf[m->len++] = dig[(c >> (i * 4)) & 15];
    m->buf[m->len++] = '\n';
    sys_write(1, m->buf, m->len);
}

#define THREAD_STACK (64u << 10)

/* Called by thread_entry (start.S) on the new stack. */
void rt_thread_main(struct rt_thread *t);
void rt_thread_main(struct rt_thread *t)
{
    t->fn(t->arg);
    sys_exit(0);
}

int rt_thread_start(struct rt_thread *t, void (*fn)(void *), void *arg)
{
    int64_t st = sys_mmap(0, THREAD_STACK, 0);
    if (st < 0)
        return (int)st;
    t->stack = (uint64_t)st;
    t->fn = fn;
    t->arg = arg;
    t->ctid = 1;
    int64_t tid = syscall5(SYS_THREAD_CREATE, (uint64_t)(uintptr_t)thread_entry,
                           t->stack + THREAD_STACK, (uint64_t)(uintptr_t)t,
                           (uint64_t)(uintptr_t)&t->ctid, 0);
    if (tid < 0) {
        sys_munmap(t->stack, THREAD_STACK);
        return (int)tid;
    }
    t->tid = (int)tid;
    return 0;
}

int rt_thread_join(struct rt_thread *t)
{
    while (__atomic_load_n(&t->ctid, __ATOMIC_ACQUIRE))
        sys_futex_wait(&t->ctid, 1, 0);
    return (int)sys_munmap(t->stack, THREAD_STACK);
}

int rt_sigaction(int sig, void (*handler)(int, struct sig_frame *), uint64_t mask,
                 uint64_t flags)
{
    struct k_sigaction a = {
        (uint64_t)(uintptr_t)handler, mask, flags, (uint64_t)(uintptr_t)sig_trampoline,
    };
    return (int)syscall5(SYS_SIGACTION, (uint64_t)sig, (uint64_t)(uintptr_t)&a, 0, 0, 0);
}
