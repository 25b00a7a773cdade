/*
 * arch/x86_64/ipi.c - inter-processor interrupts and the profiler's NMIs.
 *
 * The NMI gate is always ipi_entry.S's GS-safe stub; without PROFILE=1 its
 * handler hands the NMI to trap.c's fatal report, and the profiler hooks
 * below compile to nothing. The scheduler tick (VECTOR_TICK) goes to
 * sched_tick().
 */
#include "arch/arch.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/x86.h"
#include "mm/tlb.h"
#include "prof/profiler.h"
#include "sched/sched.h"

#define NMI_VECTOR      2
#define IST_NMI         1
#define PROFILE_CPU     1       /* the CPU whose timer drives the profiler */

extern char ipi_entry_wakeup[], ipi_entry_tlb[], ipi_entry_profile[],
            ipi_entry_nmi[], ipi_entry_spurious[], ipi_entry_tick[];

void ipi_init(void)
{
    trap_set_gate(IPI_WAKEUP, (uint64_t)ipi_entry_wakeup, 0);
    trap_set_gate(IPI_TLB, (uint64_t)ipi_entry_tlb, 0);
    trap_set_gate(IPI_PROFILE, (uint64_t)ipi_entry_profile, 0);
    trap_set_gate(VECTOR_SPURIOUS, (uint64_t)ipi_entry_spurious, 0);
    trap_set_gate(VECTOR_TICK, (uint64_t)ipi_entry_tick, 0);
    trap_set_gate(NMI_VECTOR, (uint64_t)ipi_entry_nmi, IST_NMI);
}

#ifdef PROFILE
static void sample(const struct trap_frame *f);
#endif

void ipi_tick_handler(struct trap_frame *f)
{
#ifdef PROFILE
    if (prof_on_ticks())
        sample(f);
#endif
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

void ipi_profile_handler(struct trap_frame *f)
{
    (void)f;
#ifdef PROFILE
    if (arch_cpu_count() > 1)
        lapic_send_nmi_others();
    sample(f);                          /* idle if it woke us from hlt */
    this_cpu()->idle = 0;
#endif
    lapic_eoi();
}

#ifdef PROFILE
/*
 * With a single CPU there is no other CPU whose timer could send NMIs, and
 * boot code runs with interrupts off, so the clock is PIT channel 0 (rate
 * generator at the profiling rate) through the 8259 PIC, whose output the
 * BSP's LINT0 turns into NMIs (the old "NMI watchdog" wiring). Each NMI
 * acknowledges the PIC by a poll read and an EOI, so IRQ0 can rise again.
 */
#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_DATA       0xa1
#define PIC_OCW3_POLL   0x0c
#define PIC_EOI         0x20
#define PIT_CH0         0x40
#define PIT_CMD         0x43
#define PIT_CH0_RATE    0x34            /* channel 0, lo/hi byte, mode 2 */
#define PIT_CH0_BIOS    0x36            /* channel 0, lo/hi byte, mode 3 */
#define PIT_INPUT_HZ    1193182u

static volatile int pit_clock;
static uint8_t pic_masks[2];

static void pit_program(uint8_t mode, uint32_t divisor)
{
    outb(PIT_CMD, mode);
    outb(PIT_CH0, (uint8_t)divisor);
    outb(PIT_CH0, (uint8_t)(divisor >> 8));
}

static void pit_clock_start(unsigned hz)
{
    uint32_t div = PIT_INPUT_HZ / (hz ? hz : 1);

    div = div < 2 ? 2 : div > 65535 ? 65535 : div;
    pic_masks[0] = inb(PIC1_DATA);
    pic_masks[1] = inb(PIC2_DATA);
    outb(PIC2_DATA, 0xff);
    outb(PIC1_DATA, 0xfe);              /* IRQ0 only */
    pit_program(PIT_CH0_RATE, div);
    pit_clock = 1;
    lapic_lint0_nmi(1);
}

static void pit_clock_stop(void)
{
    lapic_lint0_nmi(0);
    pit_clock = 0;
    pit_program(PIT_CH0_BIOS, 0);       /* 0 = 65536: the BIOS's 18.2 Hz */
    outb(PIC1_DATA, pic_masks[0]);
    outb(PIC2_DATA, pic_masks[1]);
}

static void pit_clock_ack(void)
{
    outb(PIC1_CMD, PIC_OCW3_POLL);
    (void)inb(PIC1_CMD);                /* = INTA: IRQ0 from IRR to ISR */
    outb(PIC1_CMD, PIC_EOI);
}
#endif

void ipi_nmi_handler(struct trap_frame *f)
{
#ifdef PROFILE
    /* The PIT's NMI arrives on the BSP's LINT0; the BSP passes it on. */
    if (pit_clock && this_cpu()->cpu == 0) {
        pit_clock_ack();
        if (arch_cpu_count() > 1)
            (void)lapic_send_nmi_others_from_nmi();   /* skipped: the APs miss one tick */
    }
    sample(f);
#else
    trap_handler(f);                    /* fatal: vector 2 is in the frame */
#endif
}

static volatile int prof_timer_cpu = -1;   /* whose timer is periodic */

/* Runs on the profiler CPU (smp_call_on). */
static void timer_on(void *arg)
{
    prof_timer_cpu = (int)arch_cpu_id();
    lapic_timer_periodic(IPI_PROFILE, (uint32_t)(uintptr_t)arg);
}

static void timer_off(void *arg)
{
    (void)arg;
    lapic_timer_stop();
    prof_timer_cpu = -1;
}

/* The profiler's periodic timer, where it runs, doubles as the alarm. The
 * timer is armed with interrupts off and `sti; hlt` then opens the window
 * in one step, so an early alarm still ends the hlt. */
void arch_nap_us(unsigned us)
{
    struct percpu *p = this_cpu();

    arch_irq_save();
    if ((int)p->cpu != prof_timer_cpu)
        lapic_timer_oneshot(IPI_WAKEUP, us);
    p->idle = 1;
    __asm__ volatile("sti; hlt" : : : "memory");
    p->idle = 0;
}

/* CPU PROFILE_CPU's LAPIC timer; with one CPU, the PIT clock above. Both
 * stop when the scheduler starts (prof_ticks): its ticks sample from then. */
void arch_prof_timer_start(unsigned hz)
{
#ifdef PROFILE
    if (arch_cpu_count() <= PROFILE_CPU) {
        pit_clock_start(hz);
        return;
    }
#endif
    smp_call_on(PROFILE_CPU, timer_on, (void *)(uintptr_t)hz);
}

void arch_prof_timer_stop(void)
{
#ifdef PROFILE
    if (pit_clock) {
        pit_clock_stop();
        return;
    }
#endif
    smp_call_on(PROFILE_CPU, timer_off, 0);
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
