/*
 * arch/x86_64/smp.c - SMP bring-up (Intel SDM vol. 3, 9.4 "Multiple-
 * processor initialization"): CPUs from the ACPI MADT, INIT-SIPI-SIPI with
 * the SDM's delays timed by the calibrated TSC, a real-mode trampoline at
 * TRAMP_BASE, per-CPU blocks and stacks, and the APs' idle loop.
 *
 * The trampoline page is reserved from the frame allocator (smp_probe) and
 * identity mapped only while APs start; the mapping is then removed and shot
 * down. APs are started one at a time: each gets its CPU number, stack and
 * entry through the trampoline's parameter words.
 */
#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/x86.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/paging.h"
#include "mm/tlb.h"

#define AP_START_TIMEOUT_MS 2000        /* TCG with 8 vCPUs on 2 cores is slow */

extern char ap_trampoline_start[], ap_trampoline_end[];
extern uint64_t ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry, ap_tramp_arg;
extern char boot_stack_bottom[], boot_stack_top[];

static struct acpi_cpus acpi;
static volatile unsigned ncpus = 1;
static volatile int percpu_ready, ap_up;
static struct smp_job *volatile jobs[ARCH_MAX_CPUS];
static uint8_t ap_stacks[ARCH_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t ap_ist[ARCH_MAX_CPUS][AP_IST_SIZE] __attribute__((aligned(16)));

unsigned arch_cpu_id(void)
{
    return percpu_ready ? this_cpu()->cpu : 0;
}

unsigned arch_cpu_count(void)
{
    return ncpus;
}

static void delay_us(uint64_t us)
{
    uint64_t t0 = arch_timestamp(), ticks = arch_timestamp_hz() / 1000000 * us;

    while (arch_timestamp() - t0 < ticks) {
        tlb_serve();                    /* every spin loop serves shootdowns */
        cpu_pause();
    }
}

void smp_probe(struct mm_layout *l)
{
    if (acpi_find_cpus(&acpi) < 0)
        kprintf("smp: no MADT, running on the BSP only\n");
    else
        kprintf("smp: %d CPUs in the MADT, local APIC at 0x%llx\n", acpi.count,
                (unsigned long long)acpi.lapic_phys);
    if (mm_range_add(l->reserved, &l->n_reserved, TRAMP_BASE, TRAMP_BASE + 0x1000) < 0)
        panic("smp: no room to reserve the AP trampoline page");
}

void smp_post(unsigned cpu, struct smp_job *j)
{
    struct smp_job *none = 0;

    while (!__atomic_compare_exchange_n(&jobs[cpu], &none, j, 0,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
        none = 0;
        tlb_serve();
        cpu_pause();
    }
    lapic_send_ipi(percpu_blocks[cpu].apic_id, IPI_WAKEUP);
}

void smp_wait(struct smp_job *j, unsigned n)
{
    while (__atomic_load_n(&j->done, __ATOMIC_ACQUIRE) < n) {
        tlb_serve();
        cpu_pause();
    }
}

void smp_call_on(unsigned cpu, void (*fn)(void *), void *arg)
{
    struct smp_job j = { fn, arg, 0 };

    if (cpu == arch_cpu_id()) {
        fn(arg);
        return;
    }
    smp_post(cpu, &j);
    smp_wait(&j, 1);
}

/* An AP's life after ap_entry: serve shootdowns, run posted jobs, halt.
 * `sti; hlt` is one window: an IPI that arrives after the checks below
 * still ends the hlt, so no wakeup is lost. */
static void __attribute__((noreturn)) ap_loop(struct percpu *p)
{
    for (;;) {
        tlb_serve();
        struct smp_job *j = __atomic_exchange_n(&jobs[p->cpu], 0, __ATOMIC_ACQUIRE);
        if (j) {
            j->fn(j->arg);
            __atomic_fetch_add(&j->done, 1, __ATOMIC_RELEASE);
            continue;
        }
        p->idle = 1;
        __asm__ volatile("sti; hlt; cli" : : : "memory");
        p->idle = 0;
    }
}

/* The trampoline calls this on the AP's own stack, interrupts off. */
static void __attribute__((noreturn, used)) ap_entry(uint64_t cpu)
{
    trap_load_idt();
    lapic_init_ap();
    percpu_init((uint32_t)cpu, lapic_id(), (uint64_t)ap_stacks[cpu],
                (uint64_t)(ap_stacks[cpu] + AP_STACK_SIZE),
                (uint64_t)(ap_ist[cpu] + AP_IST_SIZE));
    __atomic_store_n(&ap_up, 1, __ATOMIC_RELEASE);
    ap_loop(this_cpu());
}

static void set_param(uint64_t *sym, uint64_t v)
{
    uint64_t off = (uint64_t)((char *)sym - ap_trampoline_start);
    *(volatile uint64_t *)arch_phys_to_virt(TRAMP_BASE + off) = v;
}

/* INIT, 10 ms, SIPI, 200 us, SIPI (SDM 9.4.4.1); then wait for the AP to
 * report in. Returns 0 when it did. */
static int start_ap(unsigned cpu, uint32_t apic_id)
{
    set_param(&ap_tramp_cr3, read_cr3());
    set_param(&ap_tramp_stack, (uint64_t)(ap_stacks[cpu] + AP_STACK_SIZE));
    set_param(&ap_tramp_entry, (uint64_t)ap_entry);
    set_param(&ap_tramp_arg, cpu);
    ap_up = 0;
    lapic_send_init(apic_id);
    delay_us(10000);
    lapic_send_sipi(apic_id, TRAMP_BASE >> 12);
    delay_us(200);
    lapic_send_sipi(apic_id, TRAMP_BASE >> 12);
    uint64_t t0 = arch_timestamp(), limit = arch_timestamp_hz() / 1000 * AP_START_TIMEOUT_MS;
    while (!__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE)) {
        if (arch_timestamp() - t0 > limit)
            return -1;
        tlb_serve();
        cpu_pause();
    }
    return 0;
}

static void start_aps(uint32_t bsp_id)
{
    struct tlb_batch b = { .n = 0 };
    size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);

    if (paging_map(TRAMP_BASE, TRAMP_BASE, PAGE_WRITE) < 0) {
        kprintf("smp: cannot map the trampoline page; APs not started\n");
        return;
    }
    memcpy(arch_phys_to_virt(TRAMP_BASE), ap_trampoline_start, size);
    for (int i = 0; i < acpi.count; i++) {
        uint32_t id = acpi.apic_id[i];
        if (id == bsp_id)
            continue;
        if (ncpus == ARCH_MAX_CPUS) {
            kprintf("smp: APIC id %u ignored (at most %d CPUs)\n", id, ARCH_MAX_CPUS);
            continue;
        }
        percpu_blocks[ncpus].apic_id = id;
        if (start_ap(ncpus, id) < 0) {
            kprintf("smp: AP with APIC id %u did not start\n", id);
            continue;
        }
        kprintf("AP %u: started\n", ncpus);
        __atomic_store_n(&ncpus, ncpus + 1, __ATOMIC_RELEASE);
    }
    /* The APs may still cache the trampoline's 1:1 translation. */
    paging_unmap(TRAMP_BASE);
    tlb_queue(&b, TRAMP_BASE);
    tlb_shootdown(&tlb_kernel_space, &b);
}

int smp_prof_boot(void)
{
    uint32_t a, b, c, d;

    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    percpu_init(0, b >> 24, (uint64_t)boot_stack_bottom, (uint64_t)boot_stack_top, 0);
    percpu_ready = 1;
    ipi_init();
    return ioapic_init_boot(&acpi) < 0 ? -1 : (int)(b >> 24);
}

void smp_init(void)
{
    if (lapic_init_bsp(acpi.lapic_phys) < 0)
        panic("smp: cannot map the local APIC");
    uint32_t bsp_id = lapic_id();
    percpu_init(0, bsp_id, (uint64_t)boot_stack_bottom, (uint64_t)boot_stack_top, 0);
    percpu_ready = 1;
    ipi_init();
    if (ioapic_init(&acpi) < 0)
        kprintf("smp: no I/O APIC (the profiler's clock falls back to LINT0)\n");
    kprintf("BSP: %u\n", bsp_id);
    kprintf("smp: local APIC in %s mode\n", lapic_mode());

    unsigned found = acpi.count > 0 ? (unsigned)acpi.count : 1;
    lab_metric("smp.cpus.found", found, "cpus", 1, 0);
    if (found > 1)
        start_aps(bsp_id);
    lab_metric("smp.cpus.started", ncpus, "cpus", 1, 0);
    if (ncpus == (found < ARCH_MAX_CPUS ? found : ARCH_MAX_CPUS))
        lab_stage("smp", arch_timestamp());
    else
        kprintf("smp: only %u of %u CPUs started\n", ncpus, found);
}
