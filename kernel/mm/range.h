/*
 * mm/range.h - physical address ranges and the boot memory layout.
 *
 * The firmware's memory map (multiboot, parsed in arch code) arrives as a
 * struct mm_layout: usable RAM and ranges inside it that must never be
 * handed out (kernel image, boot modules, frame 0). mm/section.c adds the
 * page-info arrays to the reserved list.
 */
#ifndef MM_RANGE_H
#define MM_RANGE_H

#include "mm/mm_env.h"

#define MM_MAX_RANGES 64

struct mm_range {
    phys_t base;
    phys_t end;     /* exclusive */
};

struct mm_layout {
    struct mm_range usable[MM_MAX_RANGES];
    int n_usable;
    struct mm_range reserved[MM_MAX_RANGES];
    int n_reserved;
};

/* Add [base, end) to a list, trimmed inwards to page boundaries; empty
 * ranges are dropped. Returns 0, or -1 when the list is full. */
int mm_range_add(struct mm_range *list, int *n, phys_t base, phys_t end);

/* Sort a list by base and merge overlapping or touching ranges. */
void mm_range_normalize(struct mm_range *list, int *n);

/*
 * out = usable minus reserved, sorted, additionally cut at every multiple of
 * `cut` (a power of two: the section size) so no output range crosses a
 * section boundary. Returns the number of ranges written (at most max).
 */
int mm_range_free_list(const struct mm_layout *l, phys_t cut,
                       struct mm_range *out, int max);

#endif
