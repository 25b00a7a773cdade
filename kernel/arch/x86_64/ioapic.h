/*
 * arch/x86_64/ioapic.h - the first I/O APIC (82093AA datasheet; ACPI MADT
 * type 1), used for one thing: the profiler's clock, PIT channel 0 (ISA
 * IRQ0, usually GSI 2 by the MADT's override) delivered as an NMI to every
 * CPU at once. Every other pin stays masked: devices do not interrupt this
 * kernel.
 *
 * Why not the 8259 (the old wiring, BUG=nmi-extint): PIT -> 8259 -> the
 * BSP's LINT0 programmed for NMI delivery leaves the 8259's INTR line wired
 * to an unmasked LINT0, and QEMU's local APIC (apic_accept_pic_intr) takes
 * an unmasked LINT0 as "accepts ExtINT" whatever its delivery mode: each
 * time the BSP took an interrupt with IF set (in ring 3, i.e. bootstrap)
 * while IRQ0 was pending in the 8259, it read the 8259's vector (0x20 for
 * IRQ0, 0x27 for its spurious IRQ7) and delivered that. Through the I/O
 * APIC the 8259 stays fully masked and LINT0 untouched, and no CPU relays
 * NMIs by ICR writes from NMI context.
 */
#ifndef ARCH_X86_64_IOAPIC_H
#define ARCH_X86_64_IOAPIC_H

#include <stdint.h>

#include "arch/x86_64/madt.h"

#define IOAPIC_VA               0xffffd00000001000ull   /* after the xAPIC window */

#define IOAPIC_DM_NMI           (4ull << 8)
#define IOAPIC_POLARITY_LOW     (1ull << 13)
#define IOAPIC_TRIGGER_LEVEL    (1ull << 15)
#define IOAPIC_MASKED           (1ull << 16)
#define IOAPIC_BROADCAST        0xffu                   /* physical destination 0xff: every xAPIC */

/*
 * The 64-bit redirection entry that delivers an interrupt source with the
 * MADT's MPS INTI flags as an NMI to destination dest (physical mode).
 * NMI delivery is always edge-triggered (the 82093AA ignores the trigger
 * bit for NMI, and a level NMI would fire without end), so a "level"
 * override is not honoured; an active-low source keeps its polarity.
 */
static inline uint64_t ioapic_nmi_entry(uint8_t dest, uint16_t mps_flags)
{
    uint64_t e = IOAPIC_DM_NMI | ((uint64_t)dest << 56);

    if ((mps_flags & MADT_POLARITY_MASK) == MADT_POLARITY_LOW)
        e |= IOAPIC_POLARITY_LOW;
    return e;
}

/* The pin of gsi on an I/O APIC serving [base, base + pins), or -1. */
static inline int ioapic_pin(uint32_t gsi, uint32_t base, unsigned pins)
{
    return gsi >= base && gsi - base < pins ? (int)(gsi - base) : -1;
}

#ifndef MM_HOST
/* BSP, after paging_init: map the registers, mask every pin and remember
 * the ISA overrides. Returns 0, or -1 when the MADT lists no I/O APIC or
 * it cannot be mapped (ioapic_ready() then stays 0). After
 * ioapic_init_boot it only moves the registers to IOAPIC_VA and keeps
 * every entry as it is (the profiler's clock goes on). */
int ioapic_init(const struct acpi_cpus *a);
int ioapic_ready(void);

/* BSP, before memory init (PROFILE=1: the profiler's clock from the start
 * of the boot): the registers through the boot page tables' direct map
 * (boot.S maps all of 0..4 GiB), every pin masked, the ISA overrides kept.
 * Nothing may touch the I/O APIC between paging_init (which drops that
 * mapping) and ioapic_init. Returns 0, or -1 (no I/O APIC, or above 4 GiB). */
int ioapic_init_boot(const struct acpi_cpus *a);

/* Route ISA IRQ irq as an NMI to every CPU, or to the CPU with APIC id
 * dest / mask it again. -1: no pin. */
int ioapic_isa_nmi_all(unsigned irq);
int ioapic_isa_nmi_to(unsigned irq, uint8_t dest);
void ioapic_isa_mask(unsigned irq);
#endif

#endif
