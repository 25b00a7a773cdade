/*
 * arch/x86_64/ipi.h - the SMP interrupt vectors (Redox's numbering) and
 * their handlers: 0x40 wakeup, 0x41 TLB shootdown, 0x30 scheduler tick,
 * NMI (profiler samples with PROFILE=1, else the fatal report), 0xff
 * spurious; 0x20..0x2f stray 8259 interrupts (pic.h).
 */
#ifndef ARCH_X86_64_IPI_H
#define ARCH_X86_64_IPI_H

#include "arch/x86_64/trap.h"

#define IPI_WAKEUP      0x40
#define IPI_TLB         0x41
#define IPI_SWITCH      0x42    /* reserved (scheduler) */
#define IPI_PIT         0x43    /* reserved */
#define IPI_PROFILE     0x44    /* reserved (Redox's profiler IPI; our clock is an NMI) */
#define VECTOR_TICK     0x30    /* each CPU's LAPIC timer: the scheduler tick */

/* Install the gates in the shared IDT. BSP, once, before any AP starts. */
void ipi_init(void);

/* Handlers, called by ipi_entry.S with interrupts off. */
void ipi_wakeup_handler(struct trap_frame *f);
void ipi_tlb_handler(struct trap_frame *f);
void ipi_nmi_handler(struct trap_frame *f);
void ipi_tick_handler(struct trap_frame *f);

#endif
