/*
 * arch/x86_64/gdt_user.c - user segments, TSS.RSP0 and the SYSCALL MSRs
 * for the calling CPU (see gdt_user.h for the layout).
 *
 * The GDT and TSS in use belong to trap.c (BSP) or percpu.c (APs); rather
 * than reach into either, this file reads the live tables back with sgdt
 * and str, copies the GDT into a per-CPU array with two more slots and
 * loads that. The TSS descriptor is copied as is (busy): the task register
 * keeps its cached descriptor, so no ltr is needed.
 */
#include "arch/arch.h"
#include "arch/x86_64/gdt_user.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/x86.h"
#include "lib/string.h"
#include "mm/frame.h"

#define GDT_SLOTS       7
#define GDT_USER_DATA   0x00cff2000000ffffull   /* DPL 3, writable */
#define GDT_USER_CODE   0x00affa000000ffffull   /* DPL 3, L=1 */
#define STAR_VALUE      ((0x20ull << 48) | (0x08ull << 32))

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern char syscall_entry[];

static uint64_t user_gdt[MAX_CPUS][GDT_SLOTS] __attribute__((aligned(16)));
static struct tss64 *live_tss[MAX_CPUS];      /* for gdt_user_set_kstack */

/* The TSS the task register points at, decoded from its GDT descriptor. */
static struct tss64 *current_tss(const uint64_t *gdt)
{
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    uint64_t lo = gdt[tr / 8], hi = gdt[tr / 8 + 1];
    uint64_t base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) |
                    ((hi & 0xffffffff) << 32);
    return (struct tss64 *)(uintptr_t)base;
}

int gdt_user_init(void)
{
    struct percpu *p = this_cpu();
    struct desc_ptr old, gdtr;
    uint64_t *gdt = user_gdt[p->cpu];

    phys_t stack = frame_alloc(SYSCALL_STACK_ORDER);
    if (!stack)
        return -1;
    uint64_t top = (uint64_t)(uintptr_t)arch_phys_to_virt(stack) +
                   (PAGE_SIZE << SYSCALL_STACK_ORDER);

    __asm__ volatile("sgdt %0" : "=m"(old));
    memset(gdt, 0, sizeof user_gdt[0]);
    memcpy(gdt, (const void *)(uintptr_t)old.base, 5 * sizeof(uint64_t));
    gdt[5] = GDT_USER_DATA;
    gdt[6] = GDT_USER_CODE;
    gdtr.limit = GDT_SLOTS * sizeof(uint64_t) - 1;
    gdtr.base = (uint64_t)(uintptr_t)gdt;
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");

    /* Traps from ring 3 and SYSCALL land on the same stack: they never nest
     * (a trap in the kernel does not switch stacks). */
    live_tss[p->cpu] = current_tss(gdt);
    live_tss[p->cpu]->rsp[0] = top;
    p->syscall_rsp = top;
    p->user_rsp = 0;

    wrmsr(MSR_STAR, STAR_VALUE);
    wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
    wrmsr(MSR_SFMASK, SYSCALL_SFMASK);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* Swapped in by swapgs on the way to ring 3: user GS base 0. */
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    return 0;
}

void gdt_user_set_kstack(uint64_t top)
{
    struct percpu *p = this_cpu();

    live_tss[p->cpu]->rsp[0] = top;
    p->syscall_rsp = top;
}
