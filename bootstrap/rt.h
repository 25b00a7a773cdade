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

static inline int64_t sys_mmap(uint64_t addr, uint64_t len, uint64_t flags)
{
    return syscall5(SYS_MMAP, addr, len, flags, 0, 0);
}

static inline int64_t sys_munmap(uint64_t addr, uint64_t len)
{
    return syscall5(SYS_MUNMAP, addr, len, 0, 0, 0);
}

static inline int64_t sys_futex_wait(volatile uint32_t *a, uint32_t v, uint64_t ns)
{
    return syscall5(SYS_FUTEX_WAIT, (uint64_t)(uintptr_t)a, v, ns, 0, 0);
}

static inline int64_t sys_futex_wake(volatile uint32_t *a, uint64_t n)
{
    return syscall5(SYS_FUTEX_WAKE, (uint64_t)(uintptr_t)a, n, 0, 0, 0);
}

static inline int64_t sys_sigprocmask(uint64_t how, uint64_t set)
{
    return syscall5(SYS_SIGPROCMASK, how, set, 0, 0, 0);
}

static inline int64_t sys_kill(uint64_t pid, uint64_t sig)
{
    return syscall5(SYS_KILL, pid, sig, 0, 0, 0);
}

static inline int64_t sys_tkill(uint64_t tid, uint64_t sig)
{
    return syscall5(SYS_TKILL, tid, sig, 0, 0, 0);
}

static inline int64_t sys_sigaltstack(const struct k_stack *ss, struct k_stack *old)
{
    return syscall5(SYS_SIGALTSTACK, (uint64_t)(uintptr_t)ss, (uint64_t)(uintptr_t)old,
                    0, 0, 0);
}

static inline int64_t sys_sleep(uint64_t ns)
{
    return syscall5(SYS_SLEEP, ns, 0, 0, 0, 0);
}

static inline uint64_t sys_info(uint64_t what)
{
    return (uint64_t)syscall5(SYS_INFO, what, 0, 0, 0, 0);
}

static inline int64_t sys_gettid(void)
{
    return syscall5(SYS_GETTID, 0, 0, 0, 0, 0);
}

static inline int64_t sys_ready(void)
{
    return syscall5(SYS_READY, 0, 0, 0, 0, 0);
}

static inline int64_t sys_profile(uint64_t on)
{
    return syscall5(SYS_PROFILE, on, 0, 0, 0, 0);
}

/* start.S */
void bench_syscalls(uint64_t nr, uint64_t iters);
uint64_t abi_regs_probe(uint64_t nr);
void sig_trampoline(void);          /* the process's one signal trampoline */
void thread_entry(void);            /* a new thread's first instruction */

/* Threads (rt.c): a 64 KiB mmap'ed stack each; fn(arg) runs, then the
 * thread exits with 0; join waits (futex on ctid, cleared by the kernel
 * at the thread's exit) and unmaps the stack. 0 or -errno. */
struct rt_thread {
    volatile uint32_t ctid;
    int tid;
    uint64_t stack;
    void (*fn)(void *);
    void *arg;
};
int rt_thread_start(struct rt_thread *t, void (*fn)(void *), void *arg);
int rt_thread_join(struct rt_thread *t);

/* Install handler for sig (with the trampoline), mask and flags. */
int rt_sigaction(int sig, void (*handler)(int, struct sig_frame *), uint64_t mask,
                 uint64_t flags);

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
/* CRC-32 (IEEE), as the protocol wants: kernel/lib/crc32.c, compiled into bootstrap too. */
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
