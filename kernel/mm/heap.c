/*
 * mm/heap.c - kmalloc/kfree over the paging API and the frame allocator.
 *
 * Small objects (up to 2 KiB) come from power-of-two size classes: a class
 * takes whole 4 KiB heap pages and threads its free objects through them.
 * Larger objects get their own run of pages. Every heap page or run starts
 * with a 64-byte header naming its class (or its page count), so kfree needs
 * no size. Heap virtual space is a bump pointer: a freed large run's pages
 * are unmapped and their frames returned, its addresses are never reused,
 * so a use after free of a large object page-faults.
 *
 * One CPU, no interrupts using the heap yet: no lock of its own.
 */
#include "lab/report.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/heap.h"
#include "mm/paging.h"

#define HDR_SIZE        64
#define HDR_MAGIC_SMALL 0x48504c53u     /* "SLPH" */
#define HDR_MAGIC_LARGE 0x48504c4cu
#define MIN_SHIFT       5               /* 32-byte objects */
#define MAX_SHIFT       11              /* 2 KiB objects */
#define CLASSES         (MAX_SHIFT - MIN_SHIFT + 1)

struct heap_hdr {
    uint32_t magic;
    uint32_t value;                     /* class shift, or page count */
};

struct free_obj {
    struct free_obj *next;
};

static struct free_obj *free_lists[CLASSES];
static uint64_t heap_top = HEAP_BASE;
static uint64_t mapped_pages;

void heap_init(void)
{
    memset(free_lists, 0, sizeof free_lists);
    heap_top = HEAP_BASE;
    mapped_pages = 0;
}

/* Map `pages` fresh pages at the heap top; returns their address or 0. */
static uint64_t grow(uint64_t pages)
{
    uint64_t va = heap_top;

    if (va + pages * PAGE_SIZE > HEAP_BASE + HEAP_LIMIT)
        return 0;
    for (uint64_t i = 0; i < pages; i++) {
        phys_t f = frame_alloc(0);
        if (!f || paging_map(va + i * PAGE_SIZE, f, PAGE_WRITE) < 0) {
            if (f)
                frame_free(f, 0);
            while (i-- > 0)
                frame_free(paging_unmap(va + i * PAGE_SIZE), 0);
            return 0;
        }
    }
    heap_top += pages * PAGE_SIZE;
    mapped_pages += pages;
    return va;
}

/* Carve a new page into objects of class c. Returns 0 on failure. */
static int refill(int c)
{
    uint64_t va = grow(1);
    if (!va)
        return 0;
    struct heap_hdr *h = (struct heap_hdr *)va;
    h->magic = HDR_MAGIC_SMALL;
    h->value = (uint32_t)(c + MIN_SHIFT);
    size_t size = (size_t)1 << (c + MIN_SHIFT);
    size_t first = size > HDR_SIZE ? size : HDR_SIZE;
    for (size_t off = first; off + size <= PAGE_SIZE; off += size) {
        struct free_obj *o = (struct free_obj *)(va + off);
        o->next = free_lists[c];
        free_lists[c] = o;
    }
    return 1;
}

void *kmalloc(size_t n)
{
    if (n == 0)
        n = 1;
    if (n > ((size_t)1 << MAX_SHIFT)) {
        uint64_t pages = (n + HDR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
        uint64_t va = grow(pages);
        if (!va)
            return 0;
        struct heap_hdr *h = (struct heap_hdr *)va;
        h->magic = HDR_MAGIC_LARGE;
        h->value = (uint32_t)pages;
        return (void *)(va + HDR_SIZE);     /* frames come zeroed */
    }
    int c = 0;
    while (((size_t)1 << (c + MIN_SHIFT)) < n)
        c++;
    if (!free_lists[c] && !refill(c))
        return 0;
    struct free_obj *o = free_lists[c];
    free_lists[c] = o->next;
    memset(o, 0, (size_t)1 << (c + MIN_SHIFT));
    return o;
}

void kfree(void *p)
{
    if (!p)
        return;
    uint64_t va = (uint64_t)p;
    if (va < HEAP_BASE || va >= heap_top)
        panic("kfree: pointer outside the kernel heap");
    struct heap_hdr *h = (struct heap_hdr *)(va & ~(PAGE_SIZE - 1));
    if (h->magic == HDR_MAGIC_LARGE && va == (uint64_t)h + HDR_SIZE) {
        uint64_t pages = h->value;
        for (uint64_t i = 0; i < pages; i++)
            frame_free(paging_unmap((uint64_t)h + i * PAGE_SIZE), 0);
        mapped_pages -= pages;
        return;
    }
    if (h->magic != HDR_MAGIC_SMALL || h->value < MIN_SHIFT || h->value > MAX_SHIFT)
        panic("kfree: not a heap object (bad page header)");
    size_t size = (size_t)1 << h->value;
    if ((va & (size - 1)) != 0)
        panic("kfree: pointer is not the start of an object");
    memset(p, HEAP_POISON, size);
    struct free_obj *o = p;
    o->next = free_lists[h->value - MIN_SHIFT];
    free_lists[h->value - MIN_SHIFT] = o;
}

uint64_t heap_pages(void)
{
    return mapped_pages;
}
