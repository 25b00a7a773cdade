/*
 * sched/sched.h - threads and the preemptive scheduler (all CPUs).
 *
 * One global run queue behind one lock (sched_lock: a tlb_spin_lock, so a
 * CPU spinning for it still serves TLB shootdowns). The lock also protects
 * every thread's state, the blocked list (futex waiters and sleepers) and
 * the signal state of threads and processes (sched/signal.c).
 *
 * Kernel code runs with interrupts off; they are on only in ring 3 and in
 * a CPU's idle halt. So the kernel is not preemptible: a thread is switched
 * out when it blocks, yields, exits, or on the way back to ring 3 after
 * the tick (LAPIC timer, SCHED_HZ per CPU) asked for it (user_return).
 *
 * Switching: the lock is held across arch_switch and released by the thread
 * switched to (xv6's rule), so a thread made runnable by another CPU can
 * never be picked while its old CPU still runs on its kernel stack. Each
 * CPU has an idle thread (the context that called sched_cpu_start). A
 * switch loads the next thread's kernel stack top (TSS.RSP0, syscall
 * stack) and its process's page tables when they change; a CPU enters a
 * process's tlb_space before loading its CR3 and leaves it after loading
 * other tables, so shootdowns reach exactly the CPUs that may cache its
 * translations. The idle thread runs on the kernel's own tables.
 *
 * A thread lives in one order-2 block (16 KiB): struct thread at the
 * bottom, its kernel stack above. A dead thread's block is freed by the
 * next context on its CPU, after the switch (never on its own stack).
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stdint.h>

#include "arch/x86_64/trap.h"

#define SCHED_HZ            100
#define THREAD_BLOCK_ORDER  2

struct process;
struct sigrecord;
struct user_start;

enum thread_state { T_RUNNING, T_RUNNABLE, T_BLOCKED, T_STOPPED, T_DEAD };

struct thread {
    uint64_t ksp;               /* saved by arch_switch */
    int tid;
    volatile int state;         /* enum thread_state; sched lock */
    int idle;                   /* a CPU's idle thread */
    unsigned cpu;               /* where it runs or ran last */
    struct process *proc;
    struct thread *next;        /* run queue or blocked list */
    struct thread *sibling;     /* the process's thread list */
    uint64_t kstack_top;
    /* blocking (sched lock) */
    uint64_t wait_addr;         /* futex word (user address); 0: sleep */
    uint64_t deadline;          /* TSC; 0: none */
    int64_t wait_result;        /* 0, -ETIMEDOUT, -EINTR */
    uint64_t ctid;              /* zeroed and futex-woken at exit (join) */
    /* signals (sched/signal.c; sched lock) */
    uint64_t sig_mask, sig_pending;
    struct sigrecord *sig_queue;
    uint64_t alt_sp, alt_size;
    unsigned alt_flags, sig_depth;
    struct sigrecord *saved_ctx;        /* BUG=signal-leak only */
};

/* The lock (see above). Interrupts must be off. Not recursive. */
void sched_lock(void);
void sched_unlock(void);

/* Make the calling CPU a scheduler CPU: its idle thread is the caller's
 * context; starts its tick. Interrupts off; after syscall_init() on it. */
void sched_cpu_start(void);

/* BSP: sched_cpu_start() here, then on every AP (one at a time, each
 * running syscall_init() first), which then stay in their idle loops. */
void sched_start_cpus(void);

/* Run this CPU's idle loop (BSP) until *flag becomes non-zero. */
void sched_run_until(volatile int *flag);

/* The thread running on this CPU, or NULL when it is the idle thread. */
struct thread *sched_current(void);

/* A new thread of p that will enter ring 3 with s; not yet runnable
 * (sched_add). NULL when out of frames. Counts in p->live/threads. */
struct thread *thread_create(struct process *p, const struct user_start *s);

/* Make t runnable (from new or blocked) and kick an idle CPU. */
void sched_add(struct thread *t);

/* Give the CPU to the next runnable thread, if any (lock held; returns
 * with it held, maybe much later). The current thread's state decides:
 * T_RUNNING goes back to the queue, anything else waits to be woken. */
void schedule_locked(void);
void sched_yield(void);

/* Block the current thread (lock held) until sched_wake_locked, the
 * deadline (TSC, 0 = none) or a signal. Returns 0, -ETIMEDOUT or -EINTR.
 * The caller has checked for deliverable signals under the same lock. */
int64_t sched_block_locked(uint64_t deadline);

/* Wake t if it is blocked (result for sched_block_locked) or stopped. */
void sched_wake_locked(struct thread *t, int64_t result);

/* Nudge t: wake it (-EINTR) when blocked, kick its CPU when it runs on
 * another one, so it passes user_return soon. Lock held. */
void sched_notify_locked(struct thread *t);

/* futex: sleep while the u32 at addr equals expected (timeout ns, 0 =
 * none): 0, -EAGAIN, -ETIMEDOUT, -EINTR, -EFAULT, -EINVAL. Wake up to n
 * waiters of p on addr; returns how many (lock held for the _locked one). */
int64_t futex_wait(uint64_t addr, uint32_t expected, uint64_t timeout_ns);
int64_t futex_wake(uint64_t addr, int n);
int futex_wake_locked(struct process *p, uint64_t addr, int n);

/* Sleep ns nanoseconds: 0, or -EINTR when a signal came first. */
int64_t sched_sleep(uint64_t ns);

/* End the current thread (SYS_EXIT, signals, traps): its ctid word is
 * zeroed and woken; the last thread of a process also frees the address
 * space and records status. Never returns. */
void thread_exit(uint64_t status) __attribute__((noreturn));

/* The tick (VECTOR_TICK handler): wakes expired sleepers; from ring 3 it
 * asks for a reschedule at user_return. */
void sched_tick(int from_user);

/* On every return to ring 3 (syscall and interrupt paths, entry stubs):
 * reschedule when the tick asked, then deliver signals. */
void user_return(struct trap_frame *f);

/* Ticks taken on all CPUs, and scheduler switches, since boot. */
uint64_t sched_switches(void);

#endif
