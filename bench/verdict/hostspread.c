/*
 * bench/verdict/hostspread.c - the boot-to-boot spread of a real x86 CPU for the measurement bootstrap makes
 * (syscall.enosys.cycles: the median of 16384 rdtsc-timed calls of an unknown syscall, the median of 3 such
 * rounds), on this host's Linux. One process is one "boot"; run.sh runs it HOST_RUNS times. Under QEMU -icount
 * the reference kernel's cycle counts have no noise at all and under plain TCG their noise is the host's load;
 * this is a real machine's noise for the same kind of number, which run.sh lays over the icount value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

enum { ITERS = 16384, ROUNDS = 3 };

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    static uint64_t t[ITERS];
    uint64_t medians[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < ITERS; i++) {
            uint64_t start = __rdtsc();
            syscall(1337); /* unknown: -ENOSYS, like bootstrap's SYS_BENCH_ENOSYS */
            t[i] = __rdtsc() - start;
        }
        qsort(t, ITERS, sizeof t[0], cmp);
        medians[r] = t[ITERS / 2];
    }
    qsort(medians, ROUNDS, sizeof medians[0], cmp);
    printf("%llu\n", (unsigned long long)medians[ROUNDS / 2]);
    return 0;
}
