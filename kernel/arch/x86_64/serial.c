/*
 * arch/x86_64/serial.c - polled 16550 driver for COM1, the kernel console.
 *
 * Output only. Each byte waits for the transmit holding register to empty,
 * with a bounded spin so a machine without a UART (or a stuck one) slows the
 * boot down instead of hanging it. There is one CPU and no interrupts yet,
 * so no lock; callers that need whole lines unbroken serialize above this.
 */
#include "arch/arch.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/x86.h"

#define COM1            0x3f8
#define REG_DATA        0       /* THR when written, DLL when DLAB=1 */
#define REG_IER         1       /* DLM when DLAB=1 */
#define REG_FCR         2
#define REG_LCR         3
#define REG_MCR         4
#define REG_LSR         5
#define REG_SCR         7
#define LSR_THRE        0x20
#define SPIN_LIMIT      200000  /* ~ a few ms on hardware; one byte needs 87 us */

static int serial_present;

int serial_init(void)
{
    outb(COM1 + REG_SCR, 0xa5);
    if (inb(COM1 + REG_SCR) != 0xa5)
        return serial_present = 0;

    outb(COM1 + REG_IER, 0x00);         /* polled: no interrupts */
    outb(COM1 + REG_LCR, 0x80);         /* DLAB on */
    outb(COM1 + REG_DATA, 0x01);        /* divisor 1: 115200 baud */
    outb(COM1 + REG_IER, 0x00);
    outb(COM1 + REG_LCR, 0x03);         /* DLAB off, 8N1 */
    outb(COM1 + REG_FCR, 0xc7);         /* FIFOs on, cleared, 14-byte trigger */
    outb(COM1 + REG_MCR, 0x03);         /* DTR, RTS */
    return serial_present = 1;
}

/* Send one byte; gives up on the byte after SPIN_LIMIT polls. */
static void serial_putc(char c)
{
    for (int i = 0; i < SPIN_LIMIT; i++) {
        if (inb(COM1 + REG_LSR) & LSR_THRE) {
            outb(COM1 + REG_DATA, (uint8_t)c);
            return;
        }
        cpu_pause();
    }
}

void arch_console_write(const char *s, size_t len)
{
    if (!serial_present)
        return;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}
