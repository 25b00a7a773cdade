/*
 * arch/x86_64/ioapic.c - the I/O APIC's indirect registers (IOREGSEL at 0,
 * IOWIN at 0x10): version (1) and the redirection table (0x10 + 2 * pin,
 * low word first). See ioapic.h for what the kernel uses it for.
 */
#include "arch/arch.h"
#include "arch/x86_64/ioapic.h"
#include "lib/printf.h"
#include "mm/paging.h"

#define REG_VERSION     0x01
#define REG_REDIR       0x10

static volatile uint32_t *regs;
static unsigned pins;
static uint32_t gsi_base;
static uint32_t isa_gsi[ISA_IRQS];
static uint16_t isa_flags[ISA_IRQS];

static uint32_t rd(uint32_t reg)
{
    regs[0] = reg;
    return regs[4];
}

static void wr(uint32_t reg, uint32_t v)
{
    regs[0] = reg;
    regs[4] = v;
}

/* Masked low word first, then the high word, then the real low word: the
 * pin never fires with half an entry. Interrupts must be off (IOREGSEL is
 * shared state); the only callers are boot code and prof start/stop. */
static void set_entry(unsigned pin, uint64_t e)
{
    uint64_t flags = arch_irq_save();

    wr(REG_REDIR + 2 * pin, (uint32_t)IOAPIC_MASKED);
    wr(REG_REDIR + 2 * pin + 1, (uint32_t)(e >> 32));
    wr(REG_REDIR + 2 * pin, (uint32_t)e);
    arch_irq_restore(flags);
}

static int boot_mapped;

/* Read the pin count, keep the ISA overrides and mask every pin. */
static void setup(const struct acpi_cpus *a)
{
    pins = ((rd(REG_VERSION) >> 16) & 0xff) + 1;
    gsi_base = a->ioapic_gsi_base;
    for (unsigned i = 0; i < ISA_IRQS; i++) {
        isa_gsi[i] = a->isa_gsi[i];
        isa_flags[i] = a->isa_flags[i];
    }
    for (unsigned p = 0; p < pins; p++)
        set_entry(p, IOAPIC_MASKED);
}

int ioapic_init_boot(const struct acpi_cpus *a)
{
    if (!a->ioapic_phys || a->ioapic_phys >= (4ull << 30))
        return -1;
    regs = arch_phys_to_virt(a->ioapic_phys);
    setup(a);
    boot_mapped = 1;
    return 0;
}

int ioapic_init(const struct acpi_cpus *a)
{
    if (!a->ioapic_phys)
        return -1;
    if (paging_translate(IOAPIC_VA) == 0 &&
        paging_map(IOAPIC_VA, a->ioapic_phys & ~0xfffull, PAGE_WRITE) < 0)
        return -1;
    regs = (volatile uint32_t *)(uintptr_t)(IOAPIC_VA + (a->ioapic_phys & 0xfff));
    if (!boot_mapped)
        setup(a);
    kprintf("ioapic: at 0x%llx, GSI %u..%u, ISA IRQ0 -> GSI %u\n",
            (unsigned long long)a->ioapic_phys, gsi_base, gsi_base + pins - 1, isa_gsi[0]);
    return 0;
}

int ioapic_ready(void)
{
    return regs != 0;
}

int ioapic_isa_nmi_to(unsigned irq, uint8_t dest)
{
    int pin = regs && irq < ISA_IRQS ? ioapic_pin(isa_gsi[irq], gsi_base, pins) : -1;

    if (pin < 0)
        return -1;
    set_entry((unsigned)pin, ioapic_nmi_entry(dest, isa_flags[irq]));
    return 0;
}

int ioapic_isa_nmi_all(unsigned irq)
{
    return ioapic_isa_nmi_to(irq, IOAPIC_BROADCAST);
}

void ioapic_isa_mask(unsigned irq)
{
    int pin = regs && irq < ISA_IRQS ? ioapic_pin(isa_gsi[irq], gsi_base, pins) : -1;

    if (pin >= 0)
        set_entry((unsigned)pin, IOAPIC_MASKED);
}
