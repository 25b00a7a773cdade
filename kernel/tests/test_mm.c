/*
 * tests/test_mm.c - host unit tests of the frame allocators (mm/).
 *
 * Each test builds a fresh fake machine (tests/host_env.c): usable memory
 * [0, 0x9f000) and [1 MiB, size), a "kernel image" reserved at
 * [1 MiB, 1.5 MiB), then sections_init() and the allocator's init(). Tests
 * marked "both" run once per allocator. The last line printed is
 * "N passed, M failed"; the exit status is non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host_env.h"

#define KERNEL_BASE     0x100000ull
#define KERNEL_END      0x180000ull
#define MEM_DEFAULT     (64ull << 20)

static const struct falloc_ops *A;      /* allocator under test */
static struct mm_layout L;
static int failed_checks;

#define CHECK(c) do { if (!(c)) { failed_checks++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECK_EQ(a, b) do { unsigned long long _a = (a), _b = (b); if (_a != _b) { \
    failed_checks++; fprintf(stderr, "  %s:%d: %s == %s failed: 0x%llx != 0x%llx\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

static void setup_layout(phys_t size, phys_t low_end)
{
    host_mem_setup(size);
    memset(&L, 0, sizeof L);
    if (low_end)
        mm_range_add(L.usable, &L.n_usable, 0, low_end);
    mm_range_add(L.usable, &L.n_usable, KERNEL_BASE, size);
    mm_range_add(L.reserved, &L.n_reserved, KERNEL_BASE, KERNEL_END);
    if (sections_init(&L) != 0 || A->init(&L) != 0) {
        fprintf(stderr, "setup failed\n");
        exit(2);
    }
}

static void setup(void)
{
    setup_layout(MEM_DEFAULT, 0x9f000);
}

/* Allocate order-0 frames until the allocator runs dry; returns the array. */
static phys_t *alloc_all(uint64_t *n)
{
    uint64_t cap = A->free_frames() + 16;
    phys_t *v = malloc(cap * sizeof *v);
    *n = 0;
    for (phys_t p; *n < cap && (p = A->alloc(0, FRAME_NOZERO)) != 0;)
        v[(*n)++] = p;
    return v;
}

static int cmp_phys(const void *a, const void *b)
{
    phys_t x = *(const phys_t *)a, y = *(const phys_t *)b;
    return x < y ? -1 : x > y;
}

static int is_zero(phys_t p, phys_t bytes)
{
    const unsigned char *b = mm_phys_to_virt(p);
    for (phys_t i = 0; i < bytes; i++)
        if (b[i])
            return 0;
    return 1;
}

static int same_blocks(const uint64_t a[ORDER_COUNT], const uint64_t b[ORDER_COUNT])
{
    return memcmp(a, b, ORDER_COUNT * sizeof a[0]) == 0;
}

/* ---- tests for both allocators ---------------------------------------- */

static void test_init_consistent(void)
{
    /* 16158 usable frames after frame 0 and the kernel; one section of
     * 16384 records takes 64 pages. rmm also keeps its region table (1 page)
     * and use-count bytes (1 + 4 pages for its two regions). */
    uint64_t usable = (0x9f000 - 0x1000 + MEM_DEFAULT - KERNEL_END) / PAGE_SIZE;
    CHECK_EQ(usable, 16158);
    CHECK_EQ(A->free_frames(), A == &p2buddy_ops ? 16158 - 64 : 16158 - 64 - 6);
    CHECK_EQ(A->check(), 0);
    CHECK_EQ(host_findings.count, 0);
}

static void test_every_order_zeroed(void)
{
    uint64_t before = A->free_frames();
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        phys_t p = A->alloc(k, 0);
        CHECK(p != 0);
        if (!p)
            continue;
        CHECK(is_zero(p, PAGE_SIZE << k));
        if (A == &p2buddy_ops)
            CHECK_EQ(p & ((PAGE_SIZE << k) - 1), 0);
        CHECK_EQ(A->free_frames(), before - (1ull << k));
        A->free(p, k);
        CHECK_EQ(A->free_frames(), before);
    }
    CHECK(A->alloc(MAX_ORDER + 1, 0) == 0);
    CHECK_EQ(A->check(), 0);
    CHECK_EQ(host_findings.count, 0);
}

static void test_exhaustion(void)
{
    uint64_t before = A->free_frames(), n;
    phys_t *v = alloc_all(&n);
    CHECK_EQ(n, before);
    CHECK_EQ(A->free_frames(), 0);
    CHECK(A->alloc(0, 0) == 0);
    CHECK(A->alloc(MAX_ORDER, 0) == 0);
    qsort(v, n, sizeof *v, cmp_phys);
    for (uint64_t i = 0; i < n; i++) {
        CHECK(v[i] != 0);
        CHECK(v[i] < KERNEL_BASE || v[i] >= KERNEL_END);
        if (i)
            CHECK(v[i] != v[i - 1]);
        const struct page_info *r = page_info_of(v[i]);
        CHECK(r && !(r->w0 & PI_RESERVED));
    }
    for (uint64_t i = 0; i < n; i++)
        A->free(v[i], 0);
    CHECK_EQ(A->free_frames(), before);
    CHECK_EQ(A->check(), 0);
    CHECK_EQ(host_findings.count, 0);
    free(v);
}

static void test_fragmentation_odd_even(void)
{
    uint64_t before = A->free_frames(), n, odd = 0, init_blocks[ORDER_COUNT];
    if (A->free_blocks)
        A->free_blocks(init_blocks);
    phys_t *v = alloc_all(&n);
    for (uint64_t i = 0; i < n; i++)
        if ((v[i] >> PAGE_SHIFT) & 1) {
            A->free(v[i], 0);
            odd++;
        }
    CHECK_EQ(A->free_frames(), odd);
    CHECK(A->alloc(1, 0) == 0);                 /* no two free frames adjoin */
    for (uint64_t i = 0; i < n; i++)
        if (!((v[i] >> PAGE_SHIFT) & 1))
            A->free(v[i], 0);
    CHECK_EQ(A->free_frames(), before);
    if (A->free_blocks) {
        uint64_t blocks[ORDER_COUNT];
        A->free_blocks(blocks);
        CHECK(same_blocks(blocks, init_blocks));
    }
    phys_t big = A->alloc(MAX_ORDER, 0);
    CHECK(big != 0);
    A->free(big, MAX_ORDER);
    CHECK_EQ(A->check(), 0);
    CHECK_EQ(host_findings.count, 0);
    free(v);
}

static void test_double_free(void)
{
    phys_t p = A->alloc(0, 0);
    A->free(p, 0);
    uint64_t before = A->free_frames();
    A->free(p, 0);
    CHECK_EQ(host_findings.count, 1);
    CHECK(strcmp(host_findings.kind, "double-free") == 0);
    CHECK_EQ(host_findings.frame, p);
    CHECK_EQ(A->free_frames(), before);
    CHECK_EQ(A->check(), 0);
    /* The allocator still works and hands p out only once. */
    phys_t a = A->alloc(0, 0), b = A->alloc(0, 0);
    CHECK(a != b);
    A->free(a, 0);
    A->free(b, 0);
    CHECK_EQ(host_findings.count, 1);
}

static void test_foreign_free(void)
{
    uint64_t before = A->free_frames();
    const unsigned char *k = mm_phys_to_virt(KERNEL_BASE + 0x20000);
    A->free(KERNEL_BASE + 0x20000, 0);          /* the "kernel image" */
    CHECK_EQ(host_findings.count, 1);
    CHECK(strcmp(host_findings.kind, "foreign-free") == 0);
    CHECK_EQ(k[0], 0x5a);                       /* not poisoned */
    A->free(1ull << 40, 0);                     /* no memory there */
    CHECK_EQ(host_findings.count, 2);
    CHECK(strcmp(host_findings.kind, "foreign-free") == 0);
    phys_t p = A->alloc(0, 0);
    A->free(p + 8, 0);                          /* not a frame address */
    CHECK_EQ(host_findings.count, 3);
    CHECK(strcmp(host_findings.kind, "foreign-free") == 0);
    A->free(p, 0);
    CHECK_EQ(A->free_frames(), before);
    CHECK_EQ(A->check(), 0);
}

static void test_poison_on_free(void)
{
    phys_t p = A->alloc(1, 0);
    memset(mm_phys_to_virt(p), 0x11, 2 * PAGE_SIZE);
    A->free(p, 1);
    const uint64_t *w = mm_phys_to_virt(p);
    int poisoned = 1;
    for (size_t i = 0; i < 2 * PAGE_SIZE / 8; i++)
        poisoned &= w[i] == FRAME_POISON;
    CHECK(poisoned);
}

/* ---- p2buddy only ------------------------------------------------------- */

static void test_split_merge(void)
{
    uint64_t b0[ORDER_COUNT], b1[ORDER_COUNT], b2[ORDER_COUNT];
    A->free_blocks(b0);
    /* Take the order-0 and order-1 edges first so the next order-0
     * allocation must split a large block. */
    phys_t edge[64];
    int ne = 0;
    for (unsigned k = 0; k < MAX_ORDER; k++)
        while (b0[k]-- && ne < 64)
            edge[ne++] = A->alloc(k, 0) | k;
    A->free_blocks(b1);
    for (unsigned k = 0; k < MAX_ORDER; k++)
        CHECK_EQ(b1[k], 0);
    phys_t p = A->alloc(0, 0);
    A->free_blocks(b2);
    for (unsigned k = 0; k < MAX_ORDER; k++)
        CHECK_EQ(b2[k], 1);                     /* one half left at each order */
    CHECK_EQ(b2[MAX_ORDER], b1[MAX_ORDER] - 1);
    A->free(p, 0);
    A->free_blocks(b2);
    CHECK(same_blocks(b1, b2));                 /* merged all the way up */
    for (int i = 0; i < ne; i++)
        A->free(edge[i] & ~PI_ORDER_MASK, (unsigned)(edge[i] & PI_ORDER_MASK));
    A->free_blocks(b1);
    A->free_blocks(b0);
    CHECK(same_blocks(b0, b1));
    CHECK_EQ(A->check(), 0);
    CHECK_EQ(host_findings.count, 0);
}

static void test_wrong_order(void)
{
    uint64_t before = A->free_frames();
    phys_t p = A->alloc(2, 0);
    A->free(p, 0);
    CHECK_EQ(host_findings.count, 1);
    CHECK(strcmp(host_findings.kind, "wrong-order-free") == 0);
    A->free(p, 3);
    CHECK_EQ(host_findings.count, 2);
    CHECK(strcmp(host_findings.kind, "wrong-order-free") == 0);
    A->free(p + PAGE_SIZE, 0);                  /* interior of a used block */
    CHECK_EQ(host_findings.count, 3);
    CHECK(strcmp(host_findings.kind, "wrong-order-free") == 0);
    CHECK_EQ(A->free_frames(), before - 4);
    A->free(p, 2);
    CHECK_EQ(host_findings.count, 3);
    CHECK_EQ(A->free_frames(), before);
    /* A frame inside a free order-10 block is already free. */
    phys_t q = A->alloc(MAX_ORDER, 0);
    A->free(q, MAX_ORDER);
    A->free(q + 5 * PAGE_SIZE, 0);
    CHECK_EQ(host_findings.count, 4);
    CHECK(strcmp(host_findings.kind, "double-free") == 0);
    CHECK_EQ(A->check(), 0);
}

static void test_walker_catches_corruption(void)
{
    phys_t p = A->alloc(MAX_ORDER, 0);
    A->free(p, MAX_ORDER);                      /* p is now a free head */
    struct page_info *r = page_info_of(p);
    struct page_info saved = *r;

    r->w1 ^= 3;                                 /* next link, wrong order */
    CHECK(A->check() > 0);
    CHECK(strcmp(host_findings.kind, "freelist-corrupt") == 0);
    *r = saved;
    host_findings_reset();
    CHECK_EQ(A->check(), 0);

    r->w0 |= PI_USED;                           /* listed but marked used */
    CHECK(A->check() > 0);
    *r = saved;
    r->w0 = (p + PAGE_SIZE * 1024 * 3) | MAX_ORDER;    /* asymmetric prev */
    CHECK(A->check() > 0);
    *r = saved;
    host_findings_reset();
    CHECK_EQ(A->check(), 0);
    CHECK_EQ(host_findings.count, 0);
}

static void test_unaligned_edges(void)
{
    /* Window 0 is [0, 0x9f000): frame 0 is reserved, the section's array
     * takes its top page, leaving frames 1..157 in low-order blocks. */
    host_mem_teardown();
    host_mem_setup(MEM_DEFAULT);
    memset(&L, 0, sizeof L);
    mm_range_add(L.usable, &L.n_usable, 0, 0x9f000);
    CHECK_EQ(sections_init(&L), 0);
    CHECK_EQ(A->init(&L), 0);
    uint64_t b[ORDER_COUNT], want[ORDER_COUNT] = { 1, 2, 2, 2, 2, 1, 1 };
    A->free_blocks(b);
    CHECK(same_blocks(b, want));
    CHECK_EQ(A->free_frames(), 157);
    CHECK_EQ(A->check(), 0);
}

static void test_sections_do_not_merge(void)
{
    /* Memory crossing the 128 MiB boundary: two sections, and no block
     * may span the boundary even after everything is freed again. */
    host_mem_teardown();
    setup_layout(SECTION_SIZE + (8ull << 20), 0);
    CHECK(mm_sections[1].end != 0 && mm_sections[1].base == SECTION_SIZE);
    uint64_t n, before = A->free_frames();
    phys_t *v = alloc_all(&n);
    for (uint64_t i = 0; i < n; i++)
        A->free(v[i], 0);
    free(v);
    CHECK_EQ(A->free_frames(), before);
    for (phys_t p; (p = A->alloc(MAX_ORDER, FRAME_NOZERO)) != 0;)
        CHECK(p >= SECTION_SIZE || p + (PAGE_SIZE << MAX_ORDER) <= SECTION_SIZE);
    CHECK_EQ(host_findings.count, 0);
}

/* ---- rmm only ----------------------------------------------------------- */

static void test_rmm_first_fit_contiguous(void)
{
    phys_t a = A->alloc(0, 0), b = A->alloc(0, 0), c = A->alloc(4, 0);
    CHECK_EQ(b, a + PAGE_SIZE);                 /* first fit, in address order */
    CHECK_EQ(c, b + PAGE_SIZE);
    A->free(b, 0);
    CHECK_EQ(A->alloc(0, 0), b);                /* the hole is found first */
    CHECK(A->alloc(1, 0) > c);                  /* a 2-frame block is not */
}

static void test_rmm_over_free(void)
{
    /* The size is not recorded: freeing 2 frames where 1 was allocated
     * reaches a free frame and is reported as a double free. */
    phys_t p = A->alloc(0, 0);
    uint64_t before = A->free_frames();
    A->free(p, 1);
    CHECK_EQ(host_findings.count, 1);
    CHECK(strcmp(host_findings.kind, "double-free") == 0);
    CHECK_EQ(A->free_frames(), before);
    A->free(p, 0);
    CHECK_EQ(A->free_frames(), before + 1);
}

static void test_rmm_walker_catches_corruption(void)
{
    phys_t p = A->alloc(0, 0);
    A->free(p, 0);
    /* The first region's usage bytes start at its base; p is its first free
     * page, so the byte is at base + (p - base) / PAGE_SIZE. Find the base as
     * the region start: p's page index is `skip` of that region. */
    phys_t base = p;
    unsigned char *u = 0;
    while (base >= PAGE_SIZE) {
        base -= PAGE_SIZE;
        unsigned char *cand = mm_phys_to_virt(base);
        uint64_t idx = (p - base) / PAGE_SIZE;
        if (idx < PAGE_SIZE && cand[0] == 1 && cand[idx] == 0) {
            u = cand + idx;
            break;
        }
    }
    CHECK(u != 0);
    if (!u)
        return;
    *u = 1;                                     /* used, but not counted */
    CHECK(A->check() > 0);
    CHECK(strcmp(host_findings.kind, "freelist-corrupt") == 0);
    *u = 0;
    host_findings_reset();
    CHECK_EQ(A->check(), 0);
}

/* ---- runner ------------------------------------------------------------ */

struct test {
    const char *name;
    void (*fn)(void);
    int p2buddy, rmm;
};

static const struct test tests[] = {
    { "init_consistent", test_init_consistent, 1, 1 },
    { "every_order_zeroed", test_every_order_zeroed, 1, 1 },
    { "exhaustion", test_exhaustion, 1, 1 },
    { "fragmentation_odd_even", test_fragmentation_odd_even, 1, 1 },
    { "double_free", test_double_free, 1, 1 },
    { "foreign_free", test_foreign_free, 1, 1 },
    { "poison_on_free", test_poison_on_free, 1, 1 },
    { "split_merge", test_split_merge, 1, 0 },
    { "wrong_order", test_wrong_order, 1, 0 },
    { "walker_catches_corruption", test_walker_catches_corruption, 1, 0 },
    { "unaligned_edges", test_unaligned_edges, 1, 0 },
    { "sections_do_not_merge", test_sections_do_not_merge, 1, 0 },
    { "first_fit_contiguous", test_rmm_first_fit_contiguous, 0, 1 },
    { "over_free", test_rmm_over_free, 0, 1 },
    { "walker_catches_corruption", test_rmm_walker_catches_corruption, 0, 1 },
};

int main(void)
{
    const struct falloc_ops *allocs[] = { &p2buddy_ops, &rmm_ops };
    int passed = 0, failed = 0;

    for (int a = 0; a < 2; a++) {
        A = allocs[a];
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
            const struct test *t = &tests[i];
            if (!(a == 0 ? t->p2buddy : t->rmm))
                continue;
            setup();
            int before = failed_checks;
            t->fn();
            if (host_lock_misuse) {
                failed_checks++;
                fprintf(stderr, "  lock taken twice or released unheld\n");
            }
            host_mem_teardown();
            int ok = failed_checks == before;
            printf("%s %s/%s\n", ok ? "PASS" : "FAIL", A->name, t->name);
            ok ? passed++ : failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
