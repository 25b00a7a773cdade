/*
 * arch/x86_64/serial.h - 16550 UART on COM1 (0x3f8), polled, 115200 8N1.
 */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

/* Program COM1 for 115200 8N1 with FIFOs. Returns 1 if a UART answered
 * (scratch register test), 0 if none: output is then dropped. */
int serial_init(void);

#endif
