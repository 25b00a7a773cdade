/*
 * mm/section.c - building the page-info sections at boot.
 */
#include "lib/string.h"
#include "mm/section.h"

struct section mm_sections[MAX_SECTIONS];

#define FREE_MAX 160

static phys_t array_bytes(const struct section *s)
{
    phys_t bytes = ((s->end - s->base) >> PAGE_SHIFT) * sizeof(struct page_info);
    return (bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/* Find `bytes` of free memory for window w's array: the top of the highest
 * free range inside the window that fits, else the top of any range. */
static phys_t place_array(const struct mm_layout *l, int w, phys_t bytes)
{
    struct mm_range fr[FREE_MAX];
    int n = mm_range_free_list(l, SECTION_SIZE, fr, FREE_MAX);
    phys_t any = 0;

    for (int i = n - 1; i >= 0; i--) {
        if (fr[i].end - fr[i].base < bytes)
            continue;
        if ((int)(fr[i].base >> SECTION_SHIFT) == w)
            return fr[i].end - bytes;
        if (!any)
            any = fr[i].end - bytes;
    }
    return any;
}

/* Set each section's extent from the usable ranges below MM_PHYS_LIMIT. */
static void size_sections(const struct mm_layout *l)
{
    memset(mm_sections, 0, sizeof mm_sections);
    for (int i = 0; i < l->n_usable; i++) {
        phys_t base = l->usable[i].base, end = l->usable[i].end;
        if (end > MM_PHYS_LIMIT)
            end = MM_PHYS_LIMIT;
        while (base < end) {
            int w = (int)(base >> SECTION_SHIFT);
            phys_t wend = ((phys_t)w + 1) << SECTION_SHIFT;
            phys_t stop = end < wend ? end : wend;
            struct section *s = &mm_sections[w];
            if (s->end == 0)
                s->base = base;
            s->end = stop;
            base = stop;
        }
    }
}

/* Mark every record reserved, then the free frames as free interiors. */
static void init_records(const struct mm_layout *l)
{
    struct mm_range fr[FREE_MAX];
    int n = mm_range_free_list(l, SECTION_SIZE, fr, FREE_MAX);

    for (int w = 0; w < MAX_SECTIONS; w++) {
        struct section *s = &mm_sections[w];
        if (s->end)
            memset64(s->info, PI_USED | PI_RESERVED,
                     ((s->end - s->base) >> PAGE_SHIFT) * sizeof(struct page_info));
    }
    for (int i = 0; i < n; i++) {
        if (fr[i].end > MM_PHYS_LIMIT)
            continue;
        for (phys_t p = fr[i].base; p < fr[i].end; p += PAGE_SIZE)
            page_info_of(p)->w0 = PI_TAIL;
    }
}

int sections_init(struct mm_layout *l)
{
    /* Frame 0 is the allocators' null link: never managed. */
    mm_range_add(l->reserved, &l->n_reserved, 0, PAGE_SIZE);
    mm_range_normalize(l->usable, &l->n_usable);
    mm_range_normalize(l->reserved, &l->n_reserved);
    size_sections(l);

    for (int w = 0; w < MAX_SECTIONS; w++) {
        struct section *s = &mm_sections[w];
        if (!s->end)
            continue;
        phys_t bytes = array_bytes(s);
        phys_t at = place_array(l, w, bytes);
        if (!at)
            return -1;
        s->info = mm_phys_to_virt(at);
        if (mm_range_add(l->reserved, &l->n_reserved, at, at + bytes) < 0)
            return -1;
        mm_range_normalize(l->reserved, &l->n_reserved);
    }
    init_records(l);
    return 0;
}

uint64_t sections_total_frames(void)
{
    uint64_t n = 0;
    for (int w = 0; w < MAX_SECTIONS; w++)
        n += (mm_sections[w].end - mm_sections[w].base) >> PAGE_SHIFT;
    return n;
}
