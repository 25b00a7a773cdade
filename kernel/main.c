/*
 * main.c - kmain: the one ordered initialization of the reference kernel.
 *
 * boot.S enters here in long mode on the boot stack, with the multiboot
 * magic, the physical address of the multiboot information and the TSC read
 * right after entering 64-bit code. Each step below depends only on the
 * steps above it; the console comes first so that every failure is visible.
 */
#include <stdint.h>

#include "arch/arch.h"
#include "arch/x86_64/cpuinfo.h"
#include "arch/x86_64/multiboot.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "lab/bugs.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "mm/mm.h"
#include "prof/profiler.h"
#include "selftest/tlb_stress.h"
#include "syscall/syscall.h"
#include "user/process.h"

#ifndef ALLOCATOR_NAME
#define ALLOCATOR_NAME "p2buddy"
#endif

/* The boot page tables map the first 4 GiB; memory above is ignored. */
#define BOOT_MAPPED_LIMIT (4ull << 30)

void kmain(uint32_t magic, uint32_t mbi, uint64_t tsc_long_mode);

static struct mm_layout layout;

/* Stages that happened before the TSC frequency was known are reported once
 * the `tsc` marker is out, with the timestamps taken when they happened. */
static void report_early_stages(uint64_t tsc_long_mode, uint64_t tsc_serial,
                                uint64_t tsc_tsc)
{
    lab_stage("entry", boot_tsc0);
    lab_stage("long-mode", tsc_long_mode);
    lab_stage("serial", tsc_serial);
    lab_stage("tsc", tsc_tsc);
}

/* The CPU as this kernel sees it, for the lab's drift fingerprint: a
 * `machine` marker (lab-contracts/Console/PROTOCOL.md). */
static void report_machine(void)
{
    struct cpuinfo cpu;
    struct lab_marker m;

    cpuinfo_read(&cpu);
    kprintf("kernel: CPU %s (%s family %u model %u stepping %u)",
            cpu.brand[0] ? cpu.brand : "without a brand string", cpu.vendor,
            cpu.family, cpu.model, cpu.stepping);
    if (cpu.has_microcode)
        kprintf(", microcode 0x%x", cpu.microcode);
    kprintf("\n");

    lab_begin(&m, "machine");
    if (cpu.brand[0])
        lab_str(&m, "cpu", cpu.brand);
    lab_str(&m, "vendor", cpu.vendor);
    lab_u64(&m, "family", cpu.family);
    lab_u64(&m, "model", cpu.model);
    lab_u64(&m, "stepping", cpu.stepping);
    if (cpu.has_microcode)
        lab_hex(&m, "microcode", cpu.microcode);
    lab_emit(&m);
}

/* The run's verdict: failed tests, then findings, else pass. */
static void finish(void)
{
    int tests = lab_failed_tests(), findings = report_findings();

    lab_stage("kmain-done", arch_timestamp());
    kprintf("kernel: boot complete: %d failed tests, %d findings\n", tests, findings);
    if (tests)
        lab_end("fail", 1);
    if (findings)
        lab_end("fail", 2);
    lab_end("pass", 0);
}

void kmain(uint32_t magic, uint32_t mbi, uint64_t tsc_long_mode)
{
    /* COM1 first: from here on, everything the kernel says reaches the lab. */
    int uart = serial_init();
    uint64_t tsc_serial = arch_timestamp();
    lab_hello(ALLOCATOR_NAME);
    kprintf("kernel: redox-lab-ref 0.1 (allocator %s), COM1 %s\n",
            ALLOCATOR_NAME, uart ? "ready at 115200 8N1" : "missing");

    /* TSC frequency against the PIT: every later time is in TSC ticks. */
    uint64_t hz = tsc_init();
    uint64_t tsc_tsc = arch_timestamp();
    kprintf("kernel: TSC %llu Hz (calibrated against PIT channel 2)\n",
            (unsigned long long)hz);
    if (hz)
        lab_tsc(hz, boot_tsc0);
    report_early_stages(tsc_long_mode, tsc_serial, tsc_tsc);
    lab_metric("tsc.hz", hz, "Hz", 1, 0);

    /* Exceptions: from here a fault is reported, not a silent triple fault. */
    trap_init();

    /* CPU model and microcode (reading the MSR may fault on an odd CPU: after trap_init). */
    report_machine();

    /* The firmware memory map; must be read before anything is allocated. */
    int read = -1;
    if (magic == MULTIBOOT_BOOTLOADER_MAGIC)
        read = multiboot_read_layout(mbi, BOOT_MAPPED_LIMIT, &layout);
    else if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
        read = multiboot2_read_layout(mbi, BOOT_MAPPED_LIMIT, &layout);
    else
        panic("not loaded by a multiboot loader (bad magic)");
    if (read < 0)
        panic("the loader gave no memory map");

    /* CPUs from ACPI; keeps the AP trampoline page out of the allocator. */
    smp_probe(&layout);

    /* The NMI profiler (PROFILE=1 only), on the BSP from here: memory init,
     * the boot's most allocation-heavy step, is in the profile. */
    prof_start_boot();

    /* Frames, page tables, heap; stage `mm`. */
    mm_init(&layout);

    /* Local APICs, per-CPU blocks, the APs; stage `smp`. */
    smp_init();

    /* User segments, TSS.RSP0, SYSCALL MSRs and stack on the BSP. */
    syscall_init();

    /* The profiler on every CPU, for the rest of the boot and bootstrap. */
    prof_start();

    /* TLB shootdown under remap stress on every CPU: test tlb.stress. Left
     * out of the profile: its spin loops say nothing about boot cost. */
    prof_pause();
    tlb_stress_test();
    prof_resume();

    /* The deliberate bug of this build, if any (make BUG=...). */
    bugs_trigger();

    /* Allocator measurements and the fragmentation test. Left out of the
     * profile: they exercise the allocator for its own sake (every frame of
     * memory, thousands of timed calls), which is not boot work. */
    prof_pause();
    mm_bench();
    mm_fragmentation_test();
    prof_resume();

    /* The scheduler on every CPU (each CPU's LAPIC timer becomes its tick; the
     * profiler's NMIs go on sampling, ring 3 included), then bootstrap from the
     * initfs module: its threads in ring 3 with interrupts on; test
     * user.bootstrap. */
    user_run_bootstrap();

    /* The profile between the profile markers (PROFILE=1 only): kernel and
     * bootstrap's user frames. */
    prof_finish();

    finish();
}
