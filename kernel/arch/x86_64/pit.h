/*
 * arch/x86_64/pit.h - 8254 PIT channel 2 as a one-shot reference clock.
 */
#ifndef ARCH_X86_64_PIT_H
#define ARCH_X86_64_PIT_H

#include <stdint.h>

#define PIT_HZ 1193182u

/*
 * Run PIT channel 2 for `ticks` PIT ticks (at most 65535, ~54.9 ms) and
 * return the TSC ticks that elapsed, or 0 if the PIT never signalled the end
 * (no PIT, or the bounded wait ran out). Interrupts must be off or harmless.
 */
uint64_t pit_measure_tsc(uint16_t ticks);

#endif
