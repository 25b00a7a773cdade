/*
 * selftest/tlb_stress.c - remap shared pages under readers on every CPU.
 *
 * STRESS_PAGES shared pages at STRESS_VA. Workers (one per AP, as a posted
 * job) loop over them: read the page's header word, write a per-iteration
 * pattern into their own slot, read it back. A read of FRAME_POISON means
 * the worker reached a frame already freed: a stale TLB entry. The BSP, per
 * round: allocate fresh frames, stamp their headers, swap every mapping,
 * one batched shootdown (STRESS_PAGES pages), free the old frames (the
 * allocator poisons them), dwell while the workers run, then check that
 * each freed frame still holds nothing but poison: any other word is a
 * worker's write into a freed frame, and the pattern says which CPU wrote
 * it.
 *
 * Why a stale entry is observable under QEMU TCG: each vCPU has a software
 * TLB that only its own invlpg/CR3 write flushes, and a worker's tight loop
 * keeps the translation hot, so without the shootdown it keeps reaching the
 * old frame. The page is never left unmapped while a worker may walk the
 * page tables: a small gate (a seqcount plus per-worker "inside" flags,
 * Dekker-style) keeps workers out only during the swap itself; it does not
 * touch any TLB, so it hides nothing from the test.
 *
 * Workers on odd CPUs run with interrupts on (served by the 0x41 IPI) and
 * nap briefly between bursts (so that, under emulation with more vCPUs
 * than host cores, the spinning vCPUs leave the initiator some host CPU);
 * workers on even CPUs run with interrupts off and never nap (served by
 * tlb_serve() in their loop). Both paths of the protocol are exercised.
 */
#include "arch/arch.h"
#include "arch/x86_64/smp.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "mm/tlb.h"
#include "selftest/tlb_stress.h"

#ifndef TLB_STRESS_MS
#define TLB_STRESS_MS   1000
#endif
#define STRESS_VA       0xffffd80000000000ull
#define STRESS_PAGES    8                       /* one batch of 8 per round */
#define MAX_ITERATIONS  200000
#define DWELL_US        20
#define SLOT(cpu)       (8 * ((cpu) + 1))       /* one cache line per CPU */
#define PATTERN(cpu, i) (0x5a00000000000000ull | ((uint64_t)(cpu) << 48) | \
                         ((i) & 0xffffffffffffull))
#define BENCH_SHOOTDOWNS 256
#define NAP_EVERY       4               /* odd CPUs: bursts of 4 x 64 accesses, */
#define NAP_US          50              /* then a nap (frees the host CPU) */
#define REPORT_MAX      4                       /* use-after-free markers */
#define OUTSIDE         1ull                    /* odd: never a gate value */

struct worker {
    volatile uint64_t iterations, stale, inside;
    uint64_t first_value, first_iteration;
} __attribute__((aligned(64)));

static struct worker workers[ARCH_MAX_CPUS];
static volatile uint64_t gate;                  /* odd while swapping */
static volatile int stop;
static uint64_t uaf_count;

static void note_stale(struct worker *w, uint64_t value)
{
    if (w->stale++ == 0) {
        w->first_value = value;
        w->first_iteration = w->iterations;
    }
}

/* One access round of CPU cpu over every shared page; on the BSP too,
 * between swaps. */
static void touch(struct worker *w, unsigned cpu)
{
    uint64_t v = PATTERN(cpu, w->iterations);

    for (unsigned p = 0; p < STRESS_PAGES; p++) {
        volatile uint64_t *page = (volatile uint64_t *)(STRESS_VA + p * PAGE_SIZE);
        uint64_t hdr = page[0];
        page[SLOT(cpu)] = v;
        uint64_t back = page[SLOT(cpu)];
        if (hdr == FRAME_POISON)
            note_stale(w, hdr);
        else if (back == FRAME_POISON)
            note_stale(w, back);
    }
    w->iterations++;
}

/* Enter the gate: announce, then re-check (mfence both sides). */
static int gate_enter(struct worker *w)
{
    uint64_t g = __atomic_load_n(&gate, __ATOMIC_ACQUIRE);

    if (g & 1)
        return 0;
    __atomic_store_n(&w->inside, g, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&gate, __ATOMIC_RELAXED) == g)
        return 1;
    __atomic_store_n(&w->inside, OUTSIDE, __ATOMIC_RELEASE);
    return 0;
}

/* The job every AP runs until `stop`. Entered and left with interrupts off. */
static void worker_main(void *arg)
{
    unsigned cpu = arch_cpu_id();
    struct worker *w = &workers[cpu];
    unsigned bursts = 0;

    (void)arg;
    if (cpu & 1)
        arch_irq_restore(1u << 9);      /* IF on: served by the IPI */
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        tlb_serve();
        if (gate_enter(w)) {
            for (int i = 0; i < 16; i++)
                touch(w, cpu);
            __atomic_store_n(&w->inside, OUTSIDE, __ATOMIC_RELEASE);
        }
        arch_cpu_relax();
        if ((cpu & 1) && ++bursts % NAP_EVERY == 0)
            arch_nap_us(NAP_US);
    }
    arch_irq_save();
}

/* Point page p of STRESS_VA at nf[p] while no worker is inside; the old
 * frames go to old[], their pages to batch b. */
static void swap_mappings(const phys_t *nf, phys_t *old, struct tlb_batch *b,
                          unsigned ncpu)
{
    __atomic_add_fetch(&gate, 1, __ATOMIC_SEQ_CST);         /* odd: closed */
    for (unsigned c = 1; c < ncpu; c++) {
        while (__atomic_load_n(&workers[c].inside, __ATOMIC_ACQUIRE) != OUTSIDE) {
            tlb_serve();
            arch_cpu_relax();
        }
    }
    for (unsigned p = 0; p < STRESS_PAGES; p++) {
        uint64_t va = STRESS_VA + p * PAGE_SIZE;
        old[p] = paging_unmap(va);
        if (paging_map(va, nf[p], PAGE_WRITE) < 0)
            panic("tlb stress: cannot map a shared page");
        tlb_queue(b, va);
    }
    __atomic_add_fetch(&gate, 1, __ATOMIC_RELEASE);         /* even: open */
}

/* Every word of a freed frame must still be poison; report the others. */
static void check_freed(phys_t f, unsigned page)
{
    const volatile uint64_t *w = arch_phys_to_virt(f);
    struct lab_marker m;

    for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
        uint64_t v = w[i];
        if (v == FRAME_POISON)
            continue;
        if (uaf_count++ >= REPORT_MAX)
            continue;
        unsigned cpu = (v >> 56) == 0x5a ? (unsigned)(v >> 48) & 0xff : 0;
        kprintf("tlb stress: frame 0x%llx written after free (word %u = 0x%llx, CPU %u)\n",
                (unsigned long long)f, i, (unsigned long long)v, cpu);
        lab_begin(&m, "finding");
        lab_str(&m, "kind", "use-after-free");
        lab_hex(&m, "frame", f);
        lab_u64(&m, "cpu", cpu);
        lab_hex(&m, "addr", STRESS_VA + page * PAGE_SIZE + i * 8);
        lab_hex(&m, "value", v);
        lab_str(&m, "msg", "write-into-freed-frame");
        lab_emit(&m);
    }
}

/* Fresh frames for every shared page, headers stamped; 0 if out of memory. */
static int fresh_frames(phys_t *nf, uint64_t stamp)
{
    for (unsigned p = 0; p < STRESS_PAGES; p++) {
        nf[p] = frame_alloc(0);
        if (!nf[p]) {
            while (p-- > 0)
                frame_free(nf[p], 0);
            return 0;
        }
        *(volatile uint64_t *)arch_phys_to_virt(nf[p]) = stamp;  /* header */
    }
    return 1;
}

/* The BSP's loop: returns the rounds (each remaps every shared page, one
 * batched shootdown) done within the time budget. */
static uint64_t remap_loop(unsigned ncpu)
{
    struct tlb_batch b = { .n = 0 };
    phys_t nf[STRESS_PAGES], old[STRESS_PAGES];
    uint64_t hz = arch_timestamp_hz(), t0 = arch_timestamp(), it = 0;
    uint64_t budget = hz / 1000 * TLB_STRESS_MS, dwell = hz / 1000000 * DWELL_US;

    while (it < MAX_ITERATIONS && arch_timestamp() - t0 < budget) {
        if (!fresh_frames(nf, it + 1))
            break;
        swap_mappings(nf, old, &b, ncpu);
        tlb_shootdown(&tlb_kernel_space, &b);
        for (unsigned p = 0; p < STRESS_PAGES; p++)
            frame_free(old[p], 0);
        for (uint64_t t = arch_timestamp(); arch_timestamp() - t < dwell;) {
            touch(&workers[0], 0);
            tlb_serve();
        }
        for (unsigned p = 0; p < STRESS_PAGES; p++)
            check_freed(old[p], p);
        it++;
    }
    return it;
}

static uint64_t report_stale(unsigned ncpu)
{
    uint64_t total = 0;
    struct lab_marker m;

    for (unsigned c = 0; c < ncpu; c++) {
        struct worker *w = &workers[c];
        if (!w->stale)
            continue;
        total += w->stale;
        kprintf("tlb stress: CPU %u read a freed frame %llu times (first: 0x%llx)\n",
                c, (unsigned long long)w->stale, (unsigned long long)w->first_value);
        lab_begin(&m, "finding");
        lab_str(&m, "kind", "stale-tlb");
        lab_u64(&m, "cpu", c);
        lab_hex(&m, "addr", STRESS_VA);
        lab_hex(&m, "value", w->first_value);
        lab_u64(&m, "count", w->stale);
        lab_str(&m, "msg", "read-of-freed-frame-through-stale-translation");
        lab_emit(&m);
    }
    return total;
}

/* Shootdown round trips to idle (halted) CPUs: the protocol's own cost. */
static void shootdown_bench(void)
{
    struct tlb_batch b = { .n = 0 };

    for (int i = 0; i < BENCH_SHOOTDOWNS; i++) {
        tlb_queue(&b, STRESS_VA);
        tlb_shootdown(&tlb_kernel_space, &b);
    }
    tlb_report_cycles("tlb.shootdown.cycles");
}

void tlb_stress_test(void)
{
    unsigned ncpu = arch_cpu_count();
    struct smp_job job = { worker_main, 0, 0 };
    struct tlb_batch b = { .n = 0 };
    phys_t frames[STRESS_PAGES];
    char detail[192];

    if (!fresh_frames(frames, 0))
        panic("tlb stress: out of frames");
    for (unsigned p = 0; p < STRESS_PAGES; p++)
        if (paging_map(STRESS_VA + p * PAGE_SIZE, frames[p], PAGE_WRITE) < 0)
            panic("tlb stress: cannot map a shared page");
    shootdown_bench();
    for (unsigned c = 0; c < ncpu; c++)
        workers[c].inside = OUTSIDE;
    for (unsigned c = 1; c < ncpu; c++)
        smp_post(c, &job);

    uint64_t t0 = arch_timestamp();
    uint64_t it = remap_loop(ncpu);
    uint64_t dt = arch_timestamp() - t0, accesses = 0;
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    smp_wait(&job, ncpu - 1);

    for (unsigned p = 0; p < STRESS_PAGES; p++) {
        frames[p] = paging_unmap(STRESS_VA + p * PAGE_SIZE);
        tlb_queue(&b, STRESS_VA + p * PAGE_SIZE);
    }
    tlb_shootdown(&tlb_kernel_space, &b);
    for (unsigned p = 0; p < STRESS_PAGES; p++)
        frame_free(frames[p], 0);

    for (unsigned c = 0; c < ncpu; c++)
        accesses += workers[c].iterations;
    uint64_t stale = report_stale(ncpu), findings = stale + uaf_count;
    ksnprintf(detail, sizeof detail,
              "iterations=%llu,findings=%llu,stale_reads=%llu,freed_writes=%llu,"
              "cpus=%u,pages=%u,accesses=%llu", (unsigned long long)it,
              (unsigned long long)findings, (unsigned long long)stale,
              (unsigned long long)uaf_count, ncpu, STRESS_PAGES,
              (unsigned long long)accesses);
    kprintf("tlb stress: %s\n", detail);
    lab_test("tlb.stress", findings == 0, detail);
    lab_metric("tlb.stress.iterations_per_sec",
               dt ? it * arch_timestamp_hz() / dt : 0, "iterations/s", 1, 0);
    tlb_report_cycles("tlb.stress.shootdown.cycles");
    lab_metric("tlb.ipis.sent", tlb_ipis_sent(), "ipis", 1, 0);
}
