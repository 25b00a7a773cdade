/*
 * arch/x86_64/trap.h - CPU exceptions: IDT, TSS, and the fatal-trap report.
 */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include <stdint.h>

/* Registers as isr.S saves them (lowest address first). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, err;
    uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
};

/* Load a TSS (IST1: a separate stack for double fault, NMI and machine
 * check) and an IDT with all 32 exception vectors. Call once, early. */
void trap_init(void);

/* Called by isr.S. Every exception is fatal: it prints the Redox-style
 * dump and the lab markers, then ends the run with status=panic. */
void trap_handler(struct trap_frame *f);

/* SMP additions: an interrupt gate for vectors 32..255 (or an override of
 * NMI) in the shared IDT, and loading that IDT on an application processor. */
void trap_set_gate(uint8_t vector, uint64_t entry, int ist);
void trap_load_idt(void);

#endif
