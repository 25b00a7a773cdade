/*
 * arch/x86_64/tsc.h - TSC frequency calibration.
 */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include <stdint.h>

/*
 * Calibrate the TSC against the PIT (three 20 ms windows, the shortest
 * wins: anything that delays the loop only makes a window longer). Returns
 * the frequency in Hz, or 0 if the PIT did not answer; arch_timestamp_hz()
 * returns the same value afterwards. Call once, early, with interrupts off.
 */
uint64_t tsc_init(void);

#endif
