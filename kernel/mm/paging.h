/*
 * mm/paging.h - mapping 4 KiB pages in the kernel's address space.
 *
 * Implemented by arch/x86_64/paging.c. After paging_init() the kernel runs
 * on page tables it manages: its image identity mapped (it is linked at
 * 1 MiB), all usable RAM in the direct map at PHYS_OFFSET (4 KiB pages, as
 * Redox's rmm mapped it), and nothing else: address 0 faults.
 */
#ifndef MM_PAGING_H
#define MM_PAGING_H

#include <stdint.h>

#include "mm/range.h"

#define PAGE_WRITE  0x2ull      /* writable (pages are always present, kernel-only) */

/* Build the kernel page tables for layout l (frames from frame_alloc) and
 * switch CR3 to them. Returns 0, or -1 when out of frames. Boot only. */
int paging_init(const struct mm_layout *l);

/* Map the page at va to frame pa. Returns 0, -1 if va is already mapped or
 * a page-table frame could not be allocated. Flushes the TLB entry. */
int paging_map(uint64_t va, phys_t pa, uint64_t flags);

/* Unmap va; returns the frame it mapped, or 0 if none. Flushes the TLB
 * entry (this CPU only: there is one). Page-table frames are kept. */
phys_t paging_unmap(uint64_t va);

/* The frame va maps to (plus the offset in the page), or 0 if unmapped. */
phys_t paging_translate(uint64_t va);

/* Page-table frames allocated so far. */
uint64_t paging_table_frames(void);

#endif
