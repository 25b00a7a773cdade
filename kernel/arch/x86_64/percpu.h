/*
 * arch/x86_64/percpu.h - the per-CPU block, reached through GS.
 *
 * Every CPU (the BSP included) owns one struct percpu. Its GS base (MSR
 * 0xC0000101) points at it, and its first word points at itself, so
 * `mov %gs:0, reg` yields the block without knowing the CPU number. In
 * ring 3 the GS base is the user's (0) and the kernel's sits in
 * KERNEL_GS_BASE: every entry from ring 3 (syscall/entry.S, isr.S,
 * ipi_entry.S) does swapgs first, and the NMI stub decides by reading the
 * GS base MSR and comparing it with [percpu_gs_lo, percpu_gs_hi).
 *
 * Each block also carries what the CPU's descriptor tables need: its own GDT
 * (the boot GDT's code and data descriptors plus its own TSS) and a TSS whose
 * IST1 stack serves NMI, double fault and machine check, as trap.c arranges
 * for the BSP. The BSP keeps trap.c's GDT/TSS; APs use the ones below.
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stdint.h>

#define MAX_CPUS        8
#define AP_STACK_SIZE   16384
#define AP_IST_SIZE     8192
#define MSR_GS_BASE     0xC0000101

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct percpu {
    struct percpu *self;        /* must stay first: %gs:0 */
    /* Issue 5 (syscall/entry.S reads these at fixed offsets 8, 16, 24;
     * syscall/syscall.c checks them with _Static_assert): */
    uint64_t user_rsp;          /* syscall entry: the user RSP, saved */
    uint64_t syscall_rsp;       /* syscall entry: top of this CPU's kernel stack */
    void *syscall_cpu;          /* syscall/: this CPU's struct syscall_cpu */
    uint32_t cpu;               /* logical number, 0 = BSP */
    uint32_t apic_id;
    uint64_t stack_lo, stack_hi;/* this CPU's kernel stack, for backtraces */
    volatile int idle;          /* set while halted (idle loop, naps) */
    volatile uint64_t irqs;     /* interrupts taken through ipi.c */
    uint64_t kstack_lo, kstack_hi;/* the running thread's kernel stack (0: none yet), for the profiler */
    uint64_t gdt[5] __attribute__((aligned(16)));
    struct tss64 tss __attribute__((aligned(16)));
} __attribute__((aligned(64)));

extern struct percpu percpu_blocks[MAX_CPUS];

/* The address range of percpu_blocks: a GS base inside it is the kernel's
 * (ipi_entry.S's NMI stub reads these). */
extern uint64_t percpu_gs_lo, percpu_gs_hi;

/* This CPU's block. Valid after percpu_init() ran on this CPU. */
static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* Fill block `cpu` and point this CPU's GS base at it. stack_lo/hi bound
 * the CPU's kernel stack. On an AP (cpu != 0) it also loads the block's
 * own GDT and TSS (IST1 = ist_top); the BSP keeps trap.c's. Call first
 * thing on every CPU, interrupts off. */
void percpu_init(uint32_t cpu, uint32_t apic_id, uint64_t stack_lo,
                 uint64_t stack_hi, uint64_t ist_top);

#endif
