/*
 * lab/bugs.c - the deliberate bugs of `make BUG=...`:
 *   page-fault        read a kernel heap page after kfree unmapped it
 *   double-free       free the same frame twice
 *   foreign-free      free a frame of the kernel image
 *   wrong-order-free  free an order-2 block as order 0 (then correctly)
 *   panic             call panic()
 * The frame findings are reported and the boot continues; main.c then ends
 * it with status=fail. The page fault and panic end it with status=panic.
 */
#include "lab/bugs.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "mm/heap.h"

extern char __kernel_start[];

void bugs_trigger(void)
{
#if defined(BUG_PAGE_FAULT)
    kprintf("bug: reading a freed, unmapped heap object (BUG=page-fault)\n");
    volatile uint64_t *p = kmalloc(16384);
    kfree((void *)p);
    kprintf("bug: stale read returned 0x%llx\n", (unsigned long long)p[8]);
#elif defined(BUG_DOUBLE_FREE)
    kprintf("bug: freeing one frame twice (BUG=double-free)\n");
    phys_t f = frame_alloc(0);
    frame_free(f, 0);
    frame_free(f, 0);
#elif defined(BUG_FOREIGN_FREE)
    kprintf("bug: freeing a frame of the kernel image (BUG=foreign-free)\n");
    frame_free((phys_t)(uintptr_t)__kernel_start + 0x1000, 0);
#elif defined(BUG_WRONG_ORDER_FREE)
    kprintf("bug: freeing an order-2 block as order 0 (BUG=wrong-order-free)\n");
    phys_t f = frame_alloc(2);
    frame_free(f, 0);
    frame_free(f, 2);
#elif defined(BUG_PANIC)
    panic("deliberate panic (BUG=panic)");
#endif
}
