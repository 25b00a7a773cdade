/*
 * arch/x86_64/apic.c - local APIC access (SDM vol. 3, chapter 11).
 *
 * Register offsets are the xAPIC MMIO ones; in x2APIC mode register r is
 * MSR 0x800 + (r >> 4) and the ICR is one 64-bit MSR. The xAPIC page is
 * mapped through paging_map, i.e. write-back by PAT; the MTRRs of PCs (and
 * QEMU) make the APIC range uncacheable, which wins.
 */
#include "arch/arch.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/x86.h"
#include "mm/paging.h"

#define MSR_APIC_BASE       0x1b
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_X2APIC    (1ull << 10)
#define MSR_X2APIC_BASE     0x800

#define REG_ID          0x020
#define REG_TPR         0x080
#define REG_EOI         0x0b0
#define REG_SVR         0x0f0
#define REG_ICR_LO      0x300
#define REG_ICR_HI      0x310
#define REG_LVT_TIMER   0x320
#define REG_TIMER_INIT  0x380
#define REG_TIMER_CUR   0x390
#define REG_TIMER_DIV   0x3e0
#define REG_LVT_LINT0   0x350

#define SVR_ENABLE      0x100
#define ICR_PENDING     (1u << 12)
#define ICR_ASSERT      (1u << 14)
#define ICR_NMI         (4u << 8)
#define ICR_INIT        (5u << 8)
#define ICR_STARTUP     (6u << 8)
#define ICR_OTHERS      (3u << 18)
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_DM_NMI      (4u << 8)       /* NMI delivery: always edge-triggered */
#define TIMER_DIV_16    0x3

static int x2apic;
static volatile uint32_t *mmio;
static uint64_t timer_hz;           /* timer ticks per second at divide 16 */

static uint64_t timer_calibrate(void);

static uint32_t rd(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
    return mmio[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
    else
        mmio[reg / 4] = v;
}

static void enable_this_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

    /* Disabled -> x2APIC directly is an invalid transition: via xAPIC. */
    wrmsr(MSR_APIC_BASE, base);
    if (x2apic)
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
    wr(REG_TPR, 0);
    wr(REG_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
}

/* The legacy 8259 pair: remapped to vectors 0x20..0x2f (away from the
 * exception vectors: the BIOS leaves IRQ0 on vector 8) and fully masked.
 * Interrupts run in ring 3 since issue 5; only the local APIC delivers. */
static void pic_mask_all(void)
{
    static const uint8_t icw[2][4] = { { 0x11, 0x20, 0x04, 0x01 },
                                       { 0x11, 0x28, 0x02, 0x01 } };
    for (int i = 0; i < 4; i++) {
        outb(i ? 0x21 : 0x20, icw[0][i]);
        outb(i ? 0xa1 : 0xa0, icw[1][i]);
    }
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

int lapic_init_bsp(uint64_t phys)
{
    uint32_t a, b, c, d;

    pic_mask_all();

    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    x2apic = (c >> 21) & 1;
    if (!x2apic) {
        if (!phys)
            phys = rdmsr(MSR_APIC_BASE) & ~0xfffull;
        if (paging_translate(LAPIC_VA) == 0 &&
            paging_map(LAPIC_VA, phys & ~0xfffull, PAGE_WRITE) < 0)
            return -1;
        mmio = (volatile uint32_t *)LAPIC_VA;
    }
    enable_this_cpu();
    timer_hz = timer_calibrate();       /* once; every CPU's timer runs alike */
    return 0;
}

void lapic_init_ap(void)
{
    enable_this_cpu();
}

const char *lapic_mode(void)
{
    return x2apic ? "x2apic" : "xapic";
}

uint32_t lapic_id(void)
{
    return x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

void lapic_eoi(void)
{
    wr(REG_EOI, 0);
}

/* Set while this CPU is between its two xAPIC ICR writes: an NMI must not
 * send then (its HI write would redirect the interrupted IPI). */
static volatile uint8_t icr_busy[256];     /* by xAPIC id: valid before percpu is */

/* One ICR write, with interrupts off so that an interrupt handler on this
 * CPU cannot interleave its own ICR write between ours (xAPIC: HI then LO);
 * NMIs check icr_busy (lapic_send_nmi_others_from_nmi). */
static void send_icr(uint32_t dest, uint32_t low)
{
    uint64_t flags = arch_irq_save();

    if (x2apic) {
        wrmsr(MSR_X2APIC_BASE + (REG_ICR_LO >> 4), ((uint64_t)dest << 32) | low);
    } else {
        uint32_t cpu = rd(REG_ID) >> 24;
        icr_busy[cpu] = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        while (rd(REG_ICR_LO) & ICR_PENDING)
            cpu_pause();
        wr(REG_ICR_HI, dest << 24);
        wr(REG_ICR_LO, low);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        icr_busy[cpu] = 0;
    }
    arch_irq_restore(flags);
}

int lapic_send_nmi_others_from_nmi(void)
{
    if (!x2apic && icr_busy[rd(REG_ID) >> 24])
        return -1;
    send_icr(0, ICR_OTHERS | ICR_ASSERT | ICR_NMI);
    return 0;
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    send_icr(apic_id, ICR_ASSERT | vector);
}

void lapic_send_ipi_others(uint8_t vector)
{
    send_icr(0, ICR_OTHERS | ICR_ASSERT | vector);
}

void lapic_send_nmi_others(void)
{
    send_icr(0, ICR_OTHERS | ICR_ASSERT | ICR_NMI);
}

void lapic_send_init(uint32_t apic_id)
{
    send_icr(apic_id, ICR_INIT | ICR_ASSERT);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
    send_icr(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

/* Timer ticks per second at divide-by-16, measured over 10 ms of TSC. */
static uint64_t timer_calibrate(void)
{
    uint64_t hz = arch_timestamp_hz(), t0;

    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, LVT_MASKED);
    wr(REG_TIMER_INIT, 0xffffffffu);
    t0 = arch_timestamp();
    while (arch_timestamp() - t0 < hz / 100)
        cpu_pause();
    uint32_t left = rd(REG_TIMER_CUR);
    wr(REG_TIMER_INIT, 0);
    return (uint64_t)(0xffffffffu - left) * 100;
}

void lapic_timer_periodic(uint8_t vector, uint32_t hz)
{
    if (hz == 0) {
        lapic_timer_stop();
        return;
    }
    if (!timer_hz)
        timer_hz = timer_calibrate();
    uint64_t count = hz ? timer_hz / hz : 0;
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, LVT_PERIODIC | vector);
    wr(REG_TIMER_INIT, count ? (uint32_t)count : 1);
}

void lapic_timer_stop(void)
{
    wr(REG_LVT_TIMER, LVT_MASKED);
    wr(REG_TIMER_INIT, 0);
}

void lapic_timer_oneshot(uint8_t vector, uint32_t us)
{
    if (!timer_hz)
        timer_hz = timer_calibrate();
    uint64_t count = timer_hz / 1000000 * us;
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, vector);
    wr(REG_TIMER_INIT, count ? (uint32_t)count : 1);
}

static uint32_t lint0_saved;

void lapic_lint0_nmi(int on)
{
    if (on) {
        lint0_saved = rd(REG_LVT_LINT0);
        wr(REG_LVT_LINT0, LVT_DM_NMI);
    } else {
        wr(REG_LVT_LINT0, lint0_saved);
    }
}
