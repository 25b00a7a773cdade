/*
 * user/process.h - user processes: an address space shared by threads
 * (sched/sched.h), anonymous mmap, signal dispositions. The kernel starts
 * the boot's daemons (user/init.c) and then bootstrap, all from the initfs;
 * their threads run on every CPU.
 */
#ifndef USER_PROCESS_H
#define USER_PROCESS_H

#include <stdint.h>

#include "arch/x86_64/trap.h"
#include "mm/tlb.h"
#include "syscall/abi.h"
#include "user/uvm.h"

/* Process slots: bootstrap and the boot's daemons (user/init.h). */
#define PROCESS_MAX         32

/* Ring-3 start state of a thread (arch_context_init). */
struct user_start {
    uint64_t rip, rsp, rflags, arg0, arg1;
};

struct thread;
struct sigrecord;

struct process {
    int pid;
    const char *name;
    struct uvm as;
    struct tlb_space space;     /* the CPUs that have `as` loaded */
    volatile int mm_lock;       /* mmap/munmap (tlb_spin_lock) */
    uint64_t mmap_next;         /* next address for a non-fixed mmap */
    /* threads (sched lock) */
    struct thread *thread_list;
    int live;                   /* threads that have not exited */
    int threads;                /* threads not yet reaped */
    volatile int done;          /* every thread exited and was reaped */
    volatile int started;       /* SYS_READY called, or the process ended */
    uint64_t exit_status;
    int killed;                 /* by a trap or a signal; exit_status says how */
    /* signals (sched lock; sched/signal.c) */
    struct k_sigaction act[NSIG];
    uint64_t sig_pending;
    struct sigrecord *sig_queue;
    uint64_t sig_trampoline;
    /* BUG=heavy-prologue: the per-context copy of the saved registers. */
    struct trap_frame ctx_regs;
};

/* The process of the thread running on this CPU, or NULL (kernel/idle). */
struct process *process_current(void);
struct process *process_by_pid(int pid);

/* A fresh process slot named `name` with the next pid (1, 2, ...), or
 * NULL when all PROCESS_MAX are used. BSP, kernel context. */
struct process *process_alloc(const char *name);

struct initfs;
/* Build p's address space from the ELF image `img` of the initfs `fs`
 * (bootstrap's entry point), its stack, and its main thread, which starts
 * with RDI = arg0 (BOOT_FLAG_*) and RSI = the TSC frequency. Returns the
 * thread, not yet runnable (sched_add it), or NULL (nothing left mapped). */
struct thread *process_load(struct process *p, const struct initfs *fs,
                            const void *img, uint64_t size, uint64_t arg0);

/* The name of process `pid` (alive or not), or "bootstrap" for an unknown
 * pid (the profiler names its samples with it). */
const char *process_name(int pid);

/* SYS_READY: mark p started (its spawner stops waiting). 0. */
int64_t process_ready(struct process *p);

/* SYS_WRITE: bytes written to the console, or -EBADF / -EFAULT / -EINVAL. */
int64_t process_write(uint64_t fd, uint64_t buf, uint64_t len);

/* SYS_THREAD_CREATE: a new thread of the caller's process; its tid. */
int64_t process_thread_create(uint64_t entry, uint64_t stack, uint64_t arg,
                              uint64_t ctid);

/* The last thread exited (sched): free the address space and what signals
 * left. Runs on the kernel's page tables. */
void process_teardown(struct process *p);

/* A CPU exception taken in ring 3 (trap.c): report it as a finding
 * (user-page-fault, user-exception), kill the process. Never returns. */
void user_trap(struct trap_frame *f) __attribute__((noreturn));

/* user/vm.c: anonymous memory and user-memory access. mmap/munmap follow
 * SYS_MMAP/SYS_MUNMAP (abi.h); a page replaced or unmapped is shot down on
 * exactly the CPUs in p->space, and its frame freed only after all acked.
 * The copy helpers return 0 or -1 (a page not mapped / not writable). */
int64_t vm_mmap(struct process *p, uint64_t addr, uint64_t len, uint64_t flags);
int64_t vm_munmap(struct process *p, uint64_t addr, uint64_t len);
int copy_to_user(struct process *p, uint64_t va, const void *src, uint64_t n);
int copy_from_user(struct process *p, void *dst, uint64_t va, uint64_t n);
int user_read_u32(struct process *p, uint64_t va, uint32_t *v);
int user_write_u32(struct process *p, uint64_t va, uint32_t v);

/*
 * Load bootstrap from the initfs (the first multiboot module), start the
 * scheduler on every CPU, run bootstrap's main thread until the process
 * is done, and report: `Bootstrap entry point: <hex>`, stage `bootstrap`,
 * test `user.bootstrap` (pass when it exited normally, not killed, and
 * every frame came back; skip without an initfs module), metric
 * `user.syscalls`. The exit status (bootstrap's failed tests) counts
 * towards the boot's verdict. Kernel context, BSP, after syscall_init().
 */
void user_run_bootstrap(void);

#endif
