/*
 * arch/x86_64/pit.c - 8254 PIT channel 2, gated through port 0x61.
 *
 * Channel 2 in mode 0 ("interrupt on terminal count") raises its OUT line,
 * readable at port 0x61 bit 5, when the count reaches zero. Its gate is bit 0
 * of port 0x61, so the channel can be used without the interrupt controller,
 * and the speaker (bit 1) stays off.
 */
#include "arch/x86_64/pit.h"
#include "arch/x86_64/x86.h"

#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PORT_B          0x61
#define PORTB_GATE2     0x01
#define PORTB_SPEAKER   0x02
#define PORTB_OUT2      0x20
#define WAIT_LIMIT      5000000 /* polls; far beyond 55 ms of port reads */

uint64_t pit_measure_tsc(uint16_t ticks)
{
    uint8_t b = inb(PORT_B);

    outb(PORT_B, (uint8_t)((b & ~PORTB_SPEAKER) & ~PORTB_GATE2));
    outb(PIT_CMD, 0xb0);                /* channel 2, lo/hi byte, mode 0, binary */
    outb(PIT_CH2, (uint8_t)(ticks & 0xff));
    outb(PIT_CH2, (uint8_t)(ticks >> 8));

    /* Raising the gate starts the count. */
    outb(PORT_B, (uint8_t)((b & ~PORTB_SPEAKER) | PORTB_GATE2));
    uint64_t t0 = rdtsc();
    for (long i = 0; i < WAIT_LIMIT; i++) {
        if (inb(PORT_B) & PORTB_OUT2) {
            uint64_t t1 = rdtsc();
            outb(PORT_B, b);
            return t1 - t0;
        }
    }
    outb(PORT_B, b);
    return 0;
}
