/*
 * prof/profiler.h - the NMI sampling profiler (make PROFILE=1 [PROFILE_HZ=n]).
 *
 * One CPU's periodic timer (arch) broadcasts NMIs to the other CPUs and
 * samples itself; each NMI appends one sample of the interrupted kernel
 * context to its CPU's ring, taking no locks. At the end of the boot the
 * rings are printed as `perf script` text between the lab's profile-begin
 * and profile-end markers, for the lab to symbolize with kernel.elf.
 *
 * Without PROFILE the entry points are empty inlines: the hooks cost nothing.
 */
#ifndef PROF_PROFILER_H
#define PROF_PROFILER_H

#include <stdint.h>

/* What the arch NMI handler saw. */
struct prof_ctx {
    uint64_t rip, rbp, tsc;
    uint64_t stack_lo, stack_hi;    /* the interrupted kernel stack */
    unsigned cpu;
    int user;                       /* interrupted user mode */
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
#else
static inline void prof_start(void) {}
static inline void prof_finish(void) {}
static inline void prof_sample(const struct prof_ctx *c) { (void)c; }
#endif

#endif
