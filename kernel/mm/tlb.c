/*
 * mm/tlb.c - TLB shootdown (see tlb.h for the protocol).
 *
 * The per-CPU request flag is `want[cpu]`: the address space whose request
 * the CPU must serve, or NULL. The space's lock guarantees one request per
 * space at a time; if a target's flag is still taken by another space's
 * request, the initiator waits for it (serving its own flag meanwhile).
 */
#include "arch/arch.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "lib/sort.h"
#include "mm/tlb.h"

#define SAMPLES_MAX     4096
#define ACK_TIMEOUT_S   5               /* a CPU that never acks is a bug */

struct tlb_cpu {
    struct tlb_space *volatile want;
    uint64_t served;
} __attribute__((aligned(64)));

struct tlb_space tlb_kernel_space = { .cpus = ~0ull };

static struct tlb_cpu cpus[ARCH_MAX_CPUS];
static uint64_t ipis_sent, samples[SAMPLES_MAX];
static unsigned nsamples;

void tlb_queue(struct tlb_batch *b, uint64_t va)
{
    if (b->n < TLB_BATCH_MAX)
        b->va[b->n++] = va;
    else
        b->full = 1;
}

void tlb_space_enter(struct tlb_space *s, unsigned cpu)
{
    __atomic_fetch_or(&s->cpus, 1ull << cpu, __ATOMIC_SEQ_CST);
}

void tlb_space_leave(struct tlb_space *s, unsigned cpu)
{
    __atomic_fetch_and(&s->cpus, ~(1ull << cpu), __ATOMIC_SEQ_CST);
}

void tlb_serve(void)
{
    struct tlb_cpu *c = &cpus[arch_cpu_id()];

    if (!__atomic_load_n(&c->want, __ATOMIC_RELAXED))
        return;
    struct tlb_space *s = __atomic_exchange_n(&c->want, 0, __ATOMIC_ACQUIRE);
    if (!s)
        return;
    if (s->full)
        arch_tlb_flush_all();
    else
        for (unsigned i = 0; i < s->n; i++)
            arch_tlb_flush_page(s->va[i]);
    c->served++;
    __atomic_fetch_add(&s->acks, 1, __ATOMIC_RELEASE);
}

void tlb_spin_lock(volatile int *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
            tlb_serve();
            arch_cpu_relax();
        }
    }
}

void tlb_spin_unlock(volatile int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* Set cpu's flag to s (waiting, serving, while another space holds it),
 * then send the IPI. */
static void request(unsigned cpu, struct tlb_space *s)
{
    struct tlb_space *none = 0;

    while (!__atomic_compare_exchange_n(&cpus[cpu].want, &none, s, 0,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
        none = 0;
        tlb_serve();
        arch_cpu_relax();
    }
    arch_send_tlb_ipi(cpu);
    __atomic_fetch_add(&ipis_sent, 1, __ATOMIC_RELAXED);
}

static void wait_acks(struct tlb_space *s, unsigned want)
{
    uint64_t t0 = arch_timestamp(), limit = arch_timestamp_hz() * ACK_TIMEOUT_S;

    while (__atomic_load_n(&s->acks, __ATOMIC_ACQUIRE) < want) {
        tlb_serve();
        arch_cpu_relax();
        if (limit && arch_timestamp() - t0 > limit)
            panic("tlb: shootdown not acknowledged within 5 s");
    }
}

uint64_t tlb_shootdown(struct tlb_space *s, struct tlb_batch *b)
{
    if (b->n == 0 && !b->full)
        return 0;                       /* nothing queued: no IPI */
    uint64_t t0 = arch_timestamp();
#ifdef BUG_SKIP_SHOOTDOWN
    /* Deliberate bug: the other CPUs keep their stale translations. */
    b->n = 0;
    b->full = 0;
    return 0;
#endif
    unsigned self = arch_cpu_id(), ncpu = arch_cpu_count(), sent = 0;
    uint64_t online = ncpu >= 64 ? ~0ull : (1ull << ncpu) - 1;
    /* The page-table change happened before this load (a CPU entering the
     * space after it reads the new tables when it loads CR3). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint64_t targets = __atomic_load_n(&s->cpus, __ATOMIC_SEQ_CST) & online &
                       ~(1ull << self);

    tlb_spin_lock(&s->lock);
    s->n = b->n;
    s->full = b->full;
    for (unsigned i = 0; i < b->n; i++)
        s->va[i] = b->va[i];
    __atomic_store_n(&s->acks, 0, __ATOMIC_RELEASE);
    for (unsigned c = 0; c < ncpu; c++) {
        if (targets & (1ull << c)) {
            request(c, s);
            sent++;
        }
    }
    wait_acks(s, sent);
    tlb_spin_unlock(&s->lock);
    b->n = 0;
    b->full = 0;

    uint64_t dt = arch_timestamp() - t0;
    unsigned i = __atomic_fetch_add(&nsamples, 1, __ATOMIC_RELAXED);
    if (i < SAMPLES_MAX)
        samples[i] = dt;
    return dt;
}

void tlb_report_cycles(const char *name)
{
    unsigned n = nsamples < SAMPLES_MAX ? nsamples : SAMPLES_MAX;
    struct lab_marker m;
    static const char *const stats[2] = { "median", "p99" };

    sort_u64(samples, n);
    for (int k = 0; k < 2 && n > 0; k++) {
        uint64_t v = k == 0 ? samples[(n - 1) / 2] : samples[(n * 99 + 99) / 100 - 1];
        lab_begin(&m, "metric");
        lab_str(&m, "name", name);
        lab_u64(&m, "value", v);
        lab_str(&m, "unit", "cycles");
        lab_u64(&m, "n", n);
        lab_str(&m, "stat", stats[k]);
        lab_u64(&m, "cpus", arch_cpu_count());
        lab_emit(&m);
    }
    if (n > 0)
        kprintf("tlb: %s: median %llu, p99 %llu cycles over %u shootdowns on %u CPUs\n",
                name, (unsigned long long)samples[(n - 1) / 2],
                (unsigned long long)samples[(n * 99 + 99) / 100 - 1], n, arch_cpu_count());
    nsamples = 0;
}

uint64_t tlb_ipis_sent(void)
{
    return ipis_sent;
}
