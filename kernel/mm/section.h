/*
 * mm/section.h - per-frame bookkeeping: one 16-byte page-info record for
 * every frame of usable memory, kept in naturally aligned sections of at
 * most 128 MiB.
 *
 * A section covers the usable frames of one 128 MiB-aligned window of the
 * physical address space, from its first to its last usable frame; holes in
 * between (and the kernel image, boot modules and the page-info arrays
 * themselves) have records marked reserved. The window number
 * (phys >> SECTION_SHIFT) indexes the section table, so finding a frame's
 * record is O(1).
 *
 * Record encoding (two machine words, as in Redox's PageInfo):
 *   w0 bit 63  PI_USED      the frame is allocated (or reserved)
 *   w0 bit 62  PI_TAIL      not the head of a block: an interior frame
 *   w0 bit 61  PI_RESERVED  never allocatable (with PI_USED)
 *   w0 low 12 bits          the block's order, for a used or free head
 * A free head keeps its list links in w0 (prev) and w1 (next) as
 * `physaddr | order`; see mm/p2buddy.c.
 */
#ifndef MM_SECTION_H
#define MM_SECTION_H

#include "mm/range.h"

#define SECTION_SHIFT   27                      /* 128 MiB */
#define SECTION_SIZE    ((phys_t)1 << SECTION_SHIFT)
#define MAX_SECTIONS    64                      /* 8 GiB of physical space */
#define MM_PHYS_LIMIT   ((phys_t)MAX_SECTIONS << SECTION_SHIFT)

#define PI_USED         (1ull << 63)
#define PI_TAIL         (1ull << 62)
#define PI_RESERVED     (1ull << 61)
#define PI_ORDER_MASK   0xfffull

struct page_info {
    uint64_t w0;
    uint64_t w1;
};

struct section {
    phys_t base;                /* first frame covered; 0 and end 0: none */
    phys_t end;                 /* exclusive */
    struct page_info *info;     /* (end - base) / PAGE_SIZE records */
};

extern struct section mm_sections[MAX_SECTIONS];

/*
 * Build the sections for layout l: place each section's page-info array in
 * free memory (preferably the top of its own window), add the arrays to
 * l->reserved, and initialize every record: reserved frames get
 * PI_USED|PI_RESERVED, free frames PI_TAIL (not yet in any list). Usable
 * memory at or above MM_PHYS_LIMIT is ignored. Returns 0, or -1 if an
 * array did not fit anywhere. Boot only, single-threaded.
 */
int sections_init(struct mm_layout *l);

/* Frames covered by all sections, and of those the ones not reserved. */
uint64_t sections_total_frames(void);

/* The section holding frame p, or NULL. O(1). */
static inline struct section *section_of(phys_t p)
{
    if (p >= MM_PHYS_LIMIT)
        return 0;
    struct section *s = &mm_sections[p >> SECTION_SHIFT];
    return (p >= s->base && p < s->end) ? s : 0;
}

/* The page-info record of frame p, or NULL when no section covers it. */
static inline struct page_info *page_info_of(phys_t p)
{
    struct section *s = section_of(p);
    return s ? &s->info[(p - s->base) >> PAGE_SHIFT] : 0;
}

#endif
