/*
 * isr.S - entry stubs for the 32 CPU exception vectors.
 *
 * Each stub makes the stack look the same (a zero error code is pushed for
 * vectors where the CPU pushes none), pushes its vector and the general
 * registers (PUSH_REGS, regs.inc), and calls trap_handler(struct
 * trap_frame *) (trap.c). trap_handler does not return for
 * exceptions today; the iretq path is kept for future interrupt vectors.
 */
#include "arch/x86_64/regs.inc"

        .macro ISR_NOERR n
isr_\n:
        pushq   $0
        pushq   $\n
        jmp     isr_common
        .endm

        .macro ISR_ERR n
isr_\n:
        pushq   $\n
        jmp     isr_common
        .endm

        .text
        ISR_NOERR 0
        ISR_NOERR 1
        ISR_NOERR 2
        ISR_NOERR 3
        ISR_NOERR 4
        ISR_NOERR 5
        ISR_NOERR 6
        ISR_NOERR 7
        ISR_ERR   8
        ISR_NOERR 9
        ISR_ERR   10
        ISR_ERR   11
        ISR_ERR   12
        ISR_ERR   13
        ISR_ERR   14
        ISR_NOERR 15
        ISR_NOERR 16
        ISR_ERR   17
        ISR_NOERR 18
        ISR_NOERR 19
        ISR_NOERR 20
        ISR_ERR   21
        ISR_NOERR 22
        ISR_NOERR 23
        ISR_NOERR 24
        ISR_NOERR 25
        ISR_NOERR 26
        ISR_NOERR 27
        ISR_NOERR 28
        ISR_ERR   29
        ISR_ERR   30
        ISR_NOERR 31

isr_common:
        /* From ring 3 (CS at 24: after vector and error code): the
         * kernel's GS (issue 5). */
        testb   $3, F_CS-F_VECTOR(%rsp)
        jz      1f
        swapgs
1:      PUSH_REGS
        cld
        movq    %rsp, %rdi
        call    trap_handler
        POP_REGS
        addq    $16, %rsp               /* vector and error code */
        testb   $3, 8(%rsp)             /* back to ring 3: its GS */
        jz      2f
        swapgs
2:      iretq

        .section .rodata
        .balign 8
        .globl isr_stubs
isr_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad isr_\n
        .endr
