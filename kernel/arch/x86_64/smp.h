/*
 * arch/x86_64/smp.h - finding and starting the application processors, and
 * running functions on them.
 */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

#include "mm/range.h"

#define TRAMP_BASE 0x8000ull    /* the AP trampoline page (SIPI vector 0x08) */

/*
 * Read the CPU list from ACPI and keep the trampoline page [TRAMP_BASE,
 * +4 KiB) out of the frame allocator by adding it to l's reserved ranges.
 * Needs the boot identity map: call after multiboot_read_layout(), before
 * mm_init().
 */
void smp_probe(struct mm_layout *l);

/*
 * After mm_init(): set up the BSP's local APIC and per-CPU block, install
 * the IPI vectors, start every AP with INIT-SIPI-SIPI (one at a time, at
 * most ARCH_MAX_CPUS CPUs in all) and leave them in the idle loop. Prints
 * `BSP: <apic id>`, `AP <n>: started`, the smp.cpus.found and
 * smp.cpus.started metrics and, when every CPU came up, stage `smp`.
 */
void smp_init(void);

/* PROFILE=1, before memory init, on the BSP: what the profiler's NMIs need
 * that early: the BSP's per-CPU block (GS base: the NMI stub's test, and
 * the boot stack's bounds for the frame walk; its APIC id from CPUID until
 * smp_init reads the local APIC), the NMI gate (ipi_init) and the I/O APIC
 * through the boot direct map (ioapic_init_boot). Returns the BSP's APIC
 * id, or -1 without a usable I/O APIC. */
int smp_prof_boot(void);

/* Work for an AP's idle loop. */
struct smp_job {
    void (*fn)(void *arg);
    void *arg;
    volatile unsigned done;     /* CPUs that finished fn */
};

/* Hand job j to CPU cpu (an AP) and wake it; returns at once. j must stay
 * valid until smp_wait() saw it done. */
void smp_post(unsigned cpu, struct smp_job *j);

/* Spin (serving TLB shootdowns) until n CPUs finished j. */
void smp_wait(struct smp_job *j, unsigned n);

/* Run fn(arg) on cpu (this CPU: directly) and wait for it. */
void smp_call_on(unsigned cpu, void (*fn)(void *), void *arg);

#endif
