/*
 * arch/x86_64/tsc.c - TSC reading and calibration against PIT channel 2.
 */
#include "arch/arch.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"

#define WINDOW_TICKS    23864   /* 20 ms of PIT ticks (1193182 Hz) */
#define WINDOWS         3

static uint64_t tsc_hz;

uint64_t tsc_init(void)
{
    uint64_t best = 0;

    for (int i = 0; i < WINDOWS; i++) {
        uint64_t d = pit_measure_tsc(WINDOW_TICKS);
        if (d != 0 && (best == 0 || d < best))
            best = d;
    }
    tsc_hz = best * PIT_HZ / WINDOW_TICKS;
    return tsc_hz;
}

uint64_t arch_timestamp(void)
{
    return rdtsc();
}

uint64_t arch_timestamp_hz(void)
{
    return tsc_hz;
}
