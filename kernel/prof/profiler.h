/*
 * prof/profiler.h - the NMI sampling profiler (make PROFILE=1 [PROFILE_HZ=n]).
 *
 * From before memory init to the end of the boot (bootstrap included) an
 * NMI clock (the PIT through the I/O APIC: to the BSP alone until SMP init,
 * then to every CPU) interrupts the CPUs, in the kernel with interrupts off
 * as in ring 3.
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
    uint64_t ret0;                  /* kernel: the return address when rip is at a prologue or
                                     * ret or in a function without a frame (RBP still the
                                     * caller's frame; arch/x86_64/unwind.h), else 0 */
    unsigned cpu;
    int user;                       /* interrupted user mode (rip, rbp are user addresses) */
    int has_user;                   /* urip/urbp valid */
    int idle;                       /* interrupted the idle loop */
};

#ifdef PROFILE
#ifndef PROFILE_HZ
#define PROFILE_HZ 1000
#endif

/* Start sampling the BSP, before memory init (after smp_probe, which found
 * the I/O APIC): the BSP's ring is static and the clock goes to the BSP
 * only. Does nothing where the clock cannot run that early (no I/O APIC,
 * the LINT0 wiring): sampling then starts in prof_start. */
void prof_start_boot(void);

/* Allocate the APs' rings and send the sampling clock to every CPU. Boot,
 * after smp_init(), on the BSP. */
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
static inline void prof_start_boot(void) {}
static inline void prof_start(void) {}
static inline void prof_finish(void) {}
static inline void prof_pause(void) {}
static inline void prof_resume(void) {}
static inline void prof_sample(const struct prof_ctx *c) { (void)c; }
#endif

#endif
