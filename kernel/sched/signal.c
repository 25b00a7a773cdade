/*
 * sched/signal.c - signals, the 2024 design; see signal.h. All state is
 * under the sched lock; user memory is written and read through the
 * process's page tables (user/vm.c), never through a copied kernel stack.
 */
#include "arch/arch.h"
#include "arch/x86_64/gdt_user.h"
#include "lab/report.h"
#include "lib/string.h"
#include "sched/sched.h"
#include "sched/signal.h"
#include "syscall/abi.h"
#include "user/process.h"
#include "user/uvm.h"

#define BIT(s)          (1ull << (s))
#define UNMASKABLE      (BIT(SIGKILL) | BIT(SIGSTOP))
#define DEFAULT_IGNORED (BIT(SIGCHLD) | BIT(SIGCONT))
#define POOL_SIZE       256
#define SIGRETURN_VECTOR 0x81           /* entry.S: leave through iretq */
#define USER_RFLAGS_OK  0x40cd5ull      /* CF PF AF ZF SF DF OF AC */
#define RFLAGS_BASE     0x202ull        /* IF on, bit 1 */
#define RED_ZONE        128

struct sigrecord {
    struct sigrecord *next;
    int signo, sender, used;
};

static struct sigrecord pool[POOL_SIZE];
static uint64_t objects_live, frames_live;

uint64_t signal_objects_live(void) { return objects_live; }
uint64_t signal_frames_live(void) { return frames_live; }

/* A record from the pool (lock held); NULL when the pool is empty. */
static struct sigrecord *rec_alloc(int signo, int sender)
{
    for (int i = 0; i < POOL_SIZE; i++) {
        if (!pool[i].used) {
            pool[i] = (struct sigrecord){ 0, signo, sender, 1 };
            objects_live++;
            return &pool[i];
        }
    }
    return 0;
}

static void rec_free(struct sigrecord *r)
{
    if (!r->used)
        panic("signal: record freed twice");
    r->used = 0;
    objects_live--;
}

static void free_queue(struct sigrecord **q)
{
    while (*q) {
        struct sigrecord *r = *q;
        *q = r->next;
        rec_free(r);
    }
}

/* Take signal sig off a queue and its mask bit; the sender, or -1. */
static int take(struct sigrecord **q, uint64_t *pending, int sig)
{
    int sender = -1;

    for (struct sigrecord **pp = q; *pp; pp = &(*pp)->next) {
        if ((*pp)->signo == sig) {
            struct sigrecord *r = *pp;
            *pp = r->next;
            sender = r->sender;
            rec_free(r);
            break;
        }
    }
    *pending &= ~BIT(sig);
    return sender;
}

int signal_deliverable_locked(const struct thread *t)
{
    uint64_t pend = t->sig_pending | t->proc->sig_pending;
    return (pend & (~t->sig_mask | UNMASKABLE)) != 0;
}

/* Queue sig for t (or, t NULL, for p) and nudge a thread that can take it. */
static void post_locked(struct process *p, struct thread *t, int sig, int sender)
{
    struct sigrecord **q = t ? &t->sig_queue : &p->sig_queue;
    uint64_t *pend = t ? &t->sig_pending : &p->sig_pending;

    if (sig == SIGCONT || sig == SIGKILL) {
        for (struct thread *x = p->thread_list; x; x = x->sibling) {
            take(&x->sig_queue, &x->sig_pending, SIGSTOP);
            if (x->state == T_STOPPED)
                sched_wake_locked(x, 0);
        }
        take(&p->sig_queue, &p->sig_pending, SIGSTOP);
    }
    if (sig == SIGKILL) {
        signal_kill_process_locked(p, 128 + SIGKILL);
        return;
    }
    if (!(*pend & BIT(sig))) {
        struct sigrecord *r = rec_alloc(sig, sender);
        if (r) {
            r->next = *q;
            *q = r;
        }
        *pend |= BIT(sig);              /* even without a record: not lost */
    }
    if (t) {
        if (!(t->sig_mask & BIT(sig)) || sig == SIGSTOP)
            sched_notify_locked(t);
        return;
    }
    for (struct thread *x = p->thread_list; x; x = x->sibling) {
        if (x->state != T_DEAD && (!(x->sig_mask & BIT(sig)) || sig == SIGSTOP)) {
            sched_notify_locked(x);
            return;
        }
    }
}

void signal_kill_process_locked(struct process *p, uint64_t status)
{
    if (!p->killed) {
        p->killed = 1;
        p->exit_status = status;
    }
    for (struct thread *x = p->thread_list; x; x = x->sibling) {
        if (x->state == T_DEAD)
            continue;
        x->sig_pending |= BIT(SIGKILL);
        sched_notify_locked(x);
    }
}

static int valid_sig(uint64_t sig)
{
    return sig >= 1 && sig < NSIG;
}

int64_t sys_kill(uint64_t pid, uint64_t sig)
{
    struct thread *me = sched_current();
    struct process *p = process_by_pid((int)pid);

    if (!p)
        return -ESRCH;
    if (sig == 0)
        return 0;
    if (!valid_sig(sig))
        return -EINVAL;
    sched_lock();
    post_locked(p, 0, (int)sig, me->tid);
    sched_unlock();
    return 0;
}

int64_t sys_tkill(uint64_t tid, uint64_t sig)
{
    struct thread *me = sched_current(), *t;
    int64_t r = -ESRCH;

    if (sig && !valid_sig(sig))
        return -EINVAL;
    sched_lock();
    for (t = me->proc->thread_list; t; t = t->sibling) {
        if ((uint64_t)t->tid == tid && t->state != T_DEAD) {
            if (sig)
                post_locked(me->proc, t, (int)sig, me->tid);
            r = 0;
            break;
        }
    }
    sched_unlock();
    return r;
}

int64_t sys_sigaction(uint64_t sig, uint64_t act, uint64_t oldact)
{
    struct process *p = sched_current()->proc;
    struct k_sigaction a, old;

    if (!valid_sig(sig) || (act && (sig == SIGKILL || sig == SIGSTOP)))
        return -EINVAL;
    if (act && copy_from_user(p, &a, act, sizeof a) < 0)
        return -EFAULT;
    /* The handler becomes a return RIP: a non-canonical one would fault
     * on the kernel's iretq (ring 0, user GS). */
    if (act && a.handler > SIG_IGN &&
        (!a.restorer || a.handler >= USER_TOP || a.restorer >= USER_TOP))
        return -EINVAL;
    sched_lock();
    old = p->act[sig];
    if (act) {
        a.mask &= ~UNMASKABLE;
        p->act[sig] = a;
        if (a.restorer)
            p->sig_trampoline = a.restorer;     /* one per process */
    }
    sched_unlock();
    if (oldact && copy_to_user(p, oldact, &old, sizeof old) < 0)
        return -EFAULT;
    return 0;
}

int64_t sys_sigprocmask(uint64_t how, uint64_t set)
{
    struct thread *t = sched_current();

    if (how > SIG_SETMASK)
        return -EINVAL;
    sched_lock();
    uint64_t old = t->sig_mask;
    if (how == SIG_BLOCK)
        t->sig_mask |= set;
    else if (how == SIG_UNBLOCK)
        t->sig_mask &= ~set;
    else
        t->sig_mask = set;
    t->sig_mask &= ~(UNMASKABLE | BIT(0) | BIT(63));
    sched_unlock();
    return (int64_t)old;
}

static int on_altstack(const struct thread *t, uint64_t sp)
{
    return t->alt_size && sp > t->alt_sp && sp - t->alt_sp <= t->alt_size;
}

int64_t sys_sigaltstack(struct trap_frame *f, uint64_t ss, uint64_t old)
{
    struct thread *t = sched_current();
    struct k_stack n, o = { t->alt_sp, t->alt_size ? 0 : SS_DISABLE, t->alt_size };

    if (on_altstack(t, f->rsp))
        o.flags = SS_ONSTACK;
    if (old && copy_to_user(t->proc, old, &o, sizeof o) < 0)
        return -EFAULT;
    if (!ss)
        return 0;
    if (copy_from_user(t->proc, &n, ss, sizeof n) < 0)
        return -EFAULT;
    if (on_altstack(t, f->rsp))
        return -EPERM;
    if (n.flags & SS_DISABLE) {
        t->alt_sp = t->alt_size = 0;
        return 0;
    }
    if (n.size < MINSIGSTKSZ)
        return -ENOMEM;
    if (n.sp + n.size < n.sp || n.sp + n.size > USER_TOP)
        return -EINVAL;
    t->alt_sp = n.sp;
    t->alt_size = n.size;
    return 0;
}

/* Write the frame for sig (action a) and point f at the handler. 0, or -1
 * when the frame could not be written (no trampoline, bad stack). */
static int push_frame(struct thread *t, struct trap_frame *f, int sig, int sender,
                      const struct k_sigaction *a)
{
    struct process *p = t->proc;
    struct sig_frame fr;
    uint64_t sp = f->rsp;

    if (!p->sig_trampoline)
        return -1;
    if ((a->flags & SA_ONSTACK) && t->alt_size && !on_altstack(t, sp))
        sp = t->alt_sp + t->alt_size;
    else
        sp -= RED_ZONE;
    sp = ((sp - sizeof fr) & ~15ull) - 8;       /* handler entry: RSP+8 aligned */
    sched_lock();
    uint64_t new_mask = t->sig_mask | a->mask | ((a->flags & SA_NODEFER) ? 0 : BIT(sig));
    fr = (struct sig_frame){
        .restorer = p->sig_trampoline, .signo = (uint64_t)sig,
        .code = (uint64_t)(int64_t)sender, .flags = a->flags, .handler = a->handler,
        .old_mask = t->sig_mask, .handler_mask = new_mask & ~UNMASKABLE,
        .rip = f->rip, .rflags = f->rflags, .rsp = f->rsp,
        .magic = SIGFRAME_MAGIC ^ sp,
    };
    sched_unlock();
    memcpy(fr.regs, f, sizeof fr.regs);
    if (copy_to_user(p, sp, &fr, sizeof fr) < 0)
        return -1;
    sched_lock();
    t->sig_mask = fr.handler_mask;
    t->sig_depth++;
    frames_live++;
    sched_unlock();
    f->rip = a->handler;
    f->rsp = sp;
    f->rdi = (uint64_t)sig;
    f->rsi = sp;
    f->rdx = 0;
    f->rflags = (f->rflags & ~0x500ull) | RFLAGS_BASE;     /* TF, DF off */
    return 0;
}

/* Take the next deliverable signal (lock held): its number and sender, or
 * 0. SIGKILL and SIGSTOP first. */
static int next_signal(struct thread *t, int *sender)
{
    struct process *p = t->proc;
    uint64_t ok = (t->sig_pending | p->sig_pending) & (~t->sig_mask | UNMASKABLE);

    if (!ok)
        return 0;
    int sig = (ok & BIT(SIGKILL)) ? SIGKILL : (ok & BIT(SIGSTOP)) ? SIGSTOP
            : __builtin_ctzll(ok);
    if (sig == SIGKILL)
        return sig;                     /* stays pending: every path exits */
    *sender = (t->sig_pending & BIT(sig)) ? take(&t->sig_queue, &t->sig_pending, sig)
                                          : take(&p->sig_queue, &p->sig_pending, sig);
    return sig;
}

void signal_deliver(struct trap_frame *f)
{
    struct thread *t = sched_current();
    struct process *p = t->proc;
    int sender = -1;

    for (;;) {
        if (!(__atomic_load_n(&t->sig_pending, __ATOMIC_RELAXED) |
              __atomic_load_n(&p->sig_pending, __ATOMIC_RELAXED)))
            return;
        sched_lock();
        int sig = next_signal(t, &sender);
        if (!sig) {
            sched_unlock();
            return;
        }
        if (sig == SIGKILL) {
            sched_unlock();
            thread_exit(p->exit_status);
        }
        if (sig == SIGSTOP) {
            t->state = T_STOPPED;
            schedule_locked();
            sched_unlock();
            continue;
        }
        struct k_sigaction a = p->act[sig];
#ifdef BUG_SIGNAL_LEAK
        /* Pre-2024: the saved context of the interrupted call is handed to
         * the handler path, which never gives it back. */
        t->saved_ctx = 0;
#endif
        if (a.handler == SIG_IGN ||
            (a.handler == SIG_DFL && (DEFAULT_IGNORED & BIT(sig)))) {
            sched_unlock();
            continue;
        }
        if (a.handler == SIG_DFL) {
            signal_kill_process_locked(p, 128 + (uint64_t)sig);
            sched_unlock();
            thread_exit(p->exit_status);
        }
        sched_unlock();
        if (push_frame(t, f, sig, sender, &a) < 0) {
            sched_lock();
            signal_kill_process_locked(p, 128 + SIGSEGV);
            sched_unlock();
            thread_exit(p->exit_status);
        }
        return;                         /* one frame per return to ring 3 */
    }
}

uint64_t sys_sigreturn(struct trap_frame *f)
{
    struct thread *t = sched_current();
    struct sig_frame fr;
    uint64_t sp = f->rsp - 8;           /* the handler's ret popped `restorer` */

    if (copy_from_user(t->proc, &fr, sp, sizeof fr) < 0 ||
        fr.magic != (SIGFRAME_MAGIC ^ sp) || fr.rip >= USER_TOP || !t->sig_depth) {
        sched_lock();
        signal_kill_process_locked(t->proc, 128 + SIGSEGV);
        sched_unlock();
        thread_exit(t->proc->exit_status);
    }
    memcpy(f, fr.regs, sizeof fr.regs);
    f->rip = fr.rip;
    f->rsp = fr.rsp;
    f->rflags = (fr.rflags & USER_RFLAGS_OK) | RFLAGS_BASE;
    f->cs = USER_CS;
    f->ss = USER_DS;
    f->vector = SIGRETURN_VECTOR;
    sched_lock();
    t->sig_mask = fr.old_mask & ~UNMASKABLE;
    t->sig_depth--;
    frames_live--;
    sched_unlock();
    return f->rax;
}

void signal_note_interrupted(struct thread *t)
{
#ifdef BUG_SIGNAL_LEAK
    sched_lock();
    struct sigrecord *r = rec_alloc(0, t->tid);     /* the "saved context" */
    if (r) {
        r->next = t->saved_ctx;
        t->saved_ctx = r;
    }
    sched_unlock();
#else
    (void)t;                            /* nothing to keep: -EINTR is in RAX */
#endif
}

void signal_thread_exit_locked(struct thread *t)
{
    free_queue(&t->sig_queue);
    free_queue(&t->saved_ctx);
    t->sig_pending = 0;
    frames_live -= t->sig_depth;        /* its stack frames die with it */
    t->sig_depth = 0;
}

void signal_process_exit(struct process *p)
{
    sched_lock();
    free_queue(&p->sig_queue);
    p->sig_pending = 0;
    sched_unlock();
}
