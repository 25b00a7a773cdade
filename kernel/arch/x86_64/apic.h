/*
 * arch/x86_64/apic.h - the local APIC: xAPIC through MMIO, or x2APIC through
 * MSRs when CPUID.1:ECX[21] offers it (the choice is made once, on the BSP,
 * and every AP follows it). IPIs, EOI and the timer.
 */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include <stdint.h>

#define LAPIC_VA            0xffffd00000000000ull  /* xAPIC MMIO window */
#define VECTOR_SPURIOUS     0xff

/* BSP only, after paging_init: choose the mode, map the xAPIC registers
 * at LAPIC_VA (phys from the MADT), and enable this CPU's APIC. Returns 0,
 * or -1 if the registers could not be mapped. */
int lapic_init_bsp(uint64_t phys);

/* Every AP, early: enable its APIC in the BSP's mode. */
void lapic_init_ap(void);

/* "x2apic" or "xapic". */
const char *lapic_mode(void);

uint32_t lapic_id(void);
void lapic_eoi(void);

/* Fixed-vector IPI to one APIC ID; to all CPUs but this one; an NMI to all
 * CPUs but this one. Safe with interrupts on or off; not from NMI context
 * (the xAPIC ICR is two registers). */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_ipi_others(uint8_t vector);
void lapic_send_nmi_others(void);
/* The same from an NMI handler: -1 (nothing sent) when the NMI interrupted
 * this CPU between the two writes of another ICR command. */
int lapic_send_nmi_others_from_nmi(void);

/* The INIT-SIPI-SIPI sequence's two IPIs (SDM vol. 3, 9.4.4.1). */
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);

/* Periodic timer interrupts at `hz` on `vector` on this CPU (the timer is
 * calibrated against the TSC on first use), and stopping it. */
void lapic_timer_periodic(uint8_t vector, uint32_t hz);
void lapic_timer_stop(void);

/* One interrupt on `vector` after about `us` microseconds, on this CPU. */
void lapic_timer_oneshot(uint8_t vector, uint32_t us);

/* This CPU's LINT0 pin (where the 8259 PIC's output arrives in virtual-wire
 * mode) delivers NMIs (on != 0), or gets its previous setting back. */
void lapic_lint0_nmi(int on);

#endif
