/*
 * syscall/entry.S - the SYSCALL entry (Redox's path).
 *
 * syscall_entry: the CPU arrives from ring 3 with RCX = user RIP, R11 =
 * user RFLAGS, IF/TF/DF/AC cleared (SFMASK), on the user's stack and GS.
 *   1. swapgs (GS base = this CPU's struct percpu);
 *   2. SYS_FLOOR: swapgs; sysretq at once: no stack, no other register;
 *   3. save the user RSP in the per-CPU block, load the CPU's syscall stack,
 *      push an iret frame (SS, RSP, RFLAGS, CS, RIP), a zero error code, the
 *      pseudo-vector SYSCALL_VECTOR and all 15 general registers: a struct
 *      trap_frame (arch/x86_64/trap.h), as isr.S builds it;
 *   4. syscall_dispatch(frame) (syscall.c) puts the result in frame->rax;
 *      user_return(frame) (sched/sched.c) may switch threads and deliver a
 *      signal (which rewrites the frame);
 *   5. restore; if the return RIP is not a canonical lower-half address
 *      (bits 63:47 not all zero: SYSRET would #GP in ring 0 on the user's
 *      stack on Intel, CVE-2012-0217), RFLAGS.TF is set, or the frame's
 *      vector is no longer SYSCALL_VECTOR (sigreturn restored a full
 *      context, RCX and R11 included), leave through iretq; else swapgs;
 *      sysretq.
 * Interrupts stay off for the whole syscall (SFMASK cleared IF); the
 * user's RFLAGS (IF on) come back with sysretq/iretq. The stack is the
 * running thread's kernel stack (the scheduler updates syscall_rsp).
 */
#include "arch/x86_64/regs.inc"
#include "syscall/abi.h"

#define PCPU_USER_RSP       8       /* struct percpu, checked in syscall.c */
#define PCPU_SYSCALL_RSP    16
#define USER_DS             0x2b
#define USER_CS             0x33
#define SYSCALL_VECTOR      0x80
#define RFLAGS_TF           0x100

        .text
        .globl syscall_entry
        .type syscall_entry, @function
syscall_entry:
        swapgs
        cmpq    $SYS_FLOOR, %rax
        jne     1f
        swapgs
        sysretq

1:      movq    %rsp, %gs:PCPU_USER_RSP
        movq    %gs:PCPU_SYSCALL_RSP, %rsp
        pushq   $USER_DS
        pushq   %gs:PCPU_USER_RSP
        pushq   %r11
        pushq   $USER_CS
        pushq   %rcx
        pushq   $0
        pushq   $SYSCALL_VECTOR
        PUSH_REGS
        xorl    %ebp, %ebp              /* backtraces end here */
        movq    %rsp, %rdi
        call    syscall_dispatch
        movq    %rsp, %rdi
        call    user_return

        cmpq    $SYSCALL_VECTOR, F_VECTOR(%rsp)
        jne     .Liret
        /* RCX is restored below either way: use it as scratch. */
        movq    F_RIP(%rsp), %rcx
        shrq    $47, %rcx
        jnz     .Liret
        testl   $RFLAGS_TF, F_RFLAGS(%rsp)
        jnz     .Liret

        POP_REGS                        /* RCX, R11: replaced below */
        addq    $16, %rsp
        movq    0(%rsp), %rcx
        movq    16(%rsp), %r11
        movq    24(%rsp), %rsp
        swapgs
        sysretq

.Liret:
        POP_REGS
        addq    $16, %rsp
        swapgs
        iretq
        .size syscall_entry, . - syscall_entry

