/*
 * mm/bench.c - boot-time measurements of the frame allocator and the
 * fragmentation test. Both run on the live allocator after mm_init, i.e.
 * in the state the boot left it in (page tables and heap pages allocated).
 */
#include "arch/arch.h"
#include "lab/lab.h"
#include "lib/printf.h"
#include "lib/sort.h"
#include "mm/frame.h"
#include "mm/mm.h"

#define ORDER0_SAMPLES  4096
#define ORDER4_SAMPLES  256
#define ORDER10_SAMPLES 16
/* The predecessor's first-fit scan makes "allocate everything, one frame
 * at a time" O(n^2): at 2 GiB that is ~10^11 byte reads. Its fragmentation
 * test therefore covers this many frames; p2buddy's covers all memory. */
#ifdef ALLOCATOR_rmm
#define FRAG_LIMIT(free) ((free) < 8192 ? (free) : 8192)
#else
#define FRAG_LIMIT(free) (free)
#endif

static uint64_t samples[ORDER0_SAMPLES];

/* Median cycles of n allocations of `order`; `pair` also times the free. */
static uint64_t time_allocs(unsigned order, int n, int pair)
{
    for (int i = 0; i < n; i++) {
        uint64_t t0 = arch_timestamp();
        phys_t p = frame_alloc(order);
        if (pair)
            frame_free(p, order);
        uint64_t t1 = arch_timestamp();
        if (!pair)
            frame_free(p, order);
        samples[i] = p ? t1 - t0 : 0;
    }
    return median_u64(samples, (size_t)n);
}

void mm_bench(void)
{
    uint64_t c0 = time_allocs(0, ORDER0_SAMPLES, 1);
    lab_metric("alloc.order0.cycles", c0, "cycles", ORDER0_SAMPLES, "median");
    uint64_t c4 = time_allocs(4, ORDER4_SAMPLES, 0);
    lab_metric("alloc.order4.cycles", c4, "cycles", ORDER4_SAMPLES, "median");
    uint64_t c10 = time_allocs(10, ORDER10_SAMPLES, 0);
    lab_metric("alloc.order10.cycles", c10, "cycles", ORDER10_SAMPLES, "median");
    kprintf("mm: %s: order-0 alloc+free %llu cycles, order-4 alloc %llu, "
            "order-10 alloc %llu (medians)\n", falloc->name,
            (unsigned long long)c0, (unsigned long long)c4,
            (unsigned long long)c10);
}

/* Free every frame of a list threaded through the frames' first words. */
static void free_list(phys_t head)
{
    while (head) {
        phys_t next = *(phys_t *)arch_phys_to_virt(head);
        frame_free(head, 0);
        head = next;
    }
}

void mm_fragmentation_test(void)
{
    uint64_t before = falloc->free_frames(), b0[ORDER_COUNT], b1[ORDER_COUNT];
    uint64_t limit = FRAG_LIMIT(before);
    uint64_t n = 0, odd = 0;
    phys_t odd_list = 0, even_list = 0, p;
    char detail[160];

    if (falloc->free_blocks)
        falloc->free_blocks(b0);
    while (n < limit && (p = falloc->alloc(0, FRAME_NOZERO)) != 0) {
        phys_t *link = arch_phys_to_virt(p);
        int is_odd = (p >> PAGE_SHIFT) & 1;
        *link = is_odd ? odd_list : even_list;
        *(is_odd ? &odd_list : &even_list) = p;
        odd += is_odd;
        n++;
    }
    int exhausted = falloc->free_frames() == 0;
    free_list(odd_list);
    uint64_t after_odd = falloc->free_frames();
    free_list(even_list);
    uint64_t after = falloc->free_frames();
    int same = 1;
    if (falloc->free_blocks) {
        falloc->free_blocks(b1);
        for (int k = 0; k < ORDER_COUNT; k++)
            same &= b0[k] == b1[k];
    }
    phys_t big = frame_alloc(MAX_ORDER);
    if (big)
        frame_free(big, MAX_ORDER);
    int bad = falloc->check();
    int pass = after == before && same && big && !bad &&
               after_odd == before - n + odd && (exhausted || limit < before);
    ksnprintf(detail, sizeof detail,
              "frames=%llu odd=%llu scope=%s free_before=%llu free_after=%llu "
              "blocks=%s order10=%s problems=%d",
              (unsigned long long)n, (unsigned long long)odd,
              limit < before ? "bounded" : "all", (unsigned long long)before,
              (unsigned long long)after, same ? "same" : "differ",
              big ? "ok" : "none", bad);
    lab_test("mm.fragmentation", pass, detail);
}
