/*
 * sched/signal.h - signals, the 2024 design (Redox's rework).
 *
 * Signals are only ever acted on in user_return(), i.e. on the way back to
 * ring 3 (syscall return, interrupt return). The kernel then writes a
 * struct sig_frame (syscall/abi.h: the interrupted registers, the old and
 * the handler's mask, flags, number, handler, sender) on the user stack, or
 * on the alternate stack for SA_ONSTACK handlers, and enters the handler
 * with its return address = the process's one trampoline (registered with
 * sigaction's restorer), which calls SYS_SIGRETURN to restore the frame.
 * No kernel stack is copied; a blocking call interrupted by a signal just
 * returns -EINTR (the value lands in the frame's RAX).
 *
 * SIGKILL and SIGSTOP are looked at first and cannot be masked, caught or
 * ignored. SIGKILL ends every thread of the process; SIGSTOP parks the
 * thread until SIGCONT (minimal: no job control, no parent notification).
 * Default actions: SIGCHLD and SIGCONT ignored, everything else ends the
 * process (status 128 + sig).
 *
 * Kernel objects: one struct sigrecord per queued signal (sender, number;
 * a standard signal already pending is not queued twice), from a fixed
 * pool, freed when the signal is taken. signal_objects_live() and
 * signal_frames_live() (frames written and not yet returned from) are what
 * bootstrap's leak.check compares with their boot values (0).
 *
 * BUG=signal-leak: the pre-2024 path. An interrupted blocking call saved
 * the syscall's context in a kernel record (to resume it after the handler)
 * and the signal path dropped the record without freeing it: one leaked
 * object per interrupted syscall.
 *
 * Locking: all signal state is under the sched lock (sched.h).
 */
#ifndef SCHED_SIGNAL_H
#define SCHED_SIGNAL_H

#include <stdint.h>

#include "arch/x86_64/trap.h"

struct thread;
struct process;

int64_t sys_sigaction(uint64_t sig, uint64_t act, uint64_t oldact);
int64_t sys_sigprocmask(uint64_t how, uint64_t set);
int64_t sys_sigaltstack(struct trap_frame *f, uint64_t ss, uint64_t old);
int64_t sys_kill(uint64_t pid, uint64_t sig);
int64_t sys_tkill(uint64_t tid, uint64_t sig);

/* SYS_SIGRETURN: restore the frame below f->rsp into f; marks f to leave
 * through iretq (every register restored). Kills the process on a bad
 * frame. Returns the restored RAX. */
uint64_t sys_sigreturn(struct trap_frame *f);

/* user_return(): act on the deliverable signals of the current thread. */
void signal_deliver(struct trap_frame *f);

/* Is a signal pending that t does not mask? (lock held) */
int signal_deliverable_locked(const struct thread *t);

/* A blocking call of t returned -EINTR (BUG=signal-leak records it). */
void signal_note_interrupted(struct thread *t);

/* SIGKILL to every thread of p; status is the process's exit status.
 * (lock held) */
void signal_kill_process_locked(struct process *p, uint64_t status);

/* Thread exit: its queued records go back, its frames are gone (lock
 * held). Process teardown: the process's queued records. */
void signal_thread_exit_locked(struct thread *t);
void signal_process_exit(struct process *p);

uint64_t signal_objects_live(void);
uint64_t signal_frames_live(void);

#endif
