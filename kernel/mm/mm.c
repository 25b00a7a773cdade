/*
 * mm/mm.c - memory initialization for the kernel, in dependency order.
 */
#include "arch/arch.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "mm/heap.h"
#include "mm/mm.h"
#include "mm/paging.h"
#include "mm/section.h"

#ifdef ALLOCATOR_rmm
const struct falloc_ops *const falloc = &rmm_ops;
#else
const struct falloc_ops *const falloc = &p2buddy_ops;
#endif

static void log_sections(void)
{
    int n = 0;
    for (int w = 0; w < MAX_SECTIONS; w++) {
        const struct section *s = &mm_sections[w];
        if (!s->end)
            continue;
        n++;
        kprintf("mm: section %d [0x%llx, 0x%llx) page-info at %p\n", w,
                (unsigned long long)s->base, (unsigned long long)s->end,
                (void *)s->info);
    }
    kprintf("mm: %d sections, %llu frames with page-info records\n", n,
            (unsigned long long)sections_total_frames());
}

/* A few heap allocations of the kind every boot makes, kept for good. */
static void boot_heap_smoke(void)
{
    void *a = kmalloc(100), *b = kmalloc(3000), *c = kmalloc(64 * 1024);
    if (!a || !b || !c)
        panic("mm: kernel heap allocation failed");
    kfree(b);
    kfree(a);
    void *d = kmalloc(100);
    if (d != a)
        panic("mm: kernel heap did not reuse a freed object");
}

void mm_init(struct mm_layout *l)
{
    uint64_t t0 = arch_timestamp();
    char detail[96];

    /* Page-info records for every usable frame. */
    if (sections_init(l) < 0)
        panic("mm: no room for the page-info arrays");
    log_sections();
    /* The frame allocator takes every frame not reserved. */
    if (falloc->init(l) < 0)
        panic("mm: frame allocator bookkeeping did not fit");
    kprintf("mm: %s allocator, %llu free frames\n", falloc->name,
            (unsigned long long)falloc->free_frames());
    /* Kernel page tables: direct map, kernel image, nothing at 0. */
    if (paging_init(l) < 0)
        panic("mm: out of frames for the kernel page tables");
    /* The heap, on pages mapped on demand. */
    heap_init();
    boot_heap_smoke();
    /* Walk every free list before anything else relies on them. */
    int bad = falloc->check();
    if (bad == 0)
        kprintf("Initial freelist consistent\n");
    ksnprintf(detail, sizeof detail, "problems=%d allocator=%s", bad, falloc->name);
    lab_test("mm.freelist-consistent", bad == 0, detail);

    uint64_t t1 = arch_timestamp(), hz = arch_timestamp_hz();
    lab_stage("mm", t1);
    lab_metric("mm.init.us", hz ? (t1 - t0) * 1000000 / hz : 0, "us", 1, 0);
    lab_metric("mm.free.frames", falloc->free_frames(), "frames", 1, 0);
}
