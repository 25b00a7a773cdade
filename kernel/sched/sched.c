/*
 * sched/sched.c - the scheduler: run queue, switching, idle loops, the
 * tick, blocking (futex, sleep), thread creation and exit. The design and
 * the locking rule are in sched.h.
 */
#include "arch/arch.h"
#include "arch/x86_64/smp.h"
#include "lab/report.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/tlb.h"
#include "sched/sched.h"
#include "sched/signal.h"
#include "syscall/abi.h"
#include "syscall/syscall.h"
#include "user/process.h"

struct cpu_sched {
    struct thread *cur, *prev;  /* prev: switched away from, not finished */
    struct thread idle;
    struct process *space;      /* whose page tables this CPU has loaded */
    volatile int online;
    int need_resched;
} __attribute__((aligned(64)));

static struct cpu_sched cpus[ARCH_MAX_CPUS];
static volatile int lk;
static struct thread *rq_head, *rq_tail, *blocked;
static int next_tid = 1;
static uint64_t switches;

void sched_lock(void) { tlb_spin_lock(&lk); }
void sched_unlock(void) { tlb_spin_unlock(&lk); }

static struct cpu_sched *mycpu(void)
{
    return &cpus[arch_cpu_id()];
}

struct thread *sched_current(void)
{
    struct thread *t = mycpu()->cur;
    return t && !t->idle ? t : 0;
}

uint64_t sched_switches(void)
{
    return switches;
}

static void enqueue(struct thread *t)
{
    t->next = 0;
    if (rq_tail)
        rq_tail->next = t;
    else
        rq_head = t;
    rq_tail = t;
}

static struct thread *dequeue(void)
{
    struct thread *t = rq_head;
    if (t) {
        rq_head = t->next;
        if (!rq_head)
            rq_tail = 0;
        t->next = 0;
    }
    return t;
}

/* Wake one idle CPU other than this one (lock held). The search starts
 * after the CPU kicked last, so threads queued in a burst wake different
 * CPUs, not the same one again before it got to run. */
static void kick_idle(void)
{
    static unsigned last;
    unsigned me = arch_cpu_id(), n = arch_cpu_count();

    for (unsigned i = 1; i <= n; i++) {
        unsigned c = (last + i) % n;
        if (c != me && cpus[c].online && cpus[c].cur->idle) {
            arch_kick_cpu(c);
            last = c;
            return;
        }
    }
}

/* Load p's page tables on this CPU (NULL: the kernel's), entering p's
 * tlb_space first and leaving the old one after. */
static void switch_space(struct cpu_sched *c, struct process *p)
{
    unsigned me = arch_cpu_id();

    if (c->space == p)
        return;
    if (p) {
        tlb_space_enter(&p->space, me);
        uvm_activate(&p->as);
    } else {
        uvm_activate_kernel();
    }
    if (c->space)
        tlb_space_leave(&c->space->space, me);
    c->space = p;
}

/* A dead thread's block goes back (lock held, on another stack). The
 * process is done when its last thread is reaped. */
static void reap(struct thread *t)
{
    struct process *p = t->proc;

    for (struct thread **pp = &p->thread_list; *pp; pp = &(*pp)->sibling) {
        if (*pp == t) {
            *pp = t->sibling;
            break;
        }
    }
    p->threads--;
    memset(t, 0x6b, sizeof *t);
    frame_free((phys_t)((uint64_t)(uintptr_t)t - (uint64_t)(uintptr_t)arch_phys_to_virt(0)),
               THREAD_BLOCK_ORDER);
    if (p->threads == 0 && p->live == 0)
        __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
}

/* After arch_switch, in the thread switched to (lock held). */
static void after_switch(void)
{
    struct cpu_sched *c = mycpu();
    struct thread *me = c->cur, *old = c->prev;

    c->prev = 0;
    if (!me->idle) {
        arch_set_kstack(me->kstack_top);
        switch_space(c, me->proc);
    } else {
        switch_space(c, 0);
    }
    if (old && old->state == T_DEAD)
        reap(old);
}

void sched_thread_first(void)
{
    after_switch();
    sched_unlock();
}

void schedule_locked(void)
{
    struct cpu_sched *c = mycpu();
    struct thread *prev = c->cur, *next;

    if (prev->state == T_RUNNING) {
        if (!rq_head)
            return;                     /* nothing else to run */
        if (!prev->idle) {
            prev->state = T_RUNNABLE;
            enqueue(prev);
        }
    }
    next = dequeue();
    if (!next)
        next = &c->idle;
    next->state = T_RUNNING;
    next->cpu = arch_cpu_id();
    if (next == prev)
        return;
    c->cur = next;
    c->prev = prev;
    switches++;
    arch_switch(&prev->ksp, next->ksp);
    after_switch();
}

void sched_yield(void)
{
    sched_lock();
    schedule_locked();
    sched_unlock();
}

void sched_add(struct thread *t)
{
    sched_lock();
    t->state = T_RUNNABLE;
    enqueue(t);
    kick_idle();
    sched_unlock();
}

static void unblock(struct thread *t)
{
    for (struct thread **pp = &blocked; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = 0;
}

void sched_wake_locked(struct thread *t, int64_t result)
{
    if (t->state == T_BLOCKED) {
        unblock(t);
        t->wait_result = result;
    } else if (t->state != T_STOPPED) {
        return;
    }
    t->state = T_RUNNABLE;
    enqueue(t);
    kick_idle();
}

void sched_notify_locked(struct thread *t)
{
    if (t->state == T_BLOCKED || t->state == T_STOPPED)
        sched_wake_locked(t, -EINTR);
    else if (t->state == T_RUNNING && t->cpu != arch_cpu_id())
        arch_kick_cpu(t->cpu);
}

int64_t sched_block_locked(uint64_t deadline)
{
    struct thread *t = mycpu()->cur;

    t->deadline = deadline;
    t->wait_result = 0;
    t->state = T_BLOCKED;
    t->next = blocked;
    blocked = t;
    schedule_locked();
    t->deadline = 0;
    return t->wait_result;
}

static uint64_t deadline_after(uint64_t ns)
{
    uint64_t hz = arch_timestamp_hz();
    return arch_timestamp() + (ns / 1000) * (hz / 1000000) + 1;
}

int futex_wake_locked(struct process *p, uint64_t addr, int n)
{
    int woken = 0;

    for (struct thread *t = blocked, *nx; t && woken < n; t = nx) {
        nx = t->next;
        if (t->proc == p && t->wait_addr == addr) {
            sched_wake_locked(t, 0);
            woken++;
        }
    }
    return woken;
}

int64_t futex_wake(uint64_t addr, int n)
{
    struct thread *t = sched_current();

    if (!addr || (addr & 3))
        return -EINVAL;
    sched_lock();
    int w = futex_wake_locked(t->proc, addr, n);
    sched_unlock();
    return w;
}

/* Block until woken at addr (0: never), the timeout, or a signal. */
static int64_t wait_on(struct thread *t, uint64_t addr, int check,
                       uint32_t expected, uint64_t timeout_ns)
{
    uint32_t v;
    int64_t r;

    sched_lock();
    if (check && user_read_u32(t->proc, addr, &v) < 0) {
        sched_unlock();
        return -EFAULT;
    }
    if (check && v != expected) {
        sched_unlock();
        return -EAGAIN;
    }
    if (signal_deliverable_locked(t)) {
        r = -EINTR;
    } else {
        t->wait_addr = addr;
        r = sched_block_locked(timeout_ns ? deadline_after(timeout_ns) : 0);
        t->wait_addr = 0;
    }
    sched_unlock();
    if (r == -EINTR)
        signal_note_interrupted(t);
    return r;
}

int64_t futex_wait(uint64_t addr, uint32_t expected, uint64_t timeout_ns)
{
    if (!addr || (addr & 3))
        return -EINVAL;
    return wait_on(sched_current(), addr, 1, expected, timeout_ns);
}

int64_t sched_sleep(uint64_t ns)
{
    int64_t r = wait_on(sched_current(), 0, 0, 0, ns ? ns : 1);
    return r == -ETIMEDOUT ? 0 : r;
}

struct thread *thread_create(struct process *p, const struct user_start *s)
{
    phys_t blk = frame_alloc(THREAD_BLOCK_ORDER);
    if (!blk)
        return 0;
    struct thread *t = arch_phys_to_virt(blk);

    memset(t, 0, sizeof *t);
    t->kstack_top = (uint64_t)(uintptr_t)t + (PAGE_SIZE << THREAD_BLOCK_ORDER);
    t->ksp = arch_context_init(t->kstack_top, s);
    t->proc = p;
    t->state = T_BLOCKED;               /* not runnable before sched_add */
    sched_lock();
    t->tid = next_tid++;
    t->sibling = p->thread_list;
    p->thread_list = t;
    p->threads++;
    p->live++;
    sched_unlock();
    return t;
}

void thread_exit(uint64_t status)
{
    struct cpu_sched *c = mycpu();
    struct thread *t = c->cur;
    struct process *p = t->proc;

    sched_lock();
    signal_thread_exit_locked(t);
    if (t->ctid && user_write_u32(p, t->ctid, 0) == 0)
        futex_wake_locked(p, t->ctid, 1 << 30);
    if (--p->live == 0) {
        if (!p->killed)
            p->exit_status = status;
        sched_unlock();
        switch_space(c, 0);             /* nobody else uses it now */
        process_teardown(p);
        sched_lock();
    }
    t->state = T_DEAD;
    schedule_locked();
    panic("thread_exit: a dead thread was scheduled");
}

void sched_tick(int from_user)
{
    struct cpu_sched *c = mycpu();

    if (!c->online)
        return;
    if (from_user)
        c->need_resched = 1;
    if (!blocked || __atomic_exchange_n(&lk, 1, __ATOMIC_ACQUIRE))
        return;                         /* busy: the next tick will look */
    uint64_t now = arch_timestamp();
    for (struct thread *t = blocked, *nx; t; t = nx) {
        nx = t->next;
        if (t->deadline && t->deadline <= now)
            sched_wake_locked(t, -ETIMEDOUT);
    }
    sched_unlock();
}

void user_return(struct trap_frame *f)
{
    struct cpu_sched *c = mycpu();

    if (c->need_resched) {
        c->need_resched = 0;
        sched_yield();
    }
    signal_deliver(f);
}

void sched_cpu_start(void)
{
    struct cpu_sched *c = mycpu();

    c->idle.idle = 1;
    c->idle.state = T_RUNNING;
    c->idle.cpu = arch_cpu_id();
    c->cur = &c->idle;
    arch_tick_start(SCHED_HZ);
    __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
}

/* This CPU's idle loop; returns when flag (if any) becomes non-zero. */
static void idle_loop(volatile int *flag)
{
    for (;;) {
        if (flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE))
            return;
        sched_lock();
        if (rq_head) {
            schedule_locked();
            sched_unlock();
            continue;
        }
        sched_unlock();
        tlb_serve();
        arch_idle_wait();
    }
}

void sched_run_until(volatile int *flag)
{
    idle_loop(flag);
}

static void ap_main(void *arg)
{
    (void)arg;
    syscall_init();
    sched_cpu_start();
    idle_loop(0);                       /* never returns */
}

void sched_start_cpus(void)
{
    static struct smp_job jobs[ARCH_MAX_CPUS];

    sched_cpu_start();
    for (unsigned c = 1; c < arch_cpu_count(); c++) {
        jobs[c].fn = ap_main;
        smp_post(c, &jobs[c]);
        while (!__atomic_load_n(&cpus[c].online, __ATOMIC_ACQUIRE)) {
            tlb_serve();
            arch_cpu_relax();
        }
    }
}
