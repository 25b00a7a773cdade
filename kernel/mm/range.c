/*
 * mm/range.c - small operations on lists of physical ranges (boot only).
 */
#include "mm/range.h"

int mm_range_add(struct mm_range *list, int *n, phys_t base, phys_t end)
{
    base = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    end &= ~(PAGE_SIZE - 1);
    if (end <= base)
        return 0;
    if (*n >= MM_MAX_RANGES)
        return -1;
    list[*n].base = base;
    list[*n].end = end;
    (*n)++;
    return 0;
}

void mm_range_normalize(struct mm_range *list, int *n)
{
    /* Insertion sort: the lists hold a few dozen entries at most. */
    for (int i = 1; i < *n; i++) {
        struct mm_range r = list[i];
        int j = i;
        while (j > 0 && list[j - 1].base > r.base) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = r;
    }
    int out = 0;
    for (int i = 0; i < *n; i++) {
        if (out > 0 && list[i].base <= list[out - 1].end) {
            if (list[i].end > list[out - 1].end)
                list[out - 1].end = list[i].end;
        } else {
            list[out++] = list[i];
        }
    }
    *n = out;
}

/* Emit [base, end) cut at multiples of `cut`. */
static int emit_cut(phys_t base, phys_t end, phys_t cut,
                    struct mm_range *out, int n, int max)
{
    while (base < end && n < max) {
        phys_t next = (base & ~(cut - 1)) + cut;
        phys_t stop = next < end ? next : end;
        out[n].base = base;
        out[n].end = stop;
        n++;
        base = stop;
    }
    return n;
}

int mm_range_free_list(const struct mm_layout *l, phys_t cut,
                       struct mm_range *out, int max)
{
    int n = 0;

    for (int i = 0; i < l->n_usable; i++) {
        phys_t base = l->usable[i].base, end = l->usable[i].end;
        /* reserved[] is normalized: walk it in order, emitting the gaps. */
        for (int r = 0; r < l->n_reserved && base < end; r++) {
            const struct mm_range *res = &l->reserved[r];
            if (res->end <= base || res->base >= end)
                continue;
            if (res->base > base)
                n = emit_cut(base, res->base, cut, out, n, max);
            base = res->end;
        }
        if (base < end)
            n = emit_cut(base, end, cut, out, n, max);
    }
    return n;
}
