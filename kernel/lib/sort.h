/*
 * lib/sort.h - in-place sorting and order statistics for measurements.
 */
#ifndef LIB_SORT_H
#define LIB_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Heapsort v[0..n) ascending: O(n log n), no recursion, no allocation. */
void sort_u64(uint64_t *v, size_t n);

/* Sorts v and returns its median (lower middle for even n); 0 when n == 0. */
uint64_t median_u64(uint64_t *v, size_t n);

#endif
