/*
 * ipi_entry.S - entry stubs for the interrupt vectors (ipi.c): 0x40 wakeup,
 * 0x41 TLB shootdown, 0x30 scheduler tick, NMI (vector 2, on IST1), the
 * spurious vector 0xff (no EOI, per the SDM), and 0x20..0x2f, the 8259's
 * vectors, whose stray interrupts pic_stray_handler takes (pic.h).
 *
 * Each stub builds a struct trap_frame (trap.h; zero error code, the vector)
 * so handlers see the interrupted RIP, CS, RFLAGS and RBP, calls its C
 * handler with it, and returns with iretq. Handlers run with interrupts
 * off (interrupt gates).
 *
 * GS: interrupts are on only in ring 3 and in the idle loop, so a maskable
 * interrupt arrives with the user's GS exactly when the saved CS has RPL 3:
 * swapgs on entry and before iretq then (as isr.S). From ring 3 the stub
 * also calls user_return(frame) (sched/sched.c) after the handler: the
 * place where a preempted thread is switched out and where signals are
 * delivered. intr_exit is the common way back, also used by a new thread's
 * first entry to ring 3 (switch.S).
 *
 * The NMI can also land in the syscall entry/exit windows (ring 0 code
 * with the user GS, right before or after swapgs), so its CS says nothing
 * about GS: the NMI stub reads IA32_GS_BASE and swaps only when it does not
 * point into percpu_blocks (percpu_gs_lo/hi), and swaps back on the way out.
 */
#include "arch/x86_64/regs.inc"

#define MSR_GS_BASE     0xC0000101

        .macro IPI_STUB name, handler, vector
        .globl \name
\name:
        pushq   $0
        pushq   $\vector
        testb   $3, F_CS-F_VECTOR(%rsp)  /* before PUSH_REGS */
        jz      1f
        swapgs
1:      PUSH_REGS
        cld
        movq    %rsp, %rdi
        call    \handler
        testb   $3, F_CS(%rsp)
        jz      intr_exit
        movq    %rsp, %rdi
        call    user_return             /* may switch threads, deliver signals */
        jmp     intr_exit
        .endm

        .text
/* RSP at a struct trap_frame: restore it and iretq (swapgs to ring 3). */
        .globl intr_exit
intr_exit:
        POP_REGS
        addq    $16, %rsp               /* vector and error code */
        testb   $3, 8(%rsp)
        jz      2f
        swapgs
2:      iretq

        IPI_STUB ipi_entry_wakeup, ipi_wakeup_handler, 0x40
        IPI_STUB ipi_entry_tlb, ipi_tlb_handler, 0x41
        IPI_STUB ipi_entry_tick, ipi_tick_handler, 0x30

        .globl ipi_entry_nmi
ipi_entry_nmi:
        pushq   $0
        pushq   $2
        PUSH_REGS
        cld
        xorl    %ebx, %ebx              /* RBX (saved above): 1 = swapped */
        movl    $MSR_GS_BASE, %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rax, %rdx
        cmpq    percpu_gs_lo(%rip), %rdx
        jb      3f
        cmpq    percpu_gs_hi(%rip), %rdx
        jb      4f
3:      swapgs
        movl    $1, %ebx
4:      movq    %rsp, %rdi
        call    ipi_nmi_handler
        testl   %ebx, %ebx
        jz      5f
        swapgs
5:      POP_REGS
        addq    $16, %rsp
        iretq

        .globl ipi_entry_spurious
ipi_entry_spurious:
        iretq

        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        IPI_STUB pic_entry_\n, pic_stray_handler, (0x20 + \n)
        .endr

        .section .rodata
        .balign 8
        .globl pic_stubs
pic_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        .quad pic_entry_\n
        .endr
