/*
 * start.S - bootstrap's entry, the syscall benchmark loop and the register
 * preservation probe.
 *
 * The kernel enters _start in ring 3 with RSP 16-byte aligned at the top
 * of a fresh stack, RDI = boot flags (syscall/abi.h BOOT_FLAG_*), RSI = the
 * TSC frequency in Hz, every other register zero.
 */
#include "../kernel/syscall/abi.h"

        .section .text.start, "ax"
        .globl _start
_start:
        xorl    %ebp, %ebp
        andq    $-16, %rsp
        call    main                    /* main(flags, tsc_hz) */
        movq    %rax, %rdi
        movl    $SYS_EXIT, %eax
        syscall
        ud2                             /* exit does not return */

/*
 * sig_trampoline: the handler's return address in every signal frame
 * (registered with each sigaction); RSP is then just above the frame's
 * first word, which the kernel finds again for SYS_SIGRETURN.
 */
        .text
        .globl sig_trampoline
sig_trampoline:
        movl    $SYS_SIGRETURN, %eax
        syscall
        ud2                             /* sigreturn does not return here */

/*
 * thread_entry: a thread made by rt_thread_start starts here with RDI =
 * its struct rt_thread and RSP 16-byte aligned at the top of its stack.
 */
        .globl thread_entry
thread_entry:
        xorl    %ebp, %ebp
        call    rt_thread_main
        ud2

/*
 * void bench_syscalls(uint64_t nr, uint64_t iters)
 * iters x 16 unrolled `mov nr, %rax; syscall` (RAX is reloaded every time:
 * the kernel returns its result there). RCX and R11 are clobbered.
 */
        .text
        .globl bench_syscalls
bench_syscalls:
        testq   %rsi, %rsi
        jz      2f
1:
        .rept 16
        movq    %rdi, %rax
        syscall
        .endr
        decq    %rsi
        jnz     1b
2:      ret

/*
 * uint64_t abi_regs_probe(uint64_t nr)
 * Load a distinct pattern into every register the ABI says the kernel
 * preserves (RBX, RBP, RDI, RSI, RDX, R8, R9, R10, R12-R15), do syscall nr,
 * and return a bit mask of the registers that changed (bit order as
 * listed). Callee-saved registers are restored before returning.
 */
        .globl abi_regs_probe
abi_regs_probe:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rdi, %rax
        movabsq $0x1111111111111101, %rbx
        movabsq $0x2222222222222202, %rbp
        movabsq $0x3333333333333303, %rdi
        movabsq $0x4444444444444404, %rsi
        movabsq $0x5555555555555505, %rdx
        movabsq $0x6666666666666606, %r8
        movabsq $0x7777777777777707, %r9
        movabsq $0x8888888888888808, %r10
        movabsq $0x9999999999999909, %r12
        movabsq $0xaaaaaaaaaaaaaa0a, %r13
        movabsq $0xbbbbbbbbbbbbbb0b, %r14
        movabsq $0xcccccccccccccc0c, %r15
        syscall
        xorl    %eax, %eax
        .macro CHECK reg, val, bit
        movabsq $\val, %rcx
        cmpq    %rcx, \reg
        je      3f
        orq     $(1 << \bit), %rax
3:
        .endm
        CHECK %rbx, 0x1111111111111101, 0
        CHECK %rbp, 0x2222222222222202, 1
        CHECK %rdi, 0x3333333333333303, 2
        CHECK %rsi, 0x4444444444444404, 3
        CHECK %rdx, 0x5555555555555505, 4
        CHECK %r8,  0x6666666666666606, 5
        CHECK %r9,  0x7777777777777707, 6
        CHECK %r10, 0x8888888888888808, 7
        CHECK %r12, 0x9999999999999909, 8
        CHECK %r13, 0xaaaaaaaaaaaaaa0a, 9
        CHECK %r14, 0xbbbbbbbbbbbbbb0b, 10
        CHECK %r15, 0xcccccccccccccc0c, 11
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret
