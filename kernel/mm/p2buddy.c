/*
 * mm/p2buddy.c - the p2buddy frame allocator, as the Redox kernel built it.
 *
 * Algorithm: a binary buddy allocator over orders 0..MAX_ORDER (4 KiB ..
 * 4 MiB blocks). There is one free list per order; its head lives in
 * free_heads[order] and the links live in the page-info records of the free
 * blocks' first frames (mm/section.h), so the allocator keeps no memory of
 * its own. Every operation costs O(orders), independent of memory size.
 *
 * Link encoding: `physaddr | order`. Frame 0 is never managed, so physaddr
 * 0 is the null link, and a null link still carries its order. A free head
 * has w0 = prev link, w1 = next link (PI_USED and PI_TAIL clear). A used
 * head has w0 = PI_USED | order. Every other frame has PI_TAIL set.
 *
 * Allocation pops the first non-empty list at or above the wanted order,
 * pushes the surplus halves onto the lower lists, marks the head used, and
 * zero-fills after dropping the lock. Free checks ownership first (the frame
 * must be a used head of exactly that order: a finding otherwise), poisons
 * the block, then merges it with its XOR buddy for as long as the buddy is
 * a free head of the same order inside the same section.
 */
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/section.h"

#define LINK_ADDR(l)    ((l) & ~PI_ORDER_MASK)
#define LINK_ORDER(l)   ((unsigned)((l) & PI_ORDER_MASK))
#define BLOCK_SIZE(o)   (PAGE_SIZE << (o))

static uint64_t free_heads[ORDER_COUNT];
static uint64_t nr_free;

static struct page_info *pi(phys_t p)
{
    return page_info_of(p);
}

static int is_free_head(const struct page_info *r)
{
    return (r->w0 & (PI_USED | PI_TAIL)) == 0;
}

/* Push block p onto list `order`. Lock held. */
static void list_push(phys_t p, unsigned order)
{
    uint64_t old = free_heads[order];
    struct page_info *r = pi(p);

    r->w0 = 0 | order;
    r->w1 = old;
    if (LINK_ADDR(old))
        pi(LINK_ADDR(old))->w0 = p | order;
    free_heads[order] = p | order;
}

/* Unlink free block p from list `order`. Lock held. */
static void list_remove(phys_t p, unsigned order)
{
    struct page_info *r = pi(p);
    phys_t prev = LINK_ADDR(r->w0), next = LINK_ADDR(r->w1);

    if (prev)
        pi(prev)->w1 = next | order;
    else
        free_heads[order] = next | order;
    if (next)
        pi(next)->w0 = prev | order;
}

static phys_t alloc_locked(unsigned order)
{
    unsigned k = order;

    while (k <= MAX_ORDER && !LINK_ADDR(free_heads[k]))
        k++;
    if (k > MAX_ORDER)
        return 0;
    phys_t p = LINK_ADDR(free_heads[k]);
    list_remove(p, k);
    while (k > order) {
        k--;
        list_push(p + BLOCK_SIZE(k), k);    /* upper half: was an interior */
    }
    pi(p)->w0 = PI_USED | order;
    pi(p)->w1 = 0;
    nr_free -= (uint64_t)1 << order;
    return p;
}

static phys_t p2buddy_alloc(unsigned order, unsigned flags)
{
    if (order > MAX_ORDER)
        return 0;
    mm_lock();
    phys_t p = alloc_locked(order);
    mm_unlock();
    if (p && !(flags & FRAME_NOZERO))
        memset64(mm_phys_to_virt(p), 0, BLOCK_SIZE(order));
    return p;
}

/* Why frame p (not a used head) cannot be freed: find the block holding it
 * by looking at the aligned heads above it. Lock held. */
static const char *classify_bad_free(phys_t p, const struct section *s)
{
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        phys_t h = p & ~(BLOCK_SIZE(k) - 1);
        if (h < s->base)
            break;
        const struct page_info *r = pi(h);
        if (r->w0 & PI_TAIL)
            continue;
        if (p >= h + BLOCK_SIZE(LINK_ORDER(r->w0)))
            break;
        return (r->w0 & PI_USED) ? "wrong-order-free" : "double-free";
    }
    return "double-free";
}

/* Validate a free request. Returns NULL if p is a used head of `order`,
 * else the finding kind; *msg explains. Lock held. */
static const char *validate_free(phys_t p, unsigned order, const char **msg)
{
    const struct section *s = section_of(p);

    if (!s || (p & (PAGE_SIZE - 1))) {
        *msg = "frame not managed by the allocator";
        return "foreign-free";
    }
    if (order > MAX_ORDER || (p & (BLOCK_SIZE(order) - 1))) {
        *msg = "frame not aligned to the order";
        return "wrong-order-free";
    }
    uint64_t w0 = pi(p)->w0;
    if (w0 & PI_RESERVED) {
        *msg = "frame is reserved (kernel, modules or page-info)";
        return "foreign-free";
    }
    if ((w0 & PI_USED) && !(w0 & PI_TAIL)) {
        if (LINK_ORDER(w0) == order)
            return 0;
        *msg = "allocated with a different order";
        return "wrong-order-free";
    }
    const char *kind = classify_bad_free(p, s);
    *msg = kind[0] == 'd' ? "frame is already free"
                          : "frame is inside an allocated block, not its head";
    return kind;
}

/* Merge block p of `order` with free buddies and list the result. Lock held. */
static void free_locked(phys_t p, unsigned order)
{
    const struct section *s = section_of(p);

    nr_free += (uint64_t)1 << order;
    while (order < MAX_ORDER) {
        phys_t b = p ^ BLOCK_SIZE(order);
        if (b < s->base || b + BLOCK_SIZE(order) > s->end)
            break;
        struct page_info *br = pi(b);
        if (!is_free_head(br) || LINK_ORDER(br->w0) != order)
            break;
        list_remove(b, order);
        phys_t upper = p > b ? p : b;
        pi(upper)->w0 = PI_TAIL;
        pi(upper)->w1 = 0;
        p = p < b ? p : b;
        order++;
    }
    list_push(p, order);
}

static void report(const char *kind, phys_t p, unsigned order, const char *msg)
{
    struct mm_finding f = { kind, p, order, msg };
    mm_report(&f);
}

static void p2buddy_free(phys_t p, unsigned order)
{
    const char *msg = 0, *kind;

    mm_lock();
    kind = validate_free(p, order, &msg);
    mm_unlock();
    if (kind) {
        report(kind, p, order, msg);
        return;
    }
    /* Poison outside the lock: the block is still marked used, so nobody
     * else can allocate it meanwhile; validate again in case of a race. */
    memset64(mm_phys_to_virt(p), FRAME_POISON, BLOCK_SIZE(order));
    mm_lock();
    kind = validate_free(p, order, &msg);
    if (!kind)
        free_locked(p, order);
    mm_unlock();
    if (kind)
        report(kind, p, order, msg);
}

/* Carve [base, end) into the largest naturally aligned blocks. */
static void add_range(phys_t base, phys_t end)
{
    while (base < end) {
        unsigned k = MAX_ORDER;
        while (k > 0 && ((base & (BLOCK_SIZE(k) - 1)) || base + BLOCK_SIZE(k) > end))
            k--;
        list_push(base, k);
        nr_free += (uint64_t)1 << k;
        base += BLOCK_SIZE(k);
    }
}

static int p2buddy_init(struct mm_layout *l)
{
    struct mm_range fr[160];
    int n = mm_range_free_list(l, SECTION_SIZE, fr, 160);

    mm_lock();
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        free_heads[k] = 0 | k;
    nr_free = 0;
    for (int i = 0; i < n; i++)
        if (fr[i].end <= MM_PHYS_LIMIT)
            add_range(fr[i].base, fr[i].end);
    mm_unlock();
    return 0;
}

static uint64_t p2buddy_free_frames(void)
{
    return nr_free;
}

/* Count the blocks on each list (bounded, in case a list is corrupt). */
static void p2buddy_free_blocks(uint64_t out[ORDER_COUNT])
{
    uint64_t limit = sections_total_frames();

    mm_lock();
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        out[k] = 0;
        for (phys_t p = LINK_ADDR(free_heads[k]); p && out[k] <= limit;
             p = LINK_ADDR(pi(p)->w1))
            out[k]++;
    }
    mm_unlock();
}

/* ---- consistency walker ---------------------------------------------- */

#define MAX_PROBLEMS 8

struct problems {
    int count;
    struct mm_finding f[MAX_PROBLEMS];
};

static void problem(struct problems *pr, phys_t p, unsigned order, const char *msg)
{
    if (pr->count < MAX_PROBLEMS) {
        struct mm_finding f = { "freelist-corrupt", p, order, msg };
        pr->f[pr->count] = f;
    }
    pr->count++;
}

/* Walk list k; returns its length and adds its frames to *frames. Lock held. */
static uint64_t check_list(unsigned k, uint64_t *frames, struct problems *pr)
{
    uint64_t link = free_heads[k], len = 0, limit = sections_total_frames() + 1;
    phys_t prev = 0;

    if (LINK_ORDER(link) != k)
        problem(pr, 0, k, "list head carries the wrong order");
    for (; LINK_ADDR(link); link = pi(prev)->w1) {
        phys_t p = LINK_ADDR(link);
        const struct section *s = section_of(p);
        if (++len > limit) {
            problem(pr, p, k, "cycle in free list");
            break;
        }
        if (!s || (p & (BLOCK_SIZE(k) - 1)) || p + BLOCK_SIZE(k) > s->end) {
            problem(pr, p, k, "free block misaligned or outside its section");
            break;
        }
        const struct page_info *r = pi(p);
        if (r->w0 & (PI_USED | PI_TAIL)) {
            problem(pr, p, k, "listed block is marked used or interior");
            break;
        }
        if (LINK_ORDER(r->w0) != k || LINK_ORDER(r->w1) != k)
            problem(pr, p, k, "link carries the wrong order");
        if (LINK_ADDR(r->w0) != prev)
            problem(pr, p, k, "prev link does not point back");
        *frames += (uint64_t)1 << k;
        prev = p;
    }
    return len;
}

/* Count the free heads of each order found in the page-info arrays. */
static void count_heads(uint64_t heads[ORDER_COUNT])
{
    for (int w = 0; w < MAX_SECTIONS; w++) {
        const struct section *s = &mm_sections[w];
        uint64_t n = (s->end - s->base) >> PAGE_SHIFT;
        for (uint64_t i = 0; i < n; i++)
            if (is_free_head(&s->info[i]) && LINK_ORDER(s->info[i].w0) <= MAX_ORDER)
                heads[LINK_ORDER(s->info[i].w0)]++;
    }
}

/* Walk every list (order, alignment, link symmetry, no used bit), then
 * cross-check list lengths against the records and the free count.
 * Returns the number of problems; each is reported. Takes the lock. */
static int p2buddy_check(void)
{
    struct problems pr = { 0 };
    uint64_t frames = 0, len[ORDER_COUNT], heads[ORDER_COUNT] = { 0 };

    mm_lock();
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        len[k] = check_list(k, &frames, &pr);
    count_heads(heads);
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        if (heads[k] != len[k])
            problem(&pr, 0, k, "free heads in page-info differ from the list");
    if (frames != nr_free)
        problem(&pr, 0, 0, "free frame count differs from the lists");
    mm_unlock();
    for (int i = 0; i < pr.count && i < MAX_PROBLEMS; i++)
        mm_report(&pr.f[i]);
    return pr.count;
}

const struct falloc_ops p2buddy_ops = {
    .name = "p2buddy",
    .init = p2buddy_init,
    .alloc = p2buddy_alloc,
    .free = p2buddy_free,
    .check = p2buddy_check,
    .free_frames = p2buddy_free_frames,
    .free_blocks = p2buddy_free_blocks,
};
