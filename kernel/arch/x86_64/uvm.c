/*
 * arch/x86_64/uvm.c - user address spaces on x86_64 4-level paging (the
 * contract is user/uvm.h).
 *
 * Sharing: PML4 entries 256..511 are copied from the kernel's PML4 on every
 * uvm_activate (so kernel-half slots created after the space still show
 * up); the kernel image's page-directory entries are copied once, at
 * creation (they point at the kernel's own page tables, which paging.c
 * only ever fills in, never replaces). Everything else below is owned by
 * the space and freed by uvm_destroy. uvm_replace/uvm_unmap flush only
 * this CPU's TLB entry (invlpg); the caller shoots the page down on the
 * other CPUs of the space (mm/tlb.h) before it frees the old frame.
 */
#include "arch/arch.h"
#include "arch/x86_64/x86.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "user/uvm.h"

#define PTE_P       0x1ull
#define PTE_W       0x2ull
#define PTE_U       0x4ull
#define PTE_HUGE    0x80ull
#define PTE_ADDR    0x000ffffffffff000ull
#define KERNEL_HALF 256

extern char __kernel_end[];

static phys_t kernel_pml4;
static unsigned kernel_pd_slots;   /* 2 MiB slots of the kernel image */

static uint64_t *tab(phys_t p)
{
    return arch_phys_to_virt(p);
}

int uvm_init(void)
{
    uint64_t end = (uint64_t)(uintptr_t)__kernel_end;

    kernel_pml4 = read_cr3() & PTE_ADDR;
    kernel_pd_slots = (unsigned)((end + (1ull << 21) - 1) >> 21);
    if (end > USER_MIN) {
        kprintf("uvm: kernel image ends at 0x%llx, above USER_MIN\n",
                (unsigned long long)end);
        return -1;
    }
    return 0;
}

/* A zeroed table frame owned by `as`, or 0. */
static phys_t new_table(struct uvm *as)
{
    phys_t f = frame_alloc(0);
    if (f)
        as->tables++;
    return f;
}

int uvm_create(struct uvm *as)
{
    as->pages = as->tables = 0;
    as->pml4 = new_table(as);
    if (!as->pml4)
        return -1;
    phys_t pdpt = new_table(as), pd = new_table(as);
    if (!pdpt || !pd) {
        if (pdpt)
            frame_free(pdpt, 0);
        if (pd)
            frame_free(pd, 0);
        frame_free(as->pml4, 0);
        as->pml4 = 0;
        as->tables = 0;
        return -1;
    }
    uint64_t *k4 = tab(kernel_pml4);
    uint64_t *kpdpt = tab(k4[0] & PTE_ADDR);
    uint64_t *kpd = tab(kpdpt[0] & PTE_ADDR);
    uint64_t *u4 = tab(as->pml4);

    u4[0] = pdpt | PTE_P | PTE_W | PTE_U;
    tab(pdpt)[0] = pd | PTE_P | PTE_W | PTE_U;
    /* The kernel image's slots: the kernel's page tables, no user bit. */
    for (unsigned i = 0; i < kernel_pd_slots; i++)
        tab(pd)[i] = kpd[i] & ~PTE_U;
    return 0;
}

/* The leaf table of va in `as`, created when `create`; NULL if absent. */
static uint64_t *leaf(const struct uvm *as, uint64_t va, int create)
{
    uint64_t *t = tab(as->pml4);

    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = &t[(va >> shift) & 511];
        if (!(*e & PTE_P)) {
            if (!create)
                return 0;
            phys_t f = new_table((struct uvm *)as);
            if (!f)
                return 0;
            *e = f | PTE_P | PTE_W | PTE_U;
        }
        if ((*e & PTE_HUGE) || !(*e & PTE_U))
            return 0;
        t = tab(*e & PTE_ADDR);
    }
    return t;
}

int uvm_map(struct uvm *as, uint64_t va, phys_t pa, unsigned flags)
{
    if ((va & (PAGE_SIZE - 1)) || va < USER_MIN || va >= USER_TOP)
        return -1;
    uint64_t *pt = leaf(as, va, 1);
    if (!pt)
        return -1;
    uint64_t *e = &pt[(va >> 12) & 511];
    uint64_t bits = PTE_P | PTE_U | ((flags & UVM_WRITE) ? PTE_W : 0);

    if (*e & PTE_P) {
        if ((*e & PTE_ADDR) != (pa & PTE_ADDR))
            return -1;
        *e |= bits;
        return 0;
    }
    *e = (pa & PTE_ADDR) | bits;
    as->pages++;
    return 0;
}

phys_t uvm_replace(struct uvm *as, uint64_t va, phys_t pa, unsigned flags)
{
    if ((va & (PAGE_SIZE - 1)) || va < USER_MIN || va >= USER_TOP)
        return UVM_BAD;
    uint64_t *pt = leaf(as, va, pa != 0);
    if (!pt)
        return pa ? UVM_BAD : 0;
    uint64_t *e = &pt[(va >> 12) & 511], old = *e;

    if (pa)
        *e = (pa & PTE_ADDR) | PTE_P | PTE_U | ((flags & UVM_WRITE) ? PTE_W : 0);
    else
        *e = 0;
    if (old & PTE_P) {
        invlpg(va);
        if (!pa)
            as->pages--;
        return old & PTE_ADDR;
    }
    if (pa)
        as->pages++;
    return 0;
}

phys_t uvm_translate(const struct uvm *as, uint64_t va, int write)
{
    if (!as->pml4 || va < USER_MIN || va >= USER_TOP)
        return 0;
    uint64_t *pt = leaf(as, va, 0);
    uint64_t e = pt ? pt[(va >> 12) & 511] : 0;

    if (!(e & PTE_P) || !(e & PTE_U) || (write && !(e & PTE_W)))
        return 0;
    return (e & PTE_ADDR) | (va & (PAGE_SIZE - 1));
}

void uvm_activate(struct uvm *as)
{
    uint64_t *k4 = tab(kernel_pml4), *u4 = tab(as->pml4);

    for (int i = KERNEL_HALF; i < 512; i++)
        u4[i] = k4[i];
    write_cr3(as->pml4);
}

void uvm_activate_kernel(void)
{
    write_cr3(kernel_pml4);
}

/* Free the tables below `t` at `level` (4 = PML4 ... 1 = PT) and, at the
 * last level, the user frames. The kernel image's PD slots are skipped. */
static void free_level(struct uvm *as, phys_t t, int level, int top_pd)
{
    uint64_t *e = tab(t);
    unsigned n = level == 4 ? KERNEL_HALF : 512;

    for (unsigned i = 0; i < n; i++) {
        if (!(e[i] & PTE_P))
            continue;
        if (level == 2 && top_pd && i < kernel_pd_slots)
            continue;
        if (level == 1) {
            frame_free(e[i] & PTE_ADDR, 0);
            as->pages--;
        } else {
            free_level(as, e[i] & PTE_ADDR, level - 1, top_pd && i == 0);
        }
    }
    frame_free(t, 0);
    as->tables--;
}

void uvm_destroy(struct uvm *as)
{
    if (!as->pml4)
        return;
    free_level(as, as->pml4, 4, 1);
    as->pml4 = 0;
}

/* One user word at va through the live page tables (CR3), for the profiler's
 * NMI: no locks, never faults. A table freed under us is still mapped kernel
 * memory, so the worst case is a wrong word, never a fault. 0 on success. */
int uvm_peek(uint64_t va, uint64_t *out)
{
    uint64_t t = read_cr3() & PTE_ADDR, phys;

    if ((va & 7) || va < USER_MIN || va >= USER_TOP)
        return -1;
    for (int level = 3; ; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t e = ((volatile uint64_t *)tab(t))[(va >> shift) & 511];
        if (!(e & PTE_P) || !(e & PTE_U))
            return -1;
        if (level == 0 || (e & PTE_HUGE)) {
            uint64_t span = 1ull << shift;
            phys = (e & PTE_ADDR & ~(span - 1)) + (va & (span - 1));
            break;
        }
        t = e & PTE_ADDR;
    }
    if (phys >= (4ull << 30))          /* the boot page tables map 4 GiB */
        return -1;
    *out = *(volatile const uint64_t *)arch_phys_to_virt(phys);
    return 0;
}
