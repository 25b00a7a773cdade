/*
 * arch/x86_64/madt.c - MADT entry parsing (see madt.h). Pure: the host unit
 * tests link this file as it is.
 */
#include "arch/x86_64/madt.h"
#include "lib/string.h"

#define MADT_HEADER         44          /* SDT header + local APIC address + flags */
#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_ISO            2
#define MADT_LAPIC_ADDR     5
#define MADT_X2APIC         9
#define LAPIC_ENABLED       1u
#define LAPIC_ONLINE_CAPABLE 2u

static void add_cpu(struct acpi_cpus *out, uint32_t id, uint32_t flags)
{
    if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
        return;
    for (int i = 0; i < out->count; i++)
        if (out->apic_id[i] == id)
            return;                     /* listed as both type 0 and 9 */
    if (out->count < ACPI_MAX_CPUS)
        out->apic_id[out->count++] = id;
}

void madt_parse(const uint8_t *m, uint32_t len, struct acpi_cpus *out)
{
    uint32_t lapic32, flags, gsi;

    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < ISA_IRQS; i++)
        out->isa_gsi[i] = i;
    if (!m || len < MADT_HEADER)
        return;
    const uint8_t *p = m, *end = m + len;
    memcpy(&lapic32, p + 36, 4);
    out->lapic_phys = lapic32;
    for (p += MADT_HEADER; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
        if (p[0] == MADT_LAPIC && p[1] >= 8) {
            memcpy(&flags, p + 4, 4);
            add_cpu(out, p[3], flags);
        } else if (p[0] == MADT_X2APIC && p[1] >= 16) {
            uint32_t id;
            memcpy(&id, p + 4, 4);
            memcpy(&flags, p + 8, 4);
            add_cpu(out, id, flags);
        } else if (p[0] == MADT_LAPIC_ADDR && p[1] >= 12) {
            memcpy(&out->lapic_phys, p + 4, 8);
        } else if (p[0] == MADT_IOAPIC && p[1] >= 12 && !out->ioapic_phys) {
            uint32_t a;
            memcpy(&a, p + 4, 4);
            memcpy(&out->ioapic_gsi_base, p + 8, 4);
            out->ioapic_phys = a;
        } else if (p[0] == MADT_ISO && p[1] >= 10 && p[2] == 0 && p[3] < ISA_IRQS) {
            uint16_t f;
            memcpy(&gsi, p + 4, 4);
            memcpy(&f, p + 8, 2);
            out->isa_gsi[p[3]] = gsi;
            out->isa_flags[p[3]] = f;
        }
    }
}
