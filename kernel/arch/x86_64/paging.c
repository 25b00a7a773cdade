/*
 * arch/x86_64/paging.c - the kernel's own 4-level page tables.
 *
 * boot.S maps 0..4 GiB twice with 2 MiB pages (identity and direct map).
 * paging_init() replaces that with tables built from allocator frames:
 *   - the kernel image, identity mapped with 4 KiB pages (linked at 1 MiB);
 *   - every usable RAM range at PHYS_OFFSET + phys, with 4 KiB pages, as
 *     Redox's rmm mapped physical memory. The page tables this takes grow
 *     with memory (one frame per 2 MiB), which is part of what the boot
 *     allocates before the first measurement;
 *   - nothing at address 0, so null pointers fault.
 * Later mappings (the kernel heap) go through paging_map/paging_unmap.
 * One CPU and no preemption yet: the tables are guarded by mm_lock only
 * while a frame is taken, and TLB flushes are local.
 */
#include "arch/arch.h"
#include "arch/x86_64/x86.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "mm/paging.h"

#define PHYS_OFFSET     0xffff800000000000ull
#define PTE_PRESENT     0x1ull
#define PTE_WRITE       0x2ull
#define PTE_HUGE        0x80ull
#define PTE_ADDR        0x000ffffffffff000ull

extern char __kernel_start[], __kernel_end[];

static phys_t kernel_pml4;
static uint64_t table_frames;

void *arch_phys_to_virt(uint64_t p)
{
    return (void *)(uintptr_t)(p + PHYS_OFFSET);
}

static uint64_t *table_at(phys_t p)
{
    return arch_phys_to_virt(p);
}

/* The next-level table under entry `idx` of `table`, created if `create`.
 * NULL if absent (or out of frames). */
static uint64_t *next_table(uint64_t *table, unsigned idx, int create)
{
    uint64_t e = table[idx];

    if (e & PTE_PRESENT)
        return (e & PTE_HUGE) ? 0 : table_at(e & PTE_ADDR);
    if (!create)
        return 0;
    phys_t f = frame_alloc(0);          /* zero-filled */
    if (!f)
        return 0;
    table_frames++;
    table[idx] = f | PTE_PRESENT | PTE_WRITE;
    return table_at(f);
}

/* The page table (last level) covering va, or NULL. */
static uint64_t *leaf_table(uint64_t va, int create)
{
    uint64_t *t = table_at(kernel_pml4);

    for (int shift = 39; shift > 12 && t; shift -= 9)
        t = next_table(t, (va >> shift) & 511, create);
    return t;
}

/* Map `pages` pages from va to pa; one table walk per 2 MiB. Boot only. */
static int map_range(uint64_t va, phys_t pa, uint64_t pages, uint64_t flags)
{
    while (pages > 0) {
        uint64_t *pt = leaf_table(va, 1);
        if (!pt)
            return -1;
        for (unsigned i = (va >> 12) & 511; i < 512 && pages > 0; i++, pages--) {
            pt[i] = pa | PTE_PRESENT | flags;
            va += PAGE_SIZE;
            pa += PAGE_SIZE;
        }
    }
    return 0;
}

int paging_init(const struct mm_layout *l)
{
    kernel_pml4 = frame_alloc(0);
    if (!kernel_pml4)
        return -1;
    table_frames = 1;

    phys_t ks = (uintptr_t)__kernel_start, ke = (uintptr_t)__kernel_end;
    if (map_range(ks, ks, (ke - ks + PAGE_SIZE - 1) / PAGE_SIZE, PTE_WRITE) < 0)
        return -1;
    for (int i = 0; i < l->n_usable; i++) {
        const struct mm_range *r = &l->usable[i];
        if (map_range(PHYS_OFFSET + r->base, r->base,
                      (r->end - r->base) / PAGE_SIZE, PTE_WRITE) < 0)
            return -1;
    }
    write_cr3(kernel_pml4);
    kprintf("paging: kernel page tables at 0x%llx, %llu table frames\n",
            (unsigned long long)kernel_pml4, (unsigned long long)table_frames);
    return 0;
}

int paging_map(uint64_t va, phys_t pa, uint64_t flags)
{
    uint64_t *pt = leaf_table(va, 1);
    unsigned i = (va >> 12) & 511;

    if (!pt || (pt[i] & PTE_PRESENT))
        return -1;
    pt[i] = (pa & PTE_ADDR) | PTE_PRESENT | (flags & PTE_WRITE);
    invlpg(va);
    return 0;
}

phys_t paging_unmap(uint64_t va)
{
    uint64_t *pt = leaf_table(va, 0);
    unsigned i = (va >> 12) & 511;

    if (!pt || !(pt[i] & PTE_PRESENT))
        return 0;
    phys_t pa = pt[i] & PTE_ADDR;
    pt[i] = 0;
    invlpg(va);
    return pa;
}

phys_t paging_translate(uint64_t va)
{
    uint64_t *pt = leaf_table(va, 0);
    uint64_t e = pt ? pt[(va >> 12) & 511] : 0;

    return (e & PTE_PRESENT) ? (e & PTE_ADDR) | (va & (PAGE_SIZE - 1)) : 0;
}

uint64_t paging_table_frames(void)
{
    return table_frames;
}
