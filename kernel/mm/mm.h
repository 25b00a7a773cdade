/*
 * mm/mm.h - memory initialization and the boot-time memory measurements
 * (kernel only; the allocators themselves are in mm/frame.h).
 */
#ifndef MM_MM_H
#define MM_MM_H

#include "mm/range.h"

/*
 * Bring up memory management from the firmware layout l: page-info
 * sections, the frame allocator selected at build time, the kernel page
 * tables, the heap; then run the consistency walker ("Initial freelist
 * consistent"). Prints the `mm` stage, the mm.init.us and mm.free.frames
 * metrics and the mm.freelist-consistent test. Panics if memory cannot be
 * set up. Boot only.
 */
void mm_init(struct mm_layout *l);

/* Timed allocations: alloc.order0.cycles (allocate+free pairs),
 * alloc.order4.cycles and alloc.order10.cycles (allocations), medians. */
void mm_bench(void);

/* Allocate everything (order 0), free the odd frames, then the even ones;
 * the allocator must end fully coalesced: test mm.fragmentation. */
void mm_fragmentation_test(void);

#endif
