/*
 * suite.c - bootstrap's on-target suite for threads, memory and signals
 * (issue 5). Every result is a lab marker; see README.md for the list.
 *
 *   metric syscall.sigprocmask.cycles  SIG_BLOCK of nothing, per call
 *   test   user.tlb                    acid-style remap-and-check on all CPUs
 *   test   signal.interrupt-busy       SIGINT to a thread spinning in ring 3
 *   test   signal.interrupt-blocked    SIGINT to a thread in futex_wait: EINTR
 *   test   signal.nested               a signal inside a handler, mask honoured
 *   test   signal.altstack             SA_ONSTACK handler on the sigaltstack
 *   test   leak.check                  signal objects, frames, free frames back
 *   metric signal.objects.leaked
 *   test   suite                       name=result for each test above
 */
#include "rt.h"
#include "suite.h"

#ifndef TLB_ITERS
#define TLB_ITERS   256         /* rounds; each thread checks once per round */
#endif
#define SPM_ITERS   16384       /* sigprocmask calls per round */
#define SPM_ROUNDS  5
#define MAX_THREADS 8
#define MS          1000000ull
#define BIT(s)      (1ull << (s))

static char summary[256];
static int summary_len, failures;

static void append(char *b, int *n, int max, const char *s)
{
    while (*s && *n < max - 1)
        b[(*n)++] = *s++;
    b[*n] = 0;
}

static void append_u64(char *b, int *n, int max, const char *key, uint64_t v)
{
    char t[24];
    if (*n)
        append(b, n, max, ",");
    append(b, n, max, key);
    append(b, n, max, "=");
    fmt_u64(t, v);
    append(b, n, max, t);
}

static uint64_t popcount(uint64_t v)
{
    uint64_t n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static void report(const char *name, int ok, const char *detail)
{
    struct marker m;
    mk_begin(&m, "test");
    mk_str(&m, "name", name);
    mk_str(&m, "result", ok ? "pass" : "fail");
    if (detail && *detail)
        mk_str(&m, "detail", detail);
    mk_emit(&m);
    if (summary_len)
        append(summary, &summary_len, sizeof summary, ",");
    append(summary, &summary_len, sizeof summary, name);
    append(summary, &summary_len, sizeof summary, ok ? "=pass" : "=fail");
    if (!ok)
        failures++;
}

static void wait_flag(volatile int *f)
{
    while (!__atomic_load_n(f, __ATOMIC_ACQUIRE))
        sys_yield();
}

/* ---- sigprocmask latency --------------------------------------------- */

static void sigprocmask_latency(void)
{
    uint64_t r[SPM_ROUNDS];
    struct marker m;

    for (int i = 0; i < SPM_ROUNDS; i++) {
        uint64_t t0 = timestamp();
        for (int k = 0; k < SPM_ITERS; k++)
            sys_sigprocmask(SIG_BLOCK, 0);
        r[i] = (timestamp() - t0) * 10 / SPM_ITERS;
    }
    for (int i = 1; i < SPM_ROUNDS; i++)
        for (int j = i; j > 0 && r[j - 1] > r[j]; j--) {
            uint64_t t = r[j]; r[j] = r[j - 1]; r[j - 1] = t;
        }
    mk_begin(&m, "metric");
    mk_str(&m, "name", "syscall.sigprocmask.cycles");
    mk_tenths(&m, "value", r[SPM_ROUNDS / 2]);
    mk_str(&m, "unit", "cycles");
    mk_u64(&m, "n", (uint64_t)SPM_ROUNDS * SPM_ITERS);
    mk_str(&m, "stat", "median");
    mk_u64(&m, "rounds", SPM_ROUNDS);
    mk_tenths(&m, "min", r[0]);
    mk_tenths(&m, "max", r[SPM_ROUNDS - 1]);
    mk_str(&m, "clock", timestamp_kind());
    mk_emit(&m);
}

/* ---- user.tlb: remap-and-check a shared page from every CPU ----------- */

static struct {
    volatile uint64_t *page;    /* the shared page's address */
    unsigned n;                 /* threads */
    uint64_t rounds;            /* K: each thread checks K times */
    volatile unsigned arrived, sense;
    volatile uint64_t counter, bad, first_bad;
    volatile uint64_t cpus_seen;
    volatile uint64_t cpu_of[MAX_THREADS];  /* each thread's CPU + 1 while spreading */
    unsigned want_cpus;                     /* distinct CPUs to spread over */
    int remap_errors;
} tlb;

#define TLB_SPREAD_NS   (5000 * MS)     /* the longest a thread spins in spread() */

/* Before the rounds, the threads on distinct CPUs: one CPU running them
 * all in turn (a host that starves the other vCPU lets the threads start
 * and yield there) finds no stale translation, and the test passed then
 * without testing anything. Each thread spins without yielding, noting
 * its CPU, until the threads are seen on want_cpus distinct CPUs or
 * TLB_SPREAD_NS passed; the detail's cpus_used tells which. */
static void spread(unsigned me)
{
    uint64_t t0 = sys_clock(CLOCK_MONOTONIC_NS);

    for (;;) {
        uint64_t cpu = (uint64_t)sys_info(INFO_CPU), seen = 0;
        tlb.cpu_of[me] = cpu + 1;
        __atomic_fetch_or(&tlb.cpus_seen, BIT(cpu), __ATOMIC_RELAXED);
        for (unsigned i = 0; i < tlb.n; i++)
            if (tlb.cpu_of[i])
                seen |= BIT(tlb.cpu_of[i] - 1);
        if (popcount(seen) >= tlb.want_cpus ||
            sys_clock(CLOCK_MONOTONIC_NS) - t0 > TLB_SPREAD_NS)
            return;
    }
}

/* Sense-reversing spin barrier; spinning yields (another thread may share
 * the CPU) but never blocks: blocking would reload CR3 and hide stale
 * translations. */
static void barrier(unsigned *local_sense)
{
    *local_sense ^= 1;
    if (__atomic_add_fetch(&tlb.arrived, 1, __ATOMIC_ACQ_REL) == tlb.n) {
        tlb.arrived = 0;
        __atomic_store_n(&tlb.sense, *local_sense, __ATOMIC_RELEASE);
    } else {
        while (__atomic_load_n(&tlb.sense, __ATOMIC_ACQUIRE) != *local_sense)
            sys_yield();
    }
}

static void tlb_worker(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg, sense = 0;

    spread(me);
    barrier(&sense);
    for (uint64_t r = 0; r < tlb.rounds; r++) {
        if (r % tlb.n == me) {
            /* Fresh frame at the same address; the old one is freed. */
            if (sys_mmap((uint64_t)(uintptr_t)tlb.page, 4096, MAP_FIXED) < 0)
                tlb.remap_errors++;
            tlb.page[0] = 0x7eb0000000000000ull | (r + 1);
        }
        barrier(&sense);
        uint64_t v = tlb.page[0];
        if (v == (0x7eb0000000000000ull | (r + 1)))
            __atomic_fetch_add(&tlb.counter, 1, __ATOMIC_RELAXED);
        else if (__atomic_fetch_add(&tlb.bad, 1, __ATOMIC_RELAXED) == 0)
            tlb.first_bad = v;
        barrier(&sense);
    }
    __atomic_fetch_or(&tlb.cpus_seen, BIT(sys_info(INFO_CPU)), __ATOMIC_RELAXED);
}

static void test_tlb(void)
{
    struct rt_thread th[MAX_THREADS];
    char d[200];
    int n = 0, started = 0;
    uint64_t ncpu = sys_info(INFO_CPUS), t0 = sys_clock(CLOCK_MONOTONIC_NS);

    tlb.n = ncpu < 2 ? 2 : ncpu > MAX_THREADS ? MAX_THREADS : (unsigned)ncpu;
    /* Past 4 threads, fewer rounds: every barrier waits for all vCPUs,
     * and the CI host has 2 cores (8 threads x 256 rounds took 32 s). */
    tlb.rounds = tlb.n <= 4 ? TLB_ITERS : (uint64_t)TLB_ITERS * 4 / tlb.n;
    tlb.want_cpus = ncpu < tlb.n ? (unsigned)ncpu : tlb.n;
    for (unsigned i = 0; i < MAX_THREADS; i++)
        tlb.cpu_of[i] = 0;
    int64_t page = sys_mmap(0, 4096, 0);
    tlb.page = (volatile uint64_t *)(uintptr_t)page;
    for (unsigned i = 0; page > 0 && i < tlb.n; i++)
        if (rt_thread_start(&th[i], tlb_worker, (void *)(uintptr_t)i) == 0)
            started++;
    for (int i = 0; i < started; i++)
        rt_thread_join(&th[i]);
    if (page > 0)
        sys_munmap((uint64_t)page, 4096);
    uint64_t expected = (uint64_t)tlb.n * tlb.rounds;
    append_u64(d, &n, sizeof d, "expected", expected);
    append_u64(d, &n, sizeof d, "got", tlb.counter);
    append_u64(d, &n, sizeof d, "threads", tlb.n);
    append_u64(d, &n, sizeof d, "iterations", tlb.rounds);
    append_u64(d, &n, sizeof d, "cpus_used", popcount(tlb.cpus_seen));
    append_u64(d, &n, sizeof d, "stale", tlb.bad);
    if (tlb.bad) {
        char h[24];
        fmt_hex(h, tlb.first_bad);
        append(d, &n, sizeof d, ",first_stale=");
        append(d, &n, sizeof d, h);
    }
    append_u64(d, &n, sizeof d, "ms", (sys_clock(CLOCK_MONOTONIC_NS) - t0) / MS);
    report("user.tlb", started == (int)tlb.n && !tlb.remap_errors &&
           tlb.counter == expected, d);
}

/* ---- signals ----------------------------------------------------------- */

static struct {
    volatile int started, stop, cleanup;
    volatile int64_t handler_tid, worker_tid, wait_result;
    volatile uint64_t spins;
    volatile uint32_t never;            /* futex word nobody wakes */
} sg;

static void on_sigint(int sig, struct sig_frame *f)
{
    (void)f;
    if (sig == SIGINT) {
        sg.handler_tid = sys_gettid();
        sg.stop = 1;
    }
}

static void busy_worker(void *arg)
{
    (void)arg;
    sg.worker_tid = sys_gettid();
    __atomic_store_n(&sg.started, 1, __ATOMIC_RELEASE);
    while (!sg.stop)
        sg.spins++;                     /* ring 3, no syscalls */
    sg.cleanup = 1;                     /* the "destructor": must run */
}

static void blocked_worker(void *arg)
{
    (void)arg;
    sg.worker_tid = sys_gettid();
    __atomic_store_n(&sg.started, 1, __ATOMIC_RELEASE);
    sg.wait_result = sys_futex_wait(&sg.never, 0, 5000 * MS);
    sg.cleanup = 1;
}

/* Start fn, let it settle, send SIGINT (to the process when `process`,
 * else to the thread), join. 0 when the thread could not start. */
static int interrupt(void (*fn)(void *), int process)
{
    struct rt_thread th;

    sg.started = sg.stop = sg.cleanup = 0;
    sg.handler_tid = sg.worker_tid = 0;
    sg.spins = 0;
    sg.wait_result = 1;
    if (rt_thread_start(&th, fn, 0) < 0)
        return 0;
    /* Ctrl-C style: process-directed, and this thread masks SIGINT (after
     * the start: a new thread inherits the mask), so the worker is the
     * one thread that can take it. */
    uint64_t old = process ? (uint64_t)sys_sigprocmask(SIG_BLOCK, BIT(SIGINT)) : 0;
    wait_flag(&sg.started);
    sys_sleep(20 * MS);                 /* in its loop / blocked by now */
    if (process)
        sys_kill(sys_info(INFO_PID), SIGINT);
    else
        sys_tkill((uint64_t)th.tid, SIGINT);
    rt_thread_join(&th);
    if (process)
        sys_sigprocmask(SIG_SETMASK, old);
    return 1;
}

static void test_interrupts(void)
{
    char d[160];
    int n = 0;

    rt_sigaction(SIGINT, on_sigint, 0, 0);
    /* The worker spins in ring 3 for 20 ms or more: a spin loop, left out
     * of a profiled boot's profile like the stress tests' (sys_profile). */
    sys_profile(0);
    int ok = interrupt(busy_worker, 1);
    sys_profile(1);
    append_u64(d, &n, sizeof d, "handled", sg.handler_tid != 0);
    append_u64(d, &n, sizeof d, "in_worker", sg.handler_tid == sg.worker_tid);
    append_u64(d, &n, sizeof d, "cleanup", (uint64_t)sg.cleanup);
    append_u64(d, &n, sizeof d, "spins", sg.spins);
    report("signal.interrupt-busy", ok && sg.handler_tid && sg.handler_tid == sg.worker_tid &&
           sg.cleanup && sg.spins, d);

    n = 0;
    ok = interrupt(blocked_worker, 0);
    append_u64(d, &n, sizeof d, "handled", sg.handler_tid != 0);
    append_u64(d, &n, sizeof d, "in_worker", sg.handler_tid == sg.worker_tid);
    append(d, &n, sizeof d, sg.wait_result == -EINTR ? ",wait=EINTR" : ",wait=other");
    append_u64(d, &n, sizeof d, "cleanup", (uint64_t)sg.cleanup);
    report("signal.interrupt-blocked", ok && sg.handler_tid == sg.worker_tid &&
           sg.wait_result == -EINTR && sg.cleanup, d);
    rt_sigaction(SIGINT, 0, 0, 0);
}

static struct {
    char log[16];
    volatile int len, usr1_runs, in_usr1;
    volatile uint64_t frames_in_usr2;
} ns;

static void logc(char c)
{
    if (ns.len < (int)sizeof ns.log - 1)
        ns.log[ns.len++] = c;
}

static void on_usr2(int sig, struct sig_frame *f)
{
    (void)sig; (void)f;
    logc('B');
    if (ns.in_usr1)
        ns.frames_in_usr2 = sys_info(INFO_SIG_FRAMES);
    logc('b');
}

static void on_usr1(int sig, struct sig_frame *f)
{
    (void)sig; (void)f;
    ns.in_usr1 = 1;
    logc('A');
    if (ns.usr1_runs++ == 0) {
        int64_t me = sys_gettid();
        sys_tkill((uint64_t)me, SIGUSR2);   /* delivered now: nested */
        sys_tkill((uint64_t)me, SIGUSR1);   /* masked in here: waits */
        logc('m');
    }
    logc('a');
    ns.in_usr1 = 0;
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void test_nested(void)
{
    char d[96];
    int n = 0;

    rt_sigaction(SIGUSR1, on_usr1, 0, 0);
    rt_sigaction(SIGUSR2, on_usr2, 0, 0);
    sys_tkill((uint64_t)sys_gettid(), SIGUSR1);
    ns.log[ns.len] = 0;
    append(d, &n, sizeof d, "order=");
    append(d, &n, sizeof d, ns.log);
    append_u64(d, &n, sizeof d, "frames_in_nested", ns.frames_in_usr2);
    append_u64(d, &n, sizeof d, "usr1_runs", (uint64_t)ns.usr1_runs);
    /* A, nested B..b, m (USR1 still held back), a; then USR1 again. */
    report("signal.nested", streq(ns.log, "ABbmaAa") && ns.frames_in_usr2 == 2 &&
           ns.usr1_runs == 2 && sys_info(INFO_SIG_FRAMES) == 0, d);
    rt_sigaction(SIGUSR1, 0, 0, 0);
    rt_sigaction(SIGUSR2, 0, 0, 0);
}

static struct {
    volatile uint64_t local_addr, onstack_flag;
} as;

static void on_hup(int sig, struct sig_frame *f)
{
    volatile int local = sig;
    struct k_stack cur;
    (void)f;
    as.local_addr = (uint64_t)(uintptr_t)&local;
    as.onstack_flag = sys_sigaltstack(0, &cur) == 0 ? cur.flags : 99;
}

static void test_altstack(void)
{
    char d[128];
    int n = 0;
    uint64_t size = 16384;
    int64_t st = sys_mmap(0, size, 0);
    struct k_stack ss = { (uint64_t)st, 0, size }, off = { 0, SS_DISABLE, 0 };

    int ok = st > 0 && sys_sigaltstack(&ss, 0) == 0 &&
             rt_sigaction(SIGHUP, on_hup, 0, SA_ONSTACK) == 0;
    if (ok)
        sys_tkill((uint64_t)sys_gettid(), SIGHUP);
    int inside = as.local_addr >= (uint64_t)st && as.local_addr < (uint64_t)st + size;
    append_u64(d, &n, sizeof d, "on_altstack", (uint64_t)inside);
    append_u64(d, &n, sizeof d, "ss_onstack", as.onstack_flag == SS_ONSTACK);
    char h[24];
    fmt_hex(h, as.local_addr);
    append(d, &n, sizeof d, ",local=");
    append(d, &n, sizeof d, h);
    report("signal.altstack", ok && inside && as.onstack_flag == SS_ONSTACK, d);
    sys_sigaltstack(&off, 0);
    rt_sigaction(SIGHUP, 0, 0, 0);
    if (st > 0)
        sys_munmap((uint64_t)st, size);
}

/* ---- leak check and summary ------------------------------------------- */

static uint64_t objects0, frames0, fadj0;

static void leak_check(void)
{
    struct marker m;
    char d[128];
    int n = 0;

    while (sys_info(INFO_THREADS) > 1)  /* let the scheduler reap the rest */
        sys_sleep(MS);
    int64_t objects = (int64_t)(sys_info(INFO_SIG_OBJECTS) - objects0);
    int64_t sframes = (int64_t)(sys_info(INFO_SIG_FRAMES) - frames0);
    int64_t frames = (int64_t)(fadj0 - sys_info(INFO_FRAMES_ADJ));
    append_u64(d, &n, sizeof d, "signal_objects", (uint64_t)objects);
    append_u64(d, &n, sizeof d, "signal_frames", (uint64_t)sframes);
    append_u64(d, &n, sizeof d, "frames", (uint64_t)frames);
    report("leak.check", objects == 0 && sframes == 0 && frames == 0, d);
    mk_begin(&m, "metric");
    mk_str(&m, "name", "signal.objects.leaked");
    mk_u64(&m, "value", (uint64_t)objects);
    mk_str(&m, "unit", "objects");
    mk_emit(&m);
}

int suite_run(void)
{
    struct marker m;

    objects0 = sys_info(INFO_SIG_OBJECTS);
    frames0 = sys_info(INFO_SIG_FRAMES);
    fadj0 = sys_info(INFO_FRAMES_ADJ);
    /* A benchmark and a stress test (spin barriers): left out of a
     * profiled boot's profile, as the kernel leaves out its own. */
    sys_profile(0);
    sigprocmask_latency();
    test_tlb();
    sys_profile(1);
    test_interrupts();
    test_nested();
    test_altstack();
    leak_check();
    mk_begin(&m, "test");
    mk_str(&m, "name", "suite");
    mk_str(&m, "result", failures ? "fail" : "pass");
    mk_str(&m, "detail", summary);
    mk_emit(&m);
    return failures;
}
