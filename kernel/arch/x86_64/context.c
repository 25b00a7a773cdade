/*
 * arch/x86_64/context.c - a new thread's first kernel stack, and the
 * per-CPU kernel stack switch (see arch/arch.h for the contracts).
 *
 * Layout below kstack_top (16-byte aligned):
 *   struct trap_frame   the user state: RIP, RSP, RFLAGS (IF on), CS/SS of
 *                       ring 3, RDI/RSI = the two start arguments;
 *   return address      arch_thread_entry (switch.S);
 *   RBP RBX R12..R15    zero, popped by arch_switch.
 */
#include "arch/arch.h"
#include "arch/x86_64/gdt_user.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "mm/frame.h"
#include "sched/sched.h"
#include "lib/string.h"
#include "user/process.h"

extern char arch_thread_entry[];

#define SWITCH_WORDS 7          /* six callee-saved registers + return */

uint64_t arch_context_init(uint64_t kstack_top, const struct user_start *s)
{
    struct trap_frame *f = (struct trap_frame *)(kstack_top - sizeof *f);
    uint64_t *sw = (uint64_t *)f - SWITCH_WORDS;

    memset(f, 0, sizeof *f);
    f->rip = s->rip;
    f->rsp = s->rsp;
    f->rflags = s->rflags;
    f->rdi = s->arg0;
    f->rsi = s->arg1;
    f->cs = USER_CS;
    f->ss = USER_DS;
    f->vector = 0x80;
    memset(sw, 0, SWITCH_WORDS * sizeof *sw);
    sw[SWITCH_WORDS - 1] = (uint64_t)(uintptr_t)arch_thread_entry;
    return (uint64_t)(uintptr_t)sw;
}

void arch_set_kstack(uint64_t top)
{
    struct percpu *p = this_cpu();

    gdt_user_set_kstack(top);
    /* For the profiler's NMI: the thread's block is THREAD_BLOCK_ORDER pages
     * ending at top (its struct thread at the bottom is below every frame). */
    p->kstack_hi = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    p->kstack_lo = top - (PAGE_SIZE << THREAD_BLOCK_ORDER);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    p->kstack_hi = top;
}
