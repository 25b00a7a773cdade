/*
 * switch.S - kernel context switch and a new thread's first entry to
 * ring 3 (sched/sched.c is the caller; arch/x86_64/context.c builds the
 * first stack).
 *
 * void arch_switch(uint64_t *save_rsp, uint64_t new_rsp)
 *   Push the callee-saved registers (RBP, RBX, R12-R15) on the current
 *   kernel stack, store RSP in *save_rsp, load new_rsp, pop the other
 *   thread's registers and return into it. Interrupts off; the scheduler
 *   lock is held across the switch (released by the thread switched to).
 *
 * arch_thread_entry: where a new thread's first arch_switch returns to. RSP
 *   is then at the struct trap_frame on top of its kernel stack;
 *   sched_thread_first() finishes the switch (and drops the lock), then
 *   intr_exit (ipi_entry.S) enters ring 3 with swapgs; iretq.
 */
        .text
        .globl arch_switch
        .type arch_switch, @function
arch_switch:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size arch_switch, . - arch_switch

        .globl arch_thread_entry
        .type arch_thread_entry, @function
arch_thread_entry:
        xorl    %ebp, %ebp
        call    sched_thread_first
        jmp     intr_exit
        .size arch_thread_entry, . - arch_thread_entry
