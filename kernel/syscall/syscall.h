/*
 * syscall/syscall.h - the system call path: entry stub (entry.S) and
 * dispatcher (syscall.c). The ABI (numbers, registers, errno) is
 * syscall/abi.h.
 */
#ifndef SYSCALL_SYSCALL_H
#define SYSCALL_SYSCALL_H

#include <stdint.h>

#include "arch/x86_64/trap.h"

/*
 * On the calling CPU: user segments, TSS.RSP0, the syscall stack and the
 * SYSCALL MSRs (arch/x86_64/gdt_user.c), and this CPU's syscall state.
 * Needs the per-CPU block (smp_init) and the frame allocator. Panics when
 * out of memory. Once per CPU that will run user code (the BSP here, each
 * AP when it joins the scheduler: sched_start_cpus).
 */
void syscall_init(void);

/* Called by entry.S with the saved frame; the result (or -errno) goes to
 * frame->rax. Interrupts off. May block or switch threads; may not return
 * (exit). SYS_SIGRETURN rewrites the whole frame (and its vector, so that
 * entry.S leaves through iretq). */
void syscall_dispatch(struct trap_frame *f);

/* Syscalls handled since boot (the floor is never counted). */
uint64_t syscall_count(void);

#endif
