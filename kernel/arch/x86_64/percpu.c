/*
 * arch/x86_64/percpu.c - per-CPU blocks: GS base, and the APs' own GDT and
 * TSS (an AP cannot share the BSP's TSS: a TSS descriptor is marked busy by
 * ltr, and each CPU needs its own IST stacks).
 */
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/x86.h"
#include "lib/string.h"

#define KERNEL_CS   0x08
#define KERNEL_DS   0x10
#define TSS_SEL     0x18

extern uint64_t gdt64[];        /* boot.S: null, code, data, TSS (2 slots) */

struct percpu percpu_blocks[MAX_CPUS];
uint64_t percpu_gs_lo = (uint64_t)&percpu_blocks[0];
uint64_t percpu_gs_hi = (uint64_t)&percpu_blocks[MAX_CPUS];

/* Build this AP's GDT (boot code/data + own TSS), load it, reload the
 * segment registers and the task register. */
static void load_ap_tables(struct percpu *p, uint64_t ist_top)
{
    uint64_t base = (uint64_t)&p->tss, limit = sizeof p->tss - 1;
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;

    memset(&p->tss, 0, sizeof p->tss);
    p->tss.ist[0] = ist_top;
    p->tss.iomap_base = sizeof p->tss;
    p->gdt[0] = 0;
    p->gdt[1] = gdt64[1];
    p->gdt[2] = gdt64[2];
    p->gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    p->gdt[4] = base >> 32;
    gdtr.limit = sizeof p->gdt - 1;
    gdtr.base = (uint64_t)p->gdt;
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "ltr %w3"
        : : "m"(gdtr), "i"(KERNEL_CS), "r"(KERNEL_DS), "r"(TSS_SEL)
        : "rax", "memory");
}

void percpu_init(uint32_t cpu, uint32_t apic_id, uint64_t stack_lo,
                 uint64_t stack_hi, uint64_t ist_top)
{
    struct percpu *p = &percpu_blocks[cpu];

    p->self = p;
    p->cpu = cpu;
    p->apic_id = apic_id;
    p->stack_lo = stack_lo;
    p->stack_hi = stack_hi;
    if (cpu != 0)
        load_ap_tables(p, ist_top);
    wrmsr(MSR_GS_BASE, (uint64_t)p);
}
