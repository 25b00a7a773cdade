/*
 * syscall/abi.h - the system call ABI between the kernel and bootstrap.
 *
 * Constants and three plain structure layouts (sigaction, sigaltstack,
 * the signal frame): the kernel (syscall/, sched/) and bootstrap
 * (../bootstrap/, a separate program) both include this header; nothing
 * is shared at link time.
 *
 * Calling convention (as Redox's): `syscall` with the number in RAX and up
 * to five arguments in RDI, RSI, RDX, R10, R8. The result, or -errno, comes
 * back in RAX. RCX and R11 are clobbered (the CPU puts the user RIP and
 * RFLAGS there); every other general register is preserved. Numbers are
 * full 64-bit values: 0x100000001 is not 1.
 */
#ifndef SYSCALL_ABI_H
#define SYSCALL_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define SYS_EXIT        1       /* exit(status): ends the calling thread; the
                                   process ends with its last thread (status) */
#define SYS_WRITE       2       /* write(fd 1|2, buf, len): console; bytes written */
#define SYS_CLOCK       3       /* clock(CLOCK_*): see below */
#define SYS_YIELD       4       /* yield(): 0, after other runnable threads had a turn */
#define SYS_ABI_CHECK   5       /* abi_check(a, b, c, d, e): ABI_CHECK_HASH(a..e) */
/* Issue 5: threads, memory, signals. */
#define SYS_THREAD_CREATE 6     /* (entry, stack_top, arg, ctid): tid; the thread
                                   starts at entry(arg) on stack_top; at its exit
                                   the u32 at ctid (if non-zero) becomes 0 and is
                                   futex-woken (join) */
#define SYS_FUTEX_WAIT  7       /* (addr, expected u32, timeout_ns 0=none):
                                   0, -EAGAIN, -ETIMEDOUT, -EINTR */
#define SYS_FUTEX_WAKE  8       /* (addr, n): threads woken */
#define SYS_MMAP        9       /* (addr, len, flags MAP_*): anonymous zeroed RW
                                   pages shared by the process's threads; addr */
#define SYS_MUNMAP      10      /* (addr, len): 0; pages not mapped are skipped */
#define SYS_SIGACTION   11      /* (sig, const struct k_sigaction *, old *): 0 */
#define SYS_SIGPROCMASK 12      /* (how SIG_*, set): the old mask */
#define SYS_SIGRETURN   13      /* (): back to the context of the signal frame */
#define SYS_KILL        14      /* (pid, sig): to a process (any thread not masking it) */
#define SYS_TKILL       15      /* (tid, sig): to one thread of the caller's process */
#define SYS_SIGALTSTACK 16      /* (const struct k_stack *, old *): 0 */
#define SYS_SLEEP       17      /* (ns): 0, or -EINTR */
#define SYS_INFO        18      /* (INFO_*): a kernel counter, see below */
#define SYS_GETTID      19      /* (): the calling thread's id */
#define SYS_READY       20      /* (): 0; the process has finished starting (a
                                   daemon's readiness: its spawner goes on) */
#define SYS_PROFILE     21      /* (on 0|1): 0; pauses (0) or resumes (1) the
                                   kernel's profiler (PROFILE=1; else nothing):
                                   benchmarks and stress tests are not boot work */

/* The floor: the entry stub sees this number right after `swapgs` and
 * returns with `swapgs; sysretq` without touching the stack or any other
 * register (RAX comes back unchanged). Latency minus this = kernel cost. */
#define SYS_FLOOR       0x7fffffff

/* Unknown (never assigned): the benchmark of the ENOSYS path, as Redox's. */
#define SYS_BENCH_ENOSYS 1337

#define CLOCK_MONOTONIC_NS  0   /* nanoseconds since the kernel's time zero */
#define CLOCK_TSC_HZ        1   /* calibrated TSC frequency, Hz */

/* Order-sensitive mix of the five argument registers; a swapped or
 * truncated register changes it. Unsigned 64-bit arithmetic. */
#define ABI_CHECK_HASH(a, b, c, d, e) \
    (((((((((a) * 31u) + (b)) * 31u) + (c)) * 31u) + (d)) * 31u) + (e))

/* SYS_INFO selectors. */
#define INFO_CPUS           0   /* CPUs running the scheduler */
#define INFO_CPU            1   /* the CPU the caller runs on */
#define INFO_FREE_FRAMES    2   /* free frames of the allocator */
#define INFO_SIG_OBJECTS    3   /* kernel signal objects alive (records) */
#define INFO_SIG_FRAMES     4   /* signal frames delivered and not returned */
#define INFO_FRAMES_ADJ     5   /* free frames + the process's page-table frames */
#define INFO_THREADS        6   /* the process's threads not yet reaped */
#define INFO_PID            7

#define MAP_FIXED       1       /* exactly at addr, replacing what is there */

#define SIG_BLOCK       0
#define SIG_UNBLOCK     1
#define SIG_SETMASK     2

#define SIG_DFL         0
#define SIG_IGN         1

#define SA_ONSTACK      0x08000000ull
#define SA_NODEFER      0x40000000ull
#define SS_ONSTACK      1
#define SS_DISABLE      2
#define MINSIGSTKSZ     2048

/* Linux numbering; signal n is bit n of a mask (1..63). */
#define SIGHUP   1
#define SIGINT   2
#define SIGQUIT  3
#define SIGKILL  9
#define SIGUSR1  10
#define SIGSEGV  11
#define SIGUSR2  12
#define SIGTERM  15
#define SIGCHLD  17
#define SIGCONT  18
#define SIGSTOP  19
#define NSIG     64

#ifndef __ASSEMBLER__
struct k_sigaction {
    uint64_t handler;           /* SIG_DFL, SIG_IGN or handler(sig, frame) */
    uint64_t mask;              /* added to the thread's mask in the handler */
    uint64_t flags;             /* SA_* */
    uint64_t restorer;          /* the process's trampoline (calls SYS_SIGRETURN) */
};

struct k_stack {
    uint64_t sp, flags, size;
};

/* What the kernel writes on the user (or alternate) stack; the handler
 * is entered with RSP at `restorer` (its return address), RDI = signo,
 * RSI = the frame. */
#define SIGFRAME_MAGIC  0x5349474652414d45ull
struct sig_frame {
    uint64_t restorer, signo, code /* sender tid */, flags, handler;
    uint64_t old_mask, handler_mask;
    uint64_t regs[15];          /* r15 .. rax, as struct trap_frame */
    uint64_t rip, rflags, rsp;
    uint64_t magic;             /* SIGFRAME_MAGIC ^ frame address */
};
#endif

/* errno values returned as -errno (Linux/Redox numbering). */
#define EPERM   1
#define ESRCH   3
#define EINTR   4
#define EAGAIN  11
#define ENOMEM  12
#define EBADF   9
#define EFAULT  14
#define EINVAL  22
#define ENOSYS  38
#define ETIMEDOUT 110

/* Entry arguments: RDI of the first user instruction carries these flags. */
#define BOOT_FLAG_NULL_DEREF 1u /* BUG=user-null-deref: dereference NULL at the end */
#define BOOT_FLAG_DAEMON     2u /* start as one of the boot's daemons (user/init.c) */
#define BOOT_DAEMON_INDEX(flags) ((unsigned)((flags) >> 16))   /* which one: 0.. */

#endif
