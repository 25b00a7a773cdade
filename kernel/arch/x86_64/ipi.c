/*
 * arch/x86_64/ipi.c - inter-processor interrupts, the profiler's NMI clock
 * and the gates for stray 8259 interrupts.
 *
 * The NMI gate is always ipi_entry.S's GS-safe stub; without PROFILE=1 its
 * handler hands the NMI to trap.c's fatal report, and the profiler hooks
 * below compile to nothing. The scheduler tick (VECTOR_TICK) goes to
 * sched_tick().
 */
#include "arch/arch.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/unwind.h"
#include "arch/x86_64/x86.h"
#include "lib/printf.h"
#include "mm/tlb.h"
#include "prof/profiler.h"
#include "sched/sched.h"

#define NMI_VECTOR      2
#define IST_NMI         1
#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xa0
#define PIC2_DATA       0xa1
#define PIC_OCW3_POLL   0x0c
#define PIC_OCW3_ISR    0x0b
#define PIC_EOI         0x20

extern char ipi_entry_wakeup[], ipi_entry_tlb[], ipi_entry_nmi[],
            ipi_entry_spurious[], ipi_entry_tick[];
extern const uint64_t pic_stubs[16];

void ipi_init(void)
{
    trap_set_gate(IPI_WAKEUP, (uint64_t)ipi_entry_wakeup, 0);
    trap_set_gate(IPI_TLB, (uint64_t)ipi_entry_tlb, 0);
    trap_set_gate(VECTOR_SPURIOUS, (uint64_t)ipi_entry_spurious, 0);
    trap_set_gate(VECTOR_TICK, (uint64_t)ipi_entry_tick, 0);
    trap_set_gate(NMI_VECTOR, (uint64_t)ipi_entry_nmi, IST_NMI);
#ifndef BUG_NMI_EXTINT
    /* BUG=nmi-extint leaves these out, as the kernel was before (pic.h). */
    for (unsigned i = 0; i < 16; i++)
        trap_set_gate((uint8_t)(PIC_VECTOR_BASE + i), pic_stubs[i], 0);
#endif
}

static volatile uint64_t strays;

void pic_stray_handler(struct trap_frame *f)
{
    unsigned irq = (unsigned)(f->vector - PIC_VECTOR_BASE);

    outb(PIC1_CMD, PIC_OCW3_ISR);
    uint8_t master = inb(PIC1_CMD);
    outb(PIC2_CMD, PIC_OCW3_ISR);
    uint8_t slave = inb(PIC2_CMD);
    unsigned eoi = pic_stray_eois(irq, master, slave);
    if (eoi & PIC_EOI_SLAVE)
        outb(PIC2_CMD, PIC_EOI);
    if (eoi & PIC_EOI_MASTER)
        outb(PIC1_CMD, PIC_EOI);
    this_cpu()->idle = 0;
    this_cpu()->irqs++;
    /* Interrupts were on, so the interrupted code holds no kernel lock. */
    if (__atomic_add_fetch(&strays, 1, __ATOMIC_RELAXED) <= 4)
        kprintf("irq: stray 8259 interrupt IRQ %u (vector 0x%llx) on CPU %u, %s\n", irq,
                (unsigned long long)f->vector, this_cpu()->cpu,
                eoi ? "acknowledged" : "spurious");
}

uint64_t pic_strays(void)
{
    return __atomic_load_n(&strays, __ATOMIC_RELAXED);
}

#ifdef PROFILE
extern char __kernel_start[], __kernel_end[];
static void sample(const struct trap_frame *f);
#endif

void ipi_tick_handler(struct trap_frame *f)
{
    this_cpu()->idle = 0;
    this_cpu()->irqs++;
    lapic_eoi();
    sched_tick((f->cs & 3) == 3);
}

void ipi_wakeup_handler(struct trap_frame *f)
{
    (void)f;
    this_cpu()->idle = 0;
    this_cpu()->irqs++;
    lapic_eoi();
}

void ipi_tlb_handler(struct trap_frame *f)
{
    (void)f;
    this_cpu()->idle = 0;
    this_cpu()->irqs++;
    tlb_serve();
    lapic_eoi();
}

#ifdef PROFILE
/* One sample of the context f interrupted, on this CPU. NMI-safe. */
static void sample(const struct trap_frame *f)
{
    struct percpu *p = this_cpu();
    struct prof_ctx c = {
        .rip = f->rip, .rbp = f->rbp, .tsc = rdtsc(),
        .stack_lo = p->stack_lo, .stack_hi = p->stack_hi,
        .cpu = p->cpu, .user = (f->cs & 3) != 0, .idle = p->idle,
    };
    uint64_t hi = p->kstack_hi, lo = p->kstack_lo;

    /* Interrupted at a function's prologue or ret, or in a function that
     * keeps no frame: its caller's return address is at RSP (+ 8), not in
     * the frame RBP points at (unwind.h). */
    uint64_t ks = (uint64_t)__kernel_start, ke = (uint64_t)__kernel_end;
    if (!c.user && f->rip >= ks && f->rip + 8 <= ke) {
        int off = unwind_ret_offset((const uint8_t *)f->rip);
        uint64_t at = f->rsp + (uint64_t)(off == UNWIND_FRAME_SET ? 0 : off);
        int on_cpu = at >= c.stack_lo && at + 8 <= c.stack_hi;
        int on_thread = hi && at >= lo && at + 8 <= hi;
        if (on_cpu || on_thread) {
            uint64_t w = *(const uint64_t *)at;
            if (off != UNWIND_FRAME_SET ||
                unwind_frameless_return((const uint8_t *)ks, ks, ke, f->rip, w))
                c.ret0 = w;
        }
    }

    /* A thread's kernel stack holds its user state at the top (syscall entry,
     * interrupts from ring 3); a kernel sample on that stack continues there. */
    if (hi && lo < hi) {
        c.tstack_lo = lo;
        c.tstack_hi = hi;
        if (!c.user && f->rbp >= lo && f->rbp < hi) {
            const struct trap_frame *u = (const struct trap_frame *)(hi - sizeof *u);
            if ((u->cs & 3) == 3) {
                c.has_user = 1;
                c.urip = u->rip;
                c.urbp = u->rbp;
            }
        }
    }
    prof_sample(&c);
}
#endif

#ifdef PROFILE
/*
 * The profiler's clock: PIT channel 0 as a rate generator at the profiling
 * rate. Normally (CLOCK_IOAPIC) its IRQ0 goes through the I/O APIC as an NMI
 * to every CPU at once (ioapic.h says why not through the 8259); the 8259
 * stays masked and no CPU relays anything.
 *
 * Without an I/O APIC in the MADT (CLOCK_LINT0), with
 * CFLAGS_EXTRA=-DPROF_CLOCK_LINT0 and with BUG=nmi-extint: IRQ0 through the 8259, whose output the BSP's LINT0
 * turns into NMIs (the old "NMI watchdog" wiring); each NMI acknowledges
 * the 8259 (poll read + EOI) and passes the tick on to the other CPUs by an
 * NMI IPI. On QEMU this wiring also hands the 8259's vectors to the BSP as
 * ExtINT whenever it runs with interrupts on; the stray gates above take
 * them (BUG=nmi-extint has none: bootstrap dies of a #GP).
 */
#define PIT_CH0         0x40
#define PIT_CMD         0x43
#define PIT_CH0_RATE    0x34            /* channel 0, lo/hi byte, mode 2 */
#define PIT_CH0_BIOS    0x36            /* channel 0, lo/hi byte, mode 3 */
#define PIT_INPUT_HZ    1193182u

enum { CLOCK_OFF, CLOCK_IOAPIC, CLOCK_LINT0 };

static volatile int prof_clock;
static uint8_t pic_masks[2];

static void pit_program(uint8_t mode, uint32_t divisor)
{
    outb(PIT_CMD, mode);
    outb(PIT_CH0, (uint8_t)divisor);
    outb(PIT_CH0, (uint8_t)(divisor >> 8));
}

static void pit_clock_ack(void)
{
    outb(PIC1_CMD, PIC_OCW3_POLL);
    (void)inb(PIC1_CMD);                /* = INTA: IRQ0 from IRR to ISR */
    outb(PIC1_CMD, PIC_EOI);
}

void ipi_nmi_handler(struct trap_frame *f)
{
    /* With CLOCK_LINT0 the PIT's NMI arrives on the BSP only; it passes it on. */
    if (prof_clock == CLOCK_LINT0 && this_cpu()->cpu == 0) {
        pit_clock_ack();
        if (arch_cpu_count() > 1)
            (void)lapic_send_nmi_others_from_nmi();   /* skipped: the APs miss one tick */
    }
    sample(f);
}

static uint32_t pit_divisor(unsigned hz)
{
    uint32_t div = PIT_INPUT_HZ / (hz ? hz : 1);

    return div < 2 ? 2 : div > 65535 ? 65535 : div;
}

int arch_prof_timer_start_boot(unsigned hz)
{
#if !defined(BUG_NMI_EXTINT) && !defined(PROF_CLOCK_LINT0)
    int bsp = smp_prof_boot();

    if (bsp < 0)
        return -1;
    /* The BIOS leaves the 8259's IRQ0 unmasked (on vector 8): masked here,
     * the PIT's ticks reach the CPU through the I/O APIC only. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    pit_program(PIT_CH0_RATE, pit_divisor(hz));
    if (ioapic_isa_nmi_to(0, (uint8_t)bsp) < 0)
        return -1;
    prof_clock = CLOCK_IOAPIC;
    return 0;
#else
    (void)hz;
    return -1;
#endif
}

void arch_prof_timer_start(unsigned hz)
{
    /* After arch_prof_timer_start_boot the PIT already runs at hz. */
    if (prof_clock != CLOCK_IOAPIC)
        pit_program(PIT_CH0_RATE, pit_divisor(hz));
#if !defined(BUG_NMI_EXTINT) && !defined(PROF_CLOCK_LINT0)
    if (ioapic_isa_nmi_all(0) == 0) {
        prof_clock = CLOCK_IOAPIC;
        return;
    }
#endif
    pic_masks[0] = inb(PIC1_DATA);
    pic_masks[1] = inb(PIC2_DATA);
    outb(PIC2_DATA, 0xff);
    outb(PIC1_DATA, 0xfe);              /* IRQ0 only */
    prof_clock = CLOCK_LINT0;
    lapic_lint0_nmi(1);
}

void arch_prof_timer_stop(void)
{
    int clock = prof_clock;

    if (clock == CLOCK_IOAPIC) {
        ioapic_isa_mask(0);
    } else if (clock == CLOCK_LINT0) {
        lapic_lint0_nmi(0);
        outb(PIC1_DATA, pic_masks[0]);
        outb(PIC2_DATA, pic_masks[1]);
    }
    prof_clock = CLOCK_OFF;
    if (clock != CLOCK_OFF)
        pit_program(PIT_CH0_BIOS, 0);   /* 0 = 65536: the BIOS's 18.2 Hz */
}

const char *arch_prof_clock(void)
{
    return prof_clock == CLOCK_IOAPIC ? "pit-ioapic-nmi" :
           prof_clock == CLOCK_LINT0 ? "pit-8259-lint0-nmi" : "none";
}
#else
void ipi_nmi_handler(struct trap_frame *f)
{
    trap_handler(f);                    /* fatal: vector 2 is in the frame */
}
#endif

/* Halt for at most us microseconds: a one-shot of this CPU's LAPIC timer,
 * armed with interrupts off; `sti; hlt` then opens the window in one step,
 * so an early alarm still ends the hlt. */
void arch_nap_us(unsigned us)
{
    struct percpu *p = this_cpu();

    arch_irq_save();
    lapic_timer_oneshot(IPI_WAKEUP, us);
    p->idle = 1;
    __asm__ volatile("sti; hlt" : : : "memory");
    p->idle = 0;
}

void arch_send_tlb_ipi(unsigned cpu)
{
    lapic_send_ipi(percpu_blocks[cpu].apic_id, IPI_TLB);
}

void arch_tlb_flush_page(uint64_t va)
{
    invlpg(va);
}

void arch_tlb_flush_all(void)
{
    write_cr3(read_cr3());
}

void arch_cpu_relax(void)
{
    cpu_pause();
}

/* ---- scheduler support (sched/sched.h through arch.h) ----------------- */

void arch_tick_start(unsigned hz)
{
    lapic_timer_periodic(VECTOR_TICK, hz);
}

void arch_kick_cpu(unsigned cpu)
{
    lapic_send_ipi(percpu_blocks[cpu].apic_id, IPI_WAKEUP);
}

/* `sti; hlt` is one window: an interrupt pending since the caller's checks
 * still ends the hlt. Interrupts are off again on return. */
void arch_idle_wait(void)
{
    struct percpu *p = this_cpu();

    p->idle = 1;
    __asm__ volatile("sti; hlt; cli" : : : "memory");
    p->idle = 0;
}
