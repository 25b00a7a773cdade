/*
 * user/process.h - user processes: for now exactly one, bootstrap, run to
 * completion on the BSP (no scheduler yet: the kernel calls into ring 3
 * and gets control back when the process exits or is killed).
 */
#ifndef USER_PROCESS_H
#define USER_PROCESS_H

#include <stdint.h>

#include "arch/x86_64/trap.h"
#include "user/uvm.h"

/* The kernel context user_enter saved (entry.S). */
struct user_kctx {
    uint64_t rsp;
};

/* Ring-3 start state for user_enter (entry.S reads these offsets). */
struct user_start {
    uint64_t rip, rsp, rflags, arg0, arg1;
};

struct process {
    int pid;
    const char *name;
    struct uvm as;
    struct user_kctx kctx;
    uint64_t exit_status;
    int killed;                 /* by a trap; exit_status is then the vector */
    /* BUG=heavy-prologue: the per-context copy of the saved registers. */
    struct trap_frame ctx_regs;
};

uint64_t user_enter(struct user_kctx *k, const struct user_start *s);
void user_leave(struct user_kctx *k, uint64_t value) __attribute__((noreturn));

/* The process running on this CPU, or NULL in kernel context. */
struct process *process_current(void);

/* SYS_WRITE: bytes written to the console, or -EBADF / -EFAULT / -EINVAL. */
int64_t process_write(uint64_t fd, uint64_t buf, uint64_t len);

/* SYS_EXIT: end the current process; control returns to user_run_*. */
void process_exit(uint64_t status) __attribute__((noreturn));

/* A CPU exception taken in ring 3 (trap.c): report it as a finding
 * (user-page-fault, user-exception), kill the process. Never returns. */
void user_trap(struct trap_frame *f) __attribute__((noreturn));

/*
 * Load bootstrap from the initfs (the first multiboot module), run it in
 * ring 3 until it exits or is killed, free its address space, and report:
 * `Bootstrap entry point: <hex>`, stage `bootstrap`, test `user.bootstrap`
 * (pass when it exited with 0 and freed every frame; skip without an
 * initfs module), metric `user.syscalls`. Kernel context, BSP, after
 * syscall_init().
 */
void user_run_bootstrap(void);

#endif
