/*
 * prof/profiler.h - the NMI sampling profiler (make PROFILE=1 [PROFILE_HZ=n]).
 *
 * From SMP init to the end of the boot (bootstrap included) an NMI clock
 * (arch_prof_timer_start: the PIT through the I/O APIC to every CPU)
 * interrupts every CPU, in the kernel with interrupts off as in ring 3.
 * Each NMI takes one sample of what it interrupted to its
 * CPU's ring, taking no locks: kernel frames, and user frames of the thread
 * the CPU runs (ring 3 samples, and kernel samples taken in a syscall or
 * interrupt from ring 3, whose user state is on the thread's kernel stack).
 * At the end of the boot (after bootstrap) the rings are printed as
 * `perf script` text between the lab's profile-begin and profile-end
 * markers, for the lab to symbolize with kernel.elf and bootstrap.elf.
 *
 * Without PROFILE the entry points are empty inlines: the hooks cost nothing.
 */
#ifndef PROF_PROFILER_H
#define PROF_PROFILER_H

#include <stdint.h>

/* What the arch NMI handler saw. */
struct prof_ctx {
    uint64_t rip, rbp, tsc;
    uint64_t stack_lo, stack_hi;    /* the CPU's own kernel stack */
    uint64_t tstack_lo, tstack_hi;  /* the running thread's kernel stack (0: none) */
    uint64_t urip, urbp;            /* kernel mode on behalf of a user thread: its user state */
    unsigned cpu;
    int user;                       /* interrupted user mode (rip, rbp are user addresses) */
    int has_user;                   /* urip/urbp valid */
    int idle;                       /* interrupted the idle loop */
};

#ifdef PROFILE
#ifndef PROFILE_HZ
#define PROFILE_HZ 1000
#endif

/* Allocate the per-CPU rings and start the sampling clock. Boot, after
 * smp_init(), on the BSP. */
void prof_start(void);

/* Stop sampling and print the profile and the prof.samples.* metrics. */
void prof_finish(void);

/* Record one sample. NMI context: no locks, bounded time, never blocks. */
void prof_sample(const struct prof_ctx *c);

/* Stop and restart recording (the clock keeps running): what runs between
 * is left out of the profile (the stress tests' spin loops). */
void prof_pause(void);
void prof_resume(void);

#else
static inline void prof_start(void) {}
static inline void prof_finish(void) {}
static inline void prof_pause(void) {}
static inline void prof_resume(void) {}
static inline void prof_sample(const struct prof_ctx *c) { (void)c; }
#endif

#endif
