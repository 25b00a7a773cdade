/*
 * arch/x86_64/acpi.c - RSDP, RSDT/XSDT and MADT parsing (ACPI 6.x, 5.2.5 to
 * 5.2.12). Tables are checked by their checksums; a table that fails is
 * ignored, not trusted. Runs on the boot identity map (see acpi.h).
 */
#include "arch/x86_64/acpi.h"
#include "lib/printf.h"
#include "arch/x86_64/multiboot.h"
#include "lib/string.h"

#define EBDA_SEG_PTR    0x40e
#define BIOS_ROM_START  0xe0000
#define BIOS_ROM_END    0x100000

struct rsdp {
    char sig[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;            /* revision >= 2 from here on */
    uint64_t xsdt;
    uint8_t ext_checksum, reserved[3];
} __attribute__((packed));

struct sdt {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static uint8_t sum(const void *p, uint32_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    while (n--)
        s += *b++;
    return s;
}

static const struct rsdp *scan(uint64_t start, uint64_t end)
{
    for (uint64_t a = start; a + sizeof(struct rsdp) <= end; a += 16) {
        const struct rsdp *r = (const struct rsdp *)(uintptr_t)a;
        if (memcmp(r->sig, "RSD PTR ", 8) == 0 && sum(r, 20) == 0)
            return r;
    }
    return 0;
}

static const struct rsdp *find_rsdp(void)
{
    /* UEFI firmware: the loader's copy (multiboot2), the BIOS area holds none. */
    const struct rsdp *given = multiboot_acpi_rsdp();
    if (given && memcmp(given->sig, "RSD PTR ", 8) == 0 && sum(given, 20) == 0)
        return given;

    uintptr_t bda = EBDA_SEG_PTR;
    __asm__("" : "+r"(bda));            /* a real address, not a null-page constant */
    uint64_t ebda = (uint64_t)*(volatile uint16_t *)bda << 4;
    const struct rsdp *r = 0;

    if (ebda >= 0x80000 && ebda < 0xa0000)
        r = scan(ebda, ebda + 1024);
    return r ? r : scan(BIOS_ROM_START, BIOS_ROM_END);
}

static const struct sdt *valid_sdt(uint64_t phys)
{
    const struct sdt *t = (const struct sdt *)(uintptr_t)phys;

    if (phys == 0 || phys >= (4ull << 30) || t->length < sizeof *t ||
        sum(t, t->length) != 0)
        return 0;
    return t;
}

/* The MADT through the XSDT (8-byte entries) or the RSDT (4-byte). */
static const struct sdt *find_madt(const struct rsdp *r)
{
    int wide = r->revision >= 2 && r->xsdt != 0;
    const struct sdt *root = valid_sdt(wide ? r->xsdt : r->rsdt);

    if (!root)
        return 0;
    unsigned esz = wide ? 8 : 4, n = (root->length - sizeof *root) / esz;
    const uint8_t *e = (const uint8_t *)(root + 1);
    for (unsigned i = 0; i < n; i++) {
        uint64_t p = 0;
        memcpy(&p, e + i * esz, esz);
        const struct sdt *t = valid_sdt(p);
        if (t && memcmp(t->sig, "APIC", 4) == 0)
            return t;
    }
    return 0;
}

int acpi_find_cpus(struct acpi_cpus *out)
{
    madt_parse(0, 0, out);
    const struct rsdp *r = find_rsdp();
    if (!r) {
        kprintf("acpi: no RSDP\n");
        return -1;
    }
    const struct sdt *madt = find_madt(r);
    kprintf("acpi: RSDP at %p (revision %u), MADT at %p\n", (const void *)r,
            r->revision, (const void *)madt);
    if (!madt)
        return -1;
    madt_parse((const uint8_t *)madt, madt->length, out);
    return out->count ? 0 : -1;
}
