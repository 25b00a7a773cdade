/*
 * rt.h - bootstrap's runtime: syscall wrappers, console output, number
 * formatting, CRC-32 and lab protocol markers. Bootstrap is its own program:
 * it shares only the ABI constants (kernel/syscall/abi.h) with the kernel.
 */
#ifndef BOOTSTRAP_RT_H
#define BOOTSTRAP_RT_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel/syscall/abi.h"

static inline int64_t syscall5(uint64_t n, uint64_t a, uint64_t b, uint64_t c,
                               uint64_t d, uint64_t e)
{
    int64_t r;
    register uint64_t r10 __asm__("r10") = d;
    register uint64_t r8 __asm__("r8") = e;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return r;
}

static inline int64_t sys_write(int fd, const void *buf, size_t len)
{
    return syscall5(SYS_WRITE, (uint64_t)fd, (uint64_t)(uintptr_t)buf, len, 0, 0);
}

static inline uint64_t sys_clock(uint64_t which)
{
    return (uint64_t)syscall5(SYS_CLOCK, which, 0, 0, 0, 0);
}

static inline int64_t sys_yield(void)
{
    return syscall5(SYS_YIELD, 0, 0, 0, 0, 0);
}

__attribute__((noreturn)) static inline void sys_exit(uint64_t status)
{
    syscall5(SYS_EXIT, status, 0, 0, 0, 0);
    __builtin_unreachable();
}

/* start.S */
void bench_syscalls(uint64_t nr, uint64_t iters);
uint64_t abi_regs_probe(uint64_t nr);

/* Timestamps: rdtscp when CPUID offers it, else lfence; rdtsc. */
void clock_init(void);
uint64_t timestamp(void);
const char *timestamp_kind(void);

size_t rt_strlen(const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void print(const char *s);                  /* to the console, as is */
/* Into buf (at least 24 bytes); returns the length. */
int fmt_u64(char *buf, uint64_t v);
int fmt_hex(char *buf, uint64_t v);         /* 0x... */
uint32_t crc32(const void *data, size_t len);

/* Markers: begin, fields, emit (one write per marker, `*crc` and newline
 * added). Values are percent-encoded as the protocol wants. */
struct marker {
    char buf[512];
    size_t len;
};
void mk_begin(struct marker *m, const char *type);
void mk_str(struct marker *m, const char *key, const char *value);
void mk_u64(struct marker *m, const char *key, uint64_t value);
void mk_tenths(struct marker *m, const char *key, uint64_t tenths); /* 12.3 */
void mk_emit(struct marker *m);

#endif
