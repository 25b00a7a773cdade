/*
 * arch/arch.h - the architecture interface that generic kernel code uses.
 *
 * Generic code (lib/, lab/, mm/, main.c) includes only this header for
 * anything machine-specific; arch/x86_64/ implements it. Keeping the list
 * short keeps mm/ compilable on the host, where tests provide fakes.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* TSC value read at the first instructions of boot.S: the kernel's time zero. */
extern uint64_t boot_tsc0;

/* Current timestamp counter. Callable from anywhere, any time. */
uint64_t arch_timestamp(void);

/* Calibrated timestamp frequency in Hz; 0 before tsc_init(). */
uint64_t arch_timestamp_hz(void);

/* Write bytes to the kernel console (COM1). Never blocks forever. */
void arch_console_write(const char *s, size_t len);

/* Tell the host the run is over (QEMU isa-debug-exit: status (code<<1)|1),
 * then stop this CPU for good. Harmless on a real PC. */
void arch_exit(uint32_t code) __attribute__((noreturn));

/* The same after a panic, but through the machine's panic device when it has one (QEMU's pvpanic:
 * the host sees GUEST_PANICKED); else arch_exit(code). */
void arch_exit_panic(uint32_t code) __attribute__((noreturn));

/* The direct map: where physical address p can be read and written. */
void *arch_phys_to_virt(uint64_t p);

/* Stop this CPU with interrupts off, forever. */
void arch_halt_forever(void) __attribute__((noreturn));

/* Disable interrupts and return the previous flags, for arch_irq_restore(). */
uint64_t arch_irq_save(void);
void arch_irq_restore(uint64_t flags);

/*
 * Fill out[0..max) with return addresses, innermost first, by walking the
 * frame-pointer chain starting at the caller of arch_backtrace (skip extra
 * frames with skip). Returns the number of addresses written.
 */
int arch_backtrace(uint64_t *out, int max, int skip);

/* Same walk from an explicit frame pointer (used for exception frames). */
int arch_backtrace_from(uint64_t rbp, uint64_t *out, int max);

/* ---- SMP (arch/x86_64/smp.c, ipi.c; added with issue 4) ---------------- */

#define ARCH_MAX_CPUS 8

/* This CPU's number: 0 is the BSP, APs are 1..arch_cpu_count()-1 in start
 * order. 0 before smp_init(). Any context, NMI included. */
unsigned arch_cpu_id(void);

/* CPUs running kernel code (1 before smp_init()). */
unsigned arch_cpu_count(void);

/* TLB maintenance on this CPU, and the shootdown IPI (vector 0x41) to cpu. */
void arch_tlb_flush_page(uint64_t va);
void arch_tlb_flush_all(void);
void arch_send_tlb_ipi(unsigned cpu);

/* A spin-wait hint for busy loops. */
void arch_cpu_relax(void);

/* Halt this CPU until an interrupt arrives or about us microseconds passed
 * (its local APIC timer). Interrupts must be enabled by the caller's state;
 * they are enabled on return. Frees the host CPU under emulation. */
void arch_nap_us(unsigned us);

/* Profiler clock (PROFILE=1): an NMI on every CPU hz times a second, in
 * ring 3 as in the kernel; every NMI samples through prof_sample(). The
 * clock's name for the profile-begin marker: "pit-ioapic-nmi" (the PIT
 * through the I/O APIC), "pit-8259-lint0-nmi" (through the 8259 and the
 * BSP's LINT0, relayed by IPI), "none". */
void arch_prof_timer_start(unsigned hz);
void arch_prof_timer_stop(void);

/* The same clock from before memory init, to the BSP only (the APs are not
 * started; arch_prof_timer_start later widens it to every CPU without a
 * gap). Returns 0, or -1 when it cannot run that early (no I/O APIC, or
 * the LINT0 wiring): sampling then starts at arch_prof_timer_start. */
int arch_prof_timer_start_boot(unsigned hz);
const char *arch_prof_clock(void);

/* ---- scheduler (arch/x86_64/switch.S, context.c, ipi.c; issue 5) ------ */

struct user_start;

/* Save callee-saved registers and RSP in *save_rsp, continue on new_rsp. */
void arch_switch(uint64_t *save_rsp, uint64_t new_rsp);

/* Build a new thread's first kernel stack below kstack_top: a user frame
 * for s (ring 3, interrupts on) and a switch frame returning into the
 * first-entry path. Returns the RSP for arch_switch. */
uint64_t arch_context_init(uint64_t kstack_top, const struct user_start *s);

/* This CPU's kernel stack for entries from ring 3 (TSS.RSP0, syscalls). */
void arch_set_kstack(uint64_t top);

/* Periodic scheduler tick on this CPU (LAPIC timer, VECTOR_TICK). */
void arch_tick_start(unsigned hz);

/* Wake cpu from hlt / make it pass through its interrupt return path. */
void arch_kick_cpu(unsigned cpu);

/* Halt until an interrupt, with interrupts on only during the halt. */
void arch_idle_wait(void);

#endif
