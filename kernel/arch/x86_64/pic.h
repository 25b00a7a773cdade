/*
 * arch/x86_64/pic.h - stray interrupts from the legacy 8259 pair.
 *
 * apic.c remaps the 8259s to vectors 0x20..0x2f and masks them; nothing in
 * the kernel wants their interrupts. Yet an emulator or a board can still
 * hand one to a CPU as ExtINT (QEMU does whenever LINT0 is unmasked and the
 * 8259's output is up; every 8259 can raise a spurious IRQ7/IRQ15), and a
 * vector without a gate is a #GP charged to whatever ran: in ring 3 it
 * killed bootstrap. So the 16 vectors have gates (ipi_entry.S) that take
 * such an interrupt, acknowledge it as the 8259 needs, count it and return.
 */
#ifndef ARCH_X86_64_PIC_H
#define ARCH_X86_64_PIC_H

#include <stdint.h>

#define PIC_VECTOR_BASE     0x20        /* apic.c's remap: master 0x20, slave 0x28 */
#define PIC_EOI_MASTER      1u
#define PIC_EOI_SLAVE       2u

/*
 * The EOIs a stray interrupt of 8259 IRQ irq (0..15) needs, given the two
 * in-service registers read in the handler: a real IRQ (its ISR bit set)
 * is ended at its chip, and a slave IRQ at the master too (the cascade,
 * IRQ2, is in service there); a spurious IRQ7 (master ISR bit 7 clear)
 * needs none, a spurious IRQ15 the master's only (8259A datasheet; the
 * master did deliver the cascade).
 */
static inline unsigned pic_stray_eois(unsigned irq, uint8_t master_isr, uint8_t slave_isr)
{
    if (irq < 8)
        return (master_isr >> irq) & 1 ? PIC_EOI_MASTER : 0;
    if (irq < 16)
        return (slave_isr >> (irq - 8)) & 1 ? PIC_EOI_MASTER | PIC_EOI_SLAVE : PIC_EOI_MASTER;
    return 0;
}

#ifndef MM_HOST
struct trap_frame;

/* The gates' handler (ipi_entry.S), interrupts off. */
void pic_stray_handler(struct trap_frame *f);

/* Stray 8259 interrupts taken since boot. */
uint64_t pic_strays(void);
#endif

#endif
