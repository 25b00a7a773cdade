/*
 * mm/rmm.c - the predecessor of p2buddy: rmm's O(n) region allocator.
 *
 * Algorithm (as Redox's rmm `BuddyAllocator` did it, despite the name): one
 * page holds a table of up to 128 regions {base, pages, skip, used}, one per
 * free memory area. Each region keeps one byte of use count per page in its
 * own first pages; those pages are marked used and `skip` is their count.
 * Allocation of n frames is first-fit: scan the use bytes of each region
 * from `skip` for n consecutive zero bytes, so it costs O(pages in use
 * before the first fit), which grows with memory. There are no orders, no
 * splitting and no merging; blocks are contiguous but not aligned.
 *
 * Free finds the region, checks every byte of the block is in use (rmm
 * panicked on underflow: "tried to free already free frame"; here it is a
 * double-free finding and nothing changes), poisons the frames and clears
 * the bytes. A frame outside every region is a foreign-free finding. The
 * allocation size is not recorded, so a wrong-order free is only caught
 * when it reaches a free page (reported as double-free).
 */
#include "lib/string.h"
#include "mm/frame.h"

struct rmm_region {
    phys_t base;
    uint64_t pages;     /* pages in the region, usage bytes included */
    uint64_t skip;      /* first page after the usage bytes */
    uint64_t used;      /* pages in use, usage pages included */
};

#define RMM_REGIONS     ((int)(PAGE_SIZE / sizeof(struct rmm_region)))

static struct rmm_region *regions;
static int nr_regions;

static uint8_t *usage(const struct rmm_region *r)
{
    return mm_phys_to_virt(r->base);
}

static phys_t alloc_locked(uint64_t count)
{
    for (int i = 0; i < nr_regions; i++) {
        struct rmm_region *r = &regions[i];
        if (r->pages - r->used < count)
            continue;
        uint8_t *u = usage(r);
        uint64_t run = 0;
        for (uint64_t pg = r->skip; pg < r->pages; pg++) {
            if (u[pg] != 0) {
                run = 0;
                continue;
            }
            if (++run == count) {
                uint64_t first = pg + 1 - count;
                memset(u + first, 1, count);
                r->used += count;
                return r->base + first * PAGE_SIZE;
            }
        }
    }
    return 0;
}

static phys_t rmm_alloc(unsigned order, unsigned flags)
{
    if (order > MAX_ORDER)
        return 0;
    uint64_t count = (uint64_t)1 << order;
    mm_lock();
    phys_t p = alloc_locked(count);
    mm_unlock();
    if (p && !(flags & FRAME_NOZERO))
        memset64(mm_phys_to_virt(p), 0, count * PAGE_SIZE);
    return p;
}

/* The region holding [p, p + count pages), or NULL. Lock held. */
static struct rmm_region *find_region(phys_t p, uint64_t count)
{
    for (int i = 0; i < nr_regions; i++) {
        struct rmm_region *r = &regions[i];
        if (p >= r->base + r->skip * PAGE_SIZE &&
            p + count * PAGE_SIZE <= r->base + r->pages * PAGE_SIZE)
            return r;
    }
    return 0;
}

/* NULL if every page of the block is in use, else the finding kind. */
static const char *validate_free(phys_t p, uint64_t count, const char **msg)
{
    struct rmm_region *r = (p & (PAGE_SIZE - 1)) ? 0 : find_region(p, count);

    if (!r) {
        *msg = "frame not managed by the allocator";
        return "foreign-free";
    }
    const uint8_t *u = usage(r);
    uint64_t first = (p - r->base) / PAGE_SIZE;
    for (uint64_t i = 0; i < count; i++) {
        if (u[first + i] == 0) {
            *msg = "tried to free already free frame";
            return "double-free";
        }
    }
    return 0;
}

static void rmm_free(phys_t p, unsigned order)
{
    uint64_t count = order > MAX_ORDER ? 0 : (uint64_t)1 << order;
    const char *msg = "order out of range", *kind = count ? 0 : "wrong-order-free";

    if (count) {
        mm_lock();
        kind = validate_free(p, count, &msg);
        mm_unlock();
    }
    if (!kind) {
        memset64(mm_phys_to_virt(p), FRAME_POISON, count * PAGE_SIZE);
        mm_lock();
        kind = validate_free(p, count, &msg);
        if (!kind) {
            struct rmm_region *r = find_region(p, count);
            uint8_t *u = usage(r);
            uint64_t first = (p - r->base) / PAGE_SIZE;
            for (uint64_t i = 0; i < count; i++)
                u[first + i]--;
            r->used -= count;
        }
        mm_unlock();
    }
    if (kind) {
        struct mm_finding f = { kind, p, order, msg };
        mm_report(&f);
    }
}

/* Set up region r over [base, end); returns 0 if too small to be useful. */
static int region_init(struct rmm_region *r, phys_t base, phys_t end)
{
    uint64_t pages = (end - base) / PAGE_SIZE;
    uint64_t usage_pages = (pages + PAGE_SIZE - 1) / PAGE_SIZE;

    if (pages <= usage_pages)
        return 0;
    r->base = base;
    r->pages = pages;
    r->skip = usage_pages;
    r->used = usage_pages;
    uint8_t *u = usage(r);
    memset(u, 0, usage_pages * PAGE_SIZE);
    memset(u, 1, usage_pages);
    return 1;
}

static int rmm_init(struct mm_layout *l)
{
    struct mm_range fr[RMM_REGIONS + 1];
    const phys_t no_cut = (phys_t)1 << 62;
    int n = mm_range_free_list(l, no_cut, fr, RMM_REGIONS + 1);
    int i = 0;

    /* The region table takes the first page of the first area with room. */
    while (i < n && fr[i].end - fr[i].base < 2 * PAGE_SIZE)
        i++;
    if (i == n)
        return -1;
    phys_t table = fr[i].base;
    if (mm_range_add(l->reserved, &l->n_reserved, table, table + PAGE_SIZE) < 0)
        return -1;
    mm_range_normalize(l->reserved, &l->n_reserved);
    n = mm_range_free_list(l, no_cut, fr, RMM_REGIONS);

    mm_lock();
    regions = mm_phys_to_virt(table);
    memset(regions, 0, PAGE_SIZE);
    nr_regions = 0;
    for (i = 0; i < n; i++)
        nr_regions += region_init(&regions[nr_regions], fr[i].base, fr[i].end);
    mm_unlock();
    return 0;
}

static uint64_t rmm_free_frames(void)
{
    uint64_t n = 0;
    mm_lock();
    for (int i = 0; i < nr_regions; i++)
        n += regions[i].pages - regions[i].used;
    mm_unlock();
    return n;
}

/* Check each region: the usage pages are in use, every byte is 0 or 1, and
 * `used` matches the bytes. Returns the number of problems (reported). */
static int rmm_check(void)
{
    struct mm_finding bad[8];
    int problems = 0;

    mm_lock();
    for (int i = 0; i < nr_regions; i++) {
        const struct rmm_region *r = &regions[i];
        const uint8_t *u = usage(r);
        uint64_t used = 0;
        const char *msg = 0;
        for (uint64_t pg = 0; pg < r->pages; pg++) {
            used += u[pg] != 0;
            if (u[pg] > 1 || (pg < r->skip && u[pg] == 0))
                msg = "usage byte out of range";
        }
        if (!msg && used != r->used)
            msg = "region used count differs from its usage bytes";
        if (msg) {
            if (problems < 8) {
                struct mm_finding f = { "freelist-corrupt", r->base, 0, msg };
                bad[problems] = f;
            }
            problems++;
        }
    }
    mm_unlock();
    for (int i = 0; i < problems && i < 8; i++)
        mm_report(&bad[i]);
    return problems;
}

const struct falloc_ops rmm_ops = {
    .name = "rmm",
    .init = rmm_init,
    .alloc = rmm_alloc,
    .free = rmm_free,
    .check = rmm_check,
    .free_frames = rmm_free_frames,
    .free_blocks = 0,
};
