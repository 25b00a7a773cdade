/*
 * syscall/syscall.c - the dispatcher: number in RAX, arguments in RDI, RSI,
 * RDX, R10, R8 (syscall/abi.h), result or -errno in RAX.
 *
 * An unknown number costs one switch and a store: no lock, no lookup, so
 * the ENOSYS path measures the entry and exit themselves (bootstrap's
 * syscall.enosys.cycles).
 *
 * BUG=heavy-prologue puts back what Redox's pre-2024 syscall path did on
 * every call (see heavy_prologue): record where each saved register lives,
 * copy the saved frame into the process's context, and look the process's
 * trace state up in a locked table. Real work, done on every syscall,
 * ENOSYS included; only the latency it adds is the point.
 */
#include <stddef.h>

#include "arch/arch.h"
#include "arch/x86_64/gdt_user.h"
#include "arch/x86_64/percpu.h"
#include "lab/report.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/heap.h"
#include "mm/tlb.h"
#include "prof/profiler.h"
#include "sched/sched.h"
#include "sched/signal.h"
#include "syscall/abi.h"
#include "syscall/syscall.h"
#include "user/process.h"

_Static_assert(offsetof(struct percpu, user_rsp) == 8, "entry.S PCPU_USER_RSP");
_Static_assert(offsetof(struct percpu, syscall_rsp) == 16, "entry.S PCPU_SYSCALL_RSP");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "entry.S frame layout");

#define FRAME_WORDS (sizeof(struct trap_frame) / sizeof(uint64_t))
#define TRACE_SLOTS 16

/* Per-CPU syscall state (percpu->syscall_cpu). */
struct syscall_cpu {
    uint64_t calls;
    /* heavy-prologue: where each saved register of the current call is. */
    uint64_t *reg_loc[FRAME_WORDS];
};

static struct syscall_cpu *cpu_state[ARCH_MAX_CPUS];

#ifdef BUG_HEAVY_PROLOGUE
/* The trace (ptrace) state of each process, behind one lock, as the old
 * path consulted it on every syscall. */
static struct {
    volatile int lock;
    struct { int pid; uint64_t flags, hits; } slot[TRACE_SLOTS];
} trace_table;

static void trace_lookup(int pid)
{
    tlb_spin_lock(&trace_table.lock); /* interrupts are off: serve shootdowns while waiting */
    for (int i = 0; i < TRACE_SLOTS; i++) {
        if (trace_table.slot[i].pid == pid || trace_table.slot[i].pid == 0) {
            trace_table.slot[i].pid = pid;
            trace_table.slot[i].hits++;
            break;
        }
    }
    tlb_spin_unlock(&trace_table.lock);
}

/* What every syscall paid before the 2024 rework: register locations
 * recorded per call, the frame copied into the context, the trace state
 * looked up under a lock. Not inlined: a call of its own, as it was. */
__attribute__((noinline)) static void heavy_prologue(struct syscall_cpu *c,
                                                     struct trap_frame *f)
{
    uint64_t *w = (uint64_t *)f;
    struct process *p = process_current();

    for (size_t i = 0; i < FRAME_WORDS; i++)
        c->reg_loc[i] = &w[i];
    __asm__ volatile("" : : "r"(c->reg_loc) : "memory");
    if (p) {
        memcpy(&p->ctx_regs, f, sizeof *f);
        trace_lookup(p->pid);
    }
}
#endif

void syscall_init(void)
{
    struct percpu *pc = this_cpu();
    struct syscall_cpu *c = kmalloc(sizeof *c);

    if (!c || gdt_user_init() < 0)
        panic("syscall_init: out of memory");
    cpu_state[pc->cpu] = c;
    pc->syscall_cpu = c;
}

uint64_t syscall_count(void)
{
    uint64_t n = 0;
    for (int i = 0; i < ARCH_MAX_CPUS; i++)
        if (cpu_state[i])
            n += cpu_state[i]->calls;
    return n;
}

/* Nanoseconds since the kernel's time zero, without 128-bit division. */
static uint64_t clock_ns(void)
{
    uint64_t hz = arch_timestamp_hz(), d = arch_timestamp() - boot_tsc0;

    if (!hz)
        return 0;
    return (d / hz) * 1000000000ull + (d % hz) * 1000000000ull / hz;
}

/* SYS_INFO: counters for bootstrap's tests. */
static uint64_t info(uint64_t what)
{
    struct process *p = process_current();

    switch (what) {
    case INFO_CPUS: return arch_cpu_count();
    case INFO_CPU: return arch_cpu_id();
    case INFO_FREE_FRAMES: return falloc->free_frames();
    case INFO_SIG_OBJECTS: return signal_objects_live();
    case INFO_SIG_FRAMES: return signal_frames_live();
    case INFO_FRAMES_ADJ: return falloc->free_frames() + p->as.tables;
    case INFO_THREADS: return (uint64_t)p->threads;
    case INFO_PID: return (uint64_t)p->pid;
    default: return (uint64_t)-EINVAL;
    }
}

/* SYS_PROFILE: bootstrap leaves its benchmarks and stress tests out of
 * the profile, as kmain leaves the kernel's own (main.c). */
static int64_t sys_profile(uint64_t on)
{
    if (on > 1)
        return -EINVAL;
    if (on)
        prof_resume();
    else
        prof_pause();
    return 0;
}

/* Issue 5's calls: threads, memory, signals. -ENOSYS when unknown. */
static int64_t dispatch_sched(struct trap_frame *f, uint64_t a, uint64_t b,
                              uint64_t d, uint64_t e)
{
    switch (f->rax) {
    case SYS_THREAD_CREATE: return process_thread_create(a, b, d, e);
    case SYS_FUTEX_WAIT: return futex_wait(a, (uint32_t)b, d);
    case SYS_FUTEX_WAKE: return futex_wake(a, b > 0x7fffffff ? 0x7fffffff : (int)b);
    case SYS_MMAP: return vm_mmap(process_current(), a, b, d);
    case SYS_MUNMAP: return vm_munmap(process_current(), a, b);
    case SYS_SIGACTION: return sys_sigaction(a, b, d);
    case SYS_SIGPROCMASK: return sys_sigprocmask(a, b);
    case SYS_SIGRETURN: return (int64_t)sys_sigreturn(f);
    case SYS_KILL: return sys_kill(a, b);
    case SYS_TKILL: return sys_tkill(a, b);
    case SYS_SIGALTSTACK: return sys_sigaltstack(f, a, b);
    case SYS_SLEEP: return sched_sleep(a);
    case SYS_INFO: return (int64_t)info(a);
    case SYS_GETTID: return sched_current()->tid;
    case SYS_READY: return process_ready(process_current());
    case SYS_PROFILE: return sys_profile(a);
    default: return -ENOSYS;
    }
}

void syscall_dispatch(struct trap_frame *f)
{
    struct syscall_cpu *c = this_cpu()->syscall_cpu;
    uint64_t a = f->rdi, b = f->rsi, d = f->rdx, e = f->r10, g = f->r8;

    c->calls++;
#ifdef BUG_HEAVY_PROLOGUE
    heavy_prologue(c, f);
#endif
    switch (f->rax) {
    case SYS_EXIT:
        thread_exit(a);                         /* does not return */
    case SYS_WRITE:
        f->rax = (uint64_t)process_write(a, b, d);
        break;
    case SYS_CLOCK:
        f->rax = a == CLOCK_MONOTONIC_NS ? clock_ns()
               : a == CLOCK_TSC_HZ ? arch_timestamp_hz()
               : (uint64_t)-EINVAL;
        break;
    case SYS_YIELD:
        sched_yield();
        f->rax = 0;
        break;
    case SYS_ABI_CHECK:
        f->rax = ABI_CHECK_HASH(a, b, d, e, g);
        break;
    case SYS_THREAD_CREATE ... SYS_PROFILE:
        f->rax = (uint64_t)dispatch_sched(f, a, b, d, e);
        break;
    default:
        f->rax = (uint64_t)-ENOSYS;
        break;
    }
}
