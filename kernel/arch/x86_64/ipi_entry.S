/*
 * ipi_entry.S - entry stubs for the SMP interrupt vectors (ipi.c):
 * 0x40 wakeup, 0x41 TLB shootdown, 0x44 profiler timer, NMI (vector 2, on
 * IST1), and the spurious vector 0xff (no EOI, per the SDM).
 *
 * Each stub builds a struct trap_frame (trap.h; zero vector and error code)
 * so handlers can see the interrupted RIP, CS, RFLAGS and RBP, calls its C
 * handler with it, and returns with iretq. The handlers run with
 * interrupts off (interrupt gates).
 */
        .macro IPI_STUB name, handler
        .globl \name
\name:
        pushq   $0
        pushq   $0
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        movq    %rsp, %rdi
        call    \handler
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp
        iretq
        .endm

        .text
        IPI_STUB ipi_entry_wakeup, ipi_wakeup_handler
        IPI_STUB ipi_entry_tlb, ipi_tlb_handler
        IPI_STUB ipi_entry_profile, ipi_profile_handler
        IPI_STUB ipi_entry_nmi, ipi_nmi_handler

        .globl ipi_entry_spurious
ipi_entry_spurious:
        iretq
