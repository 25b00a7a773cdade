/*
 * user/uvm.h - user address spaces (ring 3), implemented by
 * arch/x86_64/uvm.c.
 *
 * Each space has its own PML4. The upper half (PML4 256..511: direct map,
 * heap, LAPIC) is the kernel's, entry for entry; the lower half is the
 * process's own, except the 2 MiB slots holding the kernel image (it is
 * linked at 1 MiB, physical = virtual, so the syscall entry code must stay
 * mapped): those page-directory entries point at the kernel's own page
 * tables, without the user bit. User pages live in [USER_MIN, USER_TOP);
 * nothing is ever mapped at 0.
 */
#ifndef USER_UVM_H
#define USER_UVM_H

#include <stdint.h>

#include "mm/mm_env.h"

#define USER_MIN    0x0000000000400000ull  /* lowest user page (above the kernel's 2 MiB slots) */
#define USER_TOP    0x00007fff00000000ull  /* exclusive; far from the 2^47 hole (SYSRET) */

#define UVM_WRITE   0x1u

struct uvm {
    phys_t pml4;        /* 0: none */
    uint64_t pages;     /* user pages mapped */
    uint64_t tables;    /* page-table frames owned (PML4 included) */
};

/* Capture the kernel's page tables (call in the kernel's address space,
 * after paging_init) and check the kernel image fits below USER_MIN.
 * Returns 0, or -1 when it does not. */
int uvm_init(void);

/* A new, empty space. Returns 0, or -1 when out of frames. */
int uvm_create(struct uvm *as);

/* Map the user page at va (page-aligned, in [USER_MIN, USER_TOP)) to frame
 * pa, user-accessible, writable with UVM_WRITE. Mapping an already mapped
 * page to the same frame adds the flags; to another frame fails. Returns
 * 0 or -1. The space need not be active. */
int uvm_map(struct uvm *as, uint64_t va, phys_t pa, unsigned flags);

/* Map va to pa (pa != 0) or unmap it (pa == 0), whatever it mapped before;
 * flushes this CPU's TLB entry for va. Returns the frame va mapped before
 * (0: none), or UVM_BAD when va is not a user page address or a table
 * frame could not be allocated. The caller owns the old frame and must
 * shoot va down on the space's other CPUs before freeing it. */
#define UVM_BAD ((phys_t)1)
phys_t uvm_replace(struct uvm *as, uint64_t va, phys_t pa, unsigned flags);

/* The frame behind user address va plus the offset, or 0 when va is not a
 * user-accessible page of `as` (or writable, when `write`). */
phys_t uvm_translate(const struct uvm *as, uint64_t va, int write);

/* Switch this CPU to `as` (refreshing its kernel half first), or back to
 * the kernel's own tables. */
void uvm_activate(struct uvm *as);
void uvm_activate_kernel(void);

/* Free every user frame and page-table frame of `as` (not the shared
 * kernel tables). `as` must not be active on any CPU. */
void uvm_destroy(struct uvm *as);

/* NMI-safe: the user word at va (8-aligned) in the current address space;
 * 0 on success, -1 when it is not mapped user memory. */
int uvm_peek(uint64_t va, uint64_t *out);

#endif
