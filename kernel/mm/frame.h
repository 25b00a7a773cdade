/*
 * mm/frame.h - the physical frame allocator interface.
 *
 * Two implementations share it: p2buddy (mm/p2buddy.c, Redox's O(orders)
 * buddy allocator, the default) and rmm (mm/rmm.c, its O(n) first-fit
 * predecessor). The kernel links exactly one, chosen by `make ALLOCATOR=`;
 * the host tests link both and call each through its ops table.
 *
 * Contracts common to both:
 *  - alloc(order, flags): 2^order contiguous frames, or 0 when none are
 *    free. p2buddy's blocks are naturally aligned; rmm's are not. The
 *    frames are zero-filled (outside the lock) unless FRAME_NOZERO.
 *  - free(phys, order): returns a block from alloc with the same order. The
 *    block is filled with FRAME_POISON before it becomes allocatable again.
 *    Misuse (already free, not owned, wrong order) is reported through
 *    mm_report() and leaves the allocator's state untouched.
 *  - check(): walks every internal structure; returns the number of
 *    problems found, each reported as a freelist-corrupt finding.
 *  - All may be called from any context where mm_lock() is allowed.
 */
#ifndef MM_FRAME_H
#define MM_FRAME_H

#include "mm/range.h"

#define FRAME_NOZERO 1u

struct falloc_ops {
    const char *name;
    /* Take over the free frames of layout l (after sections_init(l)).
     * Returns 0, or -1 if the allocator's own bookkeeping did not fit. */
    int (*init)(struct mm_layout *l);
    phys_t (*alloc)(unsigned order, unsigned flags);
    void (*free)(phys_t frame, unsigned order);
    int (*check)(void);
    uint64_t (*free_frames)(void);
    /* Free blocks per order (p2buddy only; NULL for rmm, which has none). */
    void (*free_blocks)(uint64_t out[ORDER_COUNT]);
};

extern const struct falloc_ops p2buddy_ops;
extern const struct falloc_ops rmm_ops;

/* Kernel-wide entry points: the allocator selected at build time. */
extern const struct falloc_ops *const falloc;

static inline phys_t frame_alloc(unsigned order)
{
    return falloc->alloc(order, 0);
}

static inline void frame_free(phys_t frame, unsigned order)
{
    falloc->free(frame, order);
}

#endif
