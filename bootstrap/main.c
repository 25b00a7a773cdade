/*
 * main.c - bootstrap: the first userspace program. Runs the on-target
 * syscall tests and measurements and reports them as lab markers through
 * the console write syscall; its exit status is the number of failed
 * tests (the kernel turns it into test user.bootstrap).
 *
 *   test   syscall.abi               argument registers, preserved registers,
 *                                    -ENOSYS for unknown numbers (64-bit), the
 *                                    floor, write/clock/yield error paths
 *   metric syscall.enosys.cycles     an unknown syscall (1337), per call
 *   metric syscall.floor.cycles      SYS_FLOOR: swapgs + sysretq only
 *   metric syscall.overhead.cycles   the difference of the two medians
 *   ...then the threads/memory/signals suite (suite.c)
 *
 * Started with BOOT_FLAG_DAEMON, it is one of the boot's daemons instead
 * (daemon.c).
 *
 * Each latency: ROUNDS rounds of ITERS x 16 unrolled syscalls, timed with
 * rdtscp (lfence; rdtsc without it); the value is the median round's
 * cycles per syscall; n = syscalls timed in all rounds.
 */
#include "daemon.h"
#include "rt.h"
#include "suite.h"

#ifndef ITERS
#define ITERS   (1u << 16)      /* x 16 unrolled = 2^20 syscalls per round */
#endif
#ifndef ROUNDS
#define ROUNDS  5
#endif
#define UNROLL  16

static int failed;

/* One check of syscall.abi: count it, remember the first failure. */
static const char *first_fail;
static int checks;

static void check(int ok, const char *what)
{
    checks++;
    if (!ok && !first_fail)
        first_fail = what;
}

static void test_abi(void)
{
    uint64_t a = 0x0123456789abcdefull, b = 0xfedcba9876543210ull,
             c = 0x1111222233334444ull, d = 0x8000000000000001ull,
             e = 0x00000000ffffffffull;
    struct marker m;
    char buf[24];

    check((uint64_t)syscall5(SYS_ABI_CHECK, a, b, c, d, e) ==
          ABI_CHECK_HASH(a, b, c, d, e), "args");
    check((uint64_t)syscall5(SYS_ABI_CHECK, e, d, c, b, a) ==
          ABI_CHECK_HASH(e, d, c, b, a), "args-reversed");
    check(syscall5(SYS_BENCH_ENOSYS, 0, 0, 0, 0, 0) == -ENOSYS, "enosys");
    check(syscall5(0x100000000ull | SYS_WRITE, 1, 0, 0, 0, 0) == -ENOSYS,
          "enosys-64bit-number");
    check(syscall5(~0ull, 0, 0, 0, 0, 0) == -ENOSYS, "enosys-max");
    check(syscall5(SYS_FLOOR - 1, 0, 0, 0, 0, 0) == -ENOSYS, "enosys-floor-1");
    check(syscall5(SYS_FLOOR, 0, 0, 0, 0, 0) == SYS_FLOOR, "floor-rax");
    check(abi_regs_probe(SYS_BENCH_ENOSYS) == 0, "preserved-regs-enosys");
    check(abi_regs_probe(SYS_FLOOR) == 0, "preserved-regs-floor");
    check(abi_regs_probe(SYS_YIELD) == 0, "preserved-regs-yield");
    check(sys_write(1, 0, 8) == -EFAULT, "write-null-efault");
    check(sys_write(1, (void *)0x7fffffffff00ull, 8) == -EFAULT, "write-unmapped-efault");
    check(sys_write(7, "x", 1) == -EBADF, "write-ebadf");
    check(sys_write(1, "", 0) == 0, "write-empty");
    check(sys_yield() == 0, "yield");
    uint64_t t0 = sys_clock(CLOCK_MONOTONIC_NS), t1 = sys_clock(CLOCK_MONOTONIC_NS);
    check(t0 > 0 && t1 >= t0, "clock-monotonic");
    check(sys_clock(CLOCK_TSC_HZ) > 0, "clock-hz");
    check(syscall5(SYS_CLOCK, 99, 0, 0, 0, 0) == -EINVAL, "clock-einval");

    mk_begin(&m, "test");
    mk_str(&m, "name", "syscall.abi");
    mk_str(&m, "result", first_fail ? "fail" : "pass");
    char detail[96];
    int n = 0;
    const char *k = "checks=";
    while (*k)
        detail[n++] = *k++;
    n += fmt_u64(detail + n, (uint64_t)checks);
    if (first_fail) {
        k = ",first_failure=";
        while (*k)
            detail[n++] = *k++;
        for (k = first_fail; *k && n < 90; k++)
            detail[n++] = *k;
    }
    detail[n] = 0;
    mk_str(&m, "detail", detail);
    mk_emit(&m);
    if (first_fail)
        failed++;
    (void)buf;
}

static void sort(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* Median over ROUNDS of the cycles per syscall, in tenths; the spread
 * (min, max) too. */
static uint64_t measure(uint64_t nr, uint64_t *lo, uint64_t *hi)
{
    uint64_t r[ROUNDS];

    bench_syscalls(nr, ITERS / 16 + 1);         /* warm up */
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t t0 = timestamp();
        bench_syscalls(nr, ITERS);
        uint64_t t1 = timestamp();
        r[i] = (t1 - t0) * 10 / ((uint64_t)ITERS * UNROLL);
    }
    sort(r, ROUNDS);
    *lo = r[0];
    *hi = r[ROUNDS - 1];
    return r[ROUNDS / 2];
}

static void metric(const char *name, int64_t tenths, uint64_t lo, uint64_t hi)
{
    struct marker m;
    mk_begin(&m, "metric");
    mk_str(&m, "name", name);
    if (tenths < 0) {
        char b[32];
        b[0] = '-';
        int n = 1 + fmt_u64(b + 1, (uint64_t)-tenths / 10);
        b[n++] = '.';
        b[n++] = (char)('0' + (uint64_t)-tenths % 10);
        b[n] = 0;
        mk_str(&m, "value", b);
    } else {
        mk_tenths(&m, "value", (uint64_t)tenths);
    }
    mk_str(&m, "unit", "cycles");
    mk_u64(&m, "n", (uint64_t)ROUNDS * ITERS * UNROLL);
    mk_str(&m, "stat", "median");
    mk_u64(&m, "rounds", ROUNDS);
    if (hi) {
        mk_tenths(&m, "min", lo);
        mk_tenths(&m, "max", hi);
    }
    mk_str(&m, "clock", timestamp_kind());
    mk_emit(&m);
}

static void bench(void)
{
    uint64_t elo, ehi, flo, fhi;
    uint64_t ns0 = sys_clock(CLOCK_MONOTONIC_NS);
    uint64_t enosys = measure(SYS_BENCH_ENOSYS, &elo, &ehi);
    uint64_t floor = measure(SYS_FLOOR, &flo, &fhi);
    uint64_t ms = (sys_clock(CLOCK_MONOTONIC_NS) - ns0) / 1000000;
    char b[24];

    metric("syscall.enosys.cycles", (int64_t)enosys, elo, ehi);
    metric("syscall.floor.cycles", (int64_t)floor, flo, fhi);
    metric("syscall.overhead.cycles", (int64_t)enosys - (int64_t)floor, 0, 0);
    print("bootstrap: syscall benchmark took ");
    fmt_u64(b, ms);
    print(b);
    print(" ms\n");
}

/* BOOT_FLAG_NULL_DEREF: read address 0 (the kernel must kill us and go
 * on). Through asm, so the compiler cannot turn it into a trap. */
static void null_deref(void)
{
    uint64_t v, zero = 0;
    print("bootstrap: reading address 0 (BUG=user-null-deref)\n");
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(zero) : "memory");
    print("bootstrap: address 0 was readable!\n");
}

int main(uint64_t flags, uint64_t tsc_hz)
{
    char b[24];

    if (flags & BOOT_FLAG_DAEMON)
        return daemon_main(BOOT_DAEMON_INDEX(flags));
    clock_init();
    print("bootstrap: hello from ring 3, TSC ");
    fmt_u64(b, tsc_hz);
    print(b);
    print(" Hz, timestamps by ");
    print(timestamp_kind());
    print("\n");
    test_abi();
    /* A benchmark, not boot work: left out of a profiled boot's profile. */
    sys_profile(0);
    bench();
    sys_profile(1);
    failed += suite_run();
    if (flags & BOOT_FLAG_NULL_DEREF)
        null_deref();
    print("bootstrap: done, ");
    fmt_u64(b, (uint64_t)failed);
    print(b);
    print(" failed tests\n");
    return failed;
}
