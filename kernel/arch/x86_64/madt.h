/*
 * arch/x86_64/madt.h - the MADT's interrupt-controller entries (ACPI 6.x,
 * 5.2.12), as pure functions over the table's bytes: no firmware access, no
 * kernel services, so the host unit tests (tests/test_irq.c) run them on
 * hand-made tables.
 *
 * Read: processor entries (type 0 local APIC, type 9 local x2APIC), the
 * local APIC address (header, type 5 override), the first I/O APIC (type 1)
 * and the ISA interrupt source overrides (type 2: which GSI an ISA IRQ is
 * wired to, with its polarity and trigger mode).
 */
#ifndef ARCH_X86_64_MADT_H
#define ARCH_X86_64_MADT_H

#include <stdint.h>

#define ACPI_MAX_CPUS   64
#define ISA_IRQS        16

/* MPS INTI flags of an override (ACPI 6.x table 5.50). */
#define MADT_POLARITY_MASK  0x3
#define MADT_POLARITY_LOW   0x3
#define MADT_TRIGGER_MASK   0xc
#define MADT_TRIGGER_LEVEL  0xc

struct acpi_cpus {
    uint64_t lapic_phys;                /* MADT local APIC address */
    int count;                          /* usable processors listed */
    uint32_t apic_id[ACPI_MAX_CPUS];    /* in MADT order */
    uint64_t ioapic_phys;               /* first I/O APIC's registers (0: none listed) */
    uint32_t ioapic_gsi_base;           /* the GSI of its pin 0 */
    uint32_t isa_gsi[ISA_IRQS];         /* ISA IRQ n is GSI isa_gsi[n] (identity unless overridden) */
    uint16_t isa_flags[ISA_IRQS];       /* its MPS INTI flags (0: the ISA bus default, high/edge) */
};

/* Parse a whole MADT (header included, len = its length field) into *out,
 * which it resets first. Malformed entries end the walk; what was read
 * before them stays. */
void madt_parse(const uint8_t *madt, uint32_t len, struct acpi_cpus *out);

#endif
