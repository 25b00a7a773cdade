/*
 * syscall/entry.S - the SYSCALL entry (Redox's path), and entering and
 * leaving ring 3 for the kernel's user_run().
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
 *   5. restore; if the return RIP is not a canonical lower-half address
 *      (bits 63:47 not all zero: SYSRET would #GP in ring 0 on the user's
 *      stack on Intel, CVE-2012-0217) or RFLAGS.TF is set, leave through
 *      iretq; else swapgs; sysretq.
 * Interrupts stay off for the whole syscall (SFMASK cleared IF).
 */
#include "syscall/abi.h"

#define PCPU_USER_RSP       8       /* struct percpu, checked in syscall.c */
#define PCPU_SYSCALL_RSP    16
#define USER_DS             0x2b
#define USER_CS             0x33
#define SYSCALL_VECTOR      0x80
#define RFLAGS_TF           0x100

/* Frame offsets from RSP once all registers are pushed (struct trap_frame). */
#define F_RIP               136
#define F_RFLAGS            152

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
        xorl    %ebp, %ebp              /* backtraces end here */
        movq    %rsp, %rdi
        call    syscall_dispatch

        /* RCX is restored below either way: use it as scratch. */
        movq    F_RIP(%rsp), %rcx
        shrq    $47, %rcx
        jnz     .Liret
        testl   $RFLAGS_TF, F_RFLAGS(%rsp)
        jnz     .Liret

        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11                    /* replaced by RFLAGS below */
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx                    /* replaced by RIP below */
        popq    %rbx
        popq    %rax
        addq    $16, %rsp
        movq    0(%rsp), %rcx
        movq    16(%rsp), %r11
        movq    24(%rsp), %rsp
        swapgs
        sysretq

.Liret:
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
        swapgs
        iretq
        .size syscall_entry, . - syscall_entry

/*
 * uint64_t user_enter(struct user_kctx *k, const struct user_start *s)
 * Save the kernel's callee-saved registers, RFLAGS and RSP in *k, then
 * iretq to ring 3 at s->rip with s->rsp, s->rflags, RDI = s->arg0,
 * RSI = s->arg1 and every other register zero. Returns (through
 * user_leave) the value passed to user_leave.
 */
        .globl user_enter
        .type user_enter, @function
user_enter:
        pushfq
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cli                             /* no interrupt with the user GS */
        movq    %rsp, (%rdi)
        pushq   $USER_DS
        pushq   8(%rsi)
        pushq   16(%rsi)
        pushq   $USER_CS
        pushq   0(%rsi)
        movq    24(%rsi), %rdi
        movq    32(%rsi), %rsi
        xorl    %eax, %eax
        xorl    %ebx, %ebx
        xorl    %ecx, %ecx
        xorl    %edx, %edx
        xorl    %ebp, %ebp
        xorl    %r8d, %r8d
        xorl    %r9d, %r9d
        xorl    %r10d, %r10d
        xorl    %r11d, %r11d
        xorl    %r12d, %r12d
        xorl    %r13d, %r13d
        xorl    %r14d, %r14d
        xorl    %r15d, %r15d
        swapgs
        iretq
        .size user_enter, . - user_enter

/*
 * void user_leave(struct user_kctx *k, uint64_t value)  (never returns)
 * Back to the kernel context user_enter saved in *k, from any kernel stack
 * (the syscall stack, a trap from ring 3); user_enter returns `value`.
 * GS must already be the kernel's (the entry paths swapped it).
 */
        .globl user_leave
        .type user_leave, @function
user_leave:
        movq    (%rdi), %rsp
        movq    %rsi, %rax
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        popfq
        ret
        .size user_leave, . - user_leave
