/*
 * mm/heap.h - the kernel heap: kmalloc/kfree on pages mapped on demand.
 */
#ifndef MM_HEAP_H
#define MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_BASE   0xffffc00000000000ull
#define HEAP_LIMIT  (1ull << 30)        /* 1 GiB of virtual space */
#define HEAP_POISON 0x6b                /* freed objects are filled with it */

void heap_init(void);

/* Allocate n bytes, 16-byte aligned, zero-filled; NULL when out of memory.
 * Any context where mm_lock may be taken; not from the allocator itself. */
void *kmalloc(size_t n);

/* Free p (from kmalloc, or NULL). The memory is poisoned; a large
 * allocation's pages are unmapped and their frames freed, so a stale
 * access faults. Freeing anything else panics. */
void kfree(void *p);

/* Pages currently mapped for the heap. */
uint64_t heap_pages(void);

#endif
