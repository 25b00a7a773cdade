/*
 * tests/test_irq.c - host unit tests of the interrupt routing the NMI
 * profiler's clock depends on: MADT parsing (arch/x86_64/madt.c), the I/O
 * APIC redirection entry and pin lookup (ioapic.h), and the EOIs a stray
 * 8259 interrupt needs (pic.h). The last line printed is "N passed, M
 * failed"; the exit status is non-zero on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/madt.h"
#include "arch/x86_64/pic.h"

static int failed_checks;

#define CHECK_EQ(a, b) do { unsigned long long _a = (a), _b = (b); if (_a != _b) { \
    failed_checks++; fprintf(stderr, "  %s:%d: %s == %s failed: 0x%llx != 0x%llx\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

/* A MADT builder: the 44-byte header, then entries appended in order. */
struct table { uint8_t b[512]; uint32_t n; };

static void put(struct table *t, const void *p, uint32_t n)
{
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static void header(struct table *t, uint32_t lapic)
{
    memset(t, 0, sizeof *t);
    memcpy(t->b, "APIC", 4);
    memcpy(t->b + 36, &lapic, 4);
    t->n = 44;
}

static void lapic(struct table *t, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = { 0, 8, id, id };
    memcpy(e + 4, &flags, 4);
    put(t, e, sizeof e);
}

static void ioapic(struct table *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    uint8_t e[12] = { 1, 12, id, 0 };
    memcpy(e + 4, &addr, 4);
    memcpy(e + 8, &gsi_base, 4);
    put(t, e, sizeof e);
}

static void iso(struct table *t, uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t e[10] = { 2, 10, bus, irq };
    memcpy(e + 4, &gsi, 4);
    memcpy(e + 8, &flags, 2);
    put(t, e, sizeof e);
}

static void finish(struct table *t)
{
    memcpy(t->b + 4, &t->n, 4);
}

/* What QEMU's pc machine lists: two CPUs, one I/O APIC, IRQ0 on GSI 2 and
 * the PCI IRQs level/active-high. */
static void test_madt_qemu_pc(void)
{
    struct table t;
    struct acpi_cpus a;

    header(&t, 0xfee00000);
    lapic(&t, 0, 1);
    lapic(&t, 1, 1);
    ioapic(&t, 0, 0xfec00000, 0);
    iso(&t, 0, 0, 2, 0);
    iso(&t, 0, 5, 5, 0xd);
    iso(&t, 0, 9, 9, 0xd);
    finish(&t);
    madt_parse(t.b, t.n, &a);
    CHECK_EQ(a.count, 2);
    CHECK_EQ(a.lapic_phys, 0xfee00000);
    CHECK_EQ(a.ioapic_phys, 0xfec00000);
    CHECK_EQ(a.ioapic_gsi_base, 0);
    CHECK_EQ(a.isa_gsi[0], 2);
    CHECK_EQ(a.isa_flags[0], 0);
    CHECK_EQ(a.isa_gsi[1], 1);              /* not overridden: identity */
    CHECK_EQ(a.isa_gsi[9], 9);
    CHECK_EQ(a.isa_flags[9], 0xd);
}

/* Only the first I/O APIC is kept; an override of a non-ISA bus or of an
 * IRQ beyond 15 changes nothing; a truncated entry ends the walk. */
static void test_madt_edge_cases(void)
{
    struct table t;
    struct acpi_cpus a;

    header(&t, 0xfee00000);
    ioapic(&t, 0, 0xfec00000, 0);
    ioapic(&t, 1, 0xfec01000, 24);
    iso(&t, 1, 0, 7, 0);
    iso(&t, 0, 16, 7, 0);
    lapic(&t, 0, 0);                        /* disabled: not a usable CPU */
    finish(&t);
    madt_parse(t.b, t.n, &a);
    CHECK_EQ(a.ioapic_phys, 0xfec00000);
    CHECK_EQ(a.isa_gsi[0], 0);
    CHECK_EQ(a.count, 0);

    header(&t, 0xfee00000);
    lapic(&t, 3, 1);
    iso(&t, 0, 0, 2, 0);
    t.b[t.n - 9] = 40;                      /* the override claims 40 bytes */
    finish(&t);
    madt_parse(t.b, t.n, &a);
    CHECK_EQ(a.count, 1);
    CHECK_EQ(a.apic_id[0], 3);
    CHECK_EQ(a.isa_gsi[0], 0);

    madt_parse(NULL, 0, &a);                /* no table: defaults only */
    CHECK_EQ(a.count, 0);
    CHECK_EQ(a.ioapic_phys, 0);
    CHECK_EQ(a.isa_gsi[15], 15);
}

/* The clock's entry: NMI delivery, physical mode, unmasked, edge even when
 * the override says level, the source's polarity, dest in bits 63:56. */
static void test_ioapic_nmi_entry(void)
{
    uint64_t e = ioapic_nmi_entry(IOAPIC_BROADCAST, 0);

    CHECK_EQ((e >> 8) & 7, 4);              /* delivery mode NMI */
    CHECK_EQ((e >> 11) & 1, 0);             /* physical destination */
    CHECK_EQ(e & IOAPIC_MASKED, 0);
    CHECK_EQ(e & IOAPIC_TRIGGER_LEVEL, 0);
    CHECK_EQ(e & IOAPIC_POLARITY_LOW, 0);
    CHECK_EQ(e >> 56, 0xff);
    CHECK_EQ(e & 0xff, 0);                  /* the vector is unused for NMI */

    e = ioapic_nmi_entry(3, MADT_POLARITY_LOW | MADT_TRIGGER_LEVEL);
    CHECK_EQ(e & IOAPIC_TRIGGER_LEVEL, 0);
    CHECK_EQ(e & IOAPIC_POLARITY_LOW, IOAPIC_POLARITY_LOW);
    CHECK_EQ(e >> 56, 3);

    e = ioapic_nmi_entry(0, 0x1);           /* "active high" said explicitly */
    CHECK_EQ(e & IOAPIC_POLARITY_LOW, 0);
}

static void test_ioapic_pin(void)
{
    CHECK_EQ(ioapic_pin(2, 0, 24), 2);
    CHECK_EQ(ioapic_pin(23, 0, 24), 23);
    CHECK_EQ((unsigned)ioapic_pin(24, 0, 24), (unsigned)-1);
    CHECK_EQ(ioapic_pin(26, 24, 24), 2);
    CHECK_EQ((unsigned)ioapic_pin(2, 24, 24), (unsigned)-1);
}

/* A real IRQ is ended at its chip (slave IRQs at the master too); a
 * spurious IRQ7 needs no EOI, a spurious IRQ15 the master's only. */
static void test_pic_stray_eois(void)
{
    CHECK_EQ(pic_stray_eois(0, 0x01, 0), PIC_EOI_MASTER);
    CHECK_EQ(pic_stray_eois(7, 0x00, 0), 0);
    CHECK_EQ(pic_stray_eois(7, 0x01, 0), 0);    /* IRQ0 in service, IRQ7 spurious */
    CHECK_EQ(pic_stray_eois(7, 0x80, 0), PIC_EOI_MASTER);
    CHECK_EQ(pic_stray_eois(15, 0x04, 0x00), PIC_EOI_MASTER);
    CHECK_EQ(pic_stray_eois(15, 0x04, 0x80), PIC_EOI_MASTER | PIC_EOI_SLAVE);
    CHECK_EQ(pic_stray_eois(8, 0x04, 0x01), PIC_EOI_MASTER | PIC_EOI_SLAVE);
    CHECK_EQ(pic_stray_eois(16, 0xff, 0xff), 0);
}

struct test {
    const char *name;
    void (*fn)(void);
};

static const struct test tests[] = {
    { "madt_qemu_pc", test_madt_qemu_pc },
    { "madt_edge_cases", test_madt_edge_cases },
    { "ioapic_nmi_entry", test_ioapic_nmi_entry },
    { "ioapic_pin", test_ioapic_pin },
    { "pic_stray_eois", test_pic_stray_eois },
};

int main(void)
{
    int passed = 0, failed = 0;

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed_checks;
        tests[i].fn();
        int ok = failed_checks == before;
        printf("%s irq/%s\n", ok ? "PASS" : "FAIL", tests[i].name);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
