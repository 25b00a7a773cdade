/*
 * mm/tlb.h - TLB shootdown across CPUs, as the Redox kernel does it.
 *
 * Changing a mapping flushes only the changing CPU's TLB (paging.c uses
 * invlpg). Before the old frame may be reused, every other CPU that uses the
 * address space must have dropped the translation too. The protocol:
 *
 *  - an address space (struct tlb_space) records the CPUs using it, the
 *    pages of the request in flight (a batch of up to TLB_BATCH_MAX pages,
 *    or "everything") and an ack counter;
 *  - each CPU has a request flag (the address space it must flush for);
 *  - the initiator takes the space's lock, publishes the batch, sets the
 *    flag of every other CPU in the set, sends each an IPI (vector 0x41) and
 *    spins until all of them acked; only then may the caller free frames;
 *  - a CPU serves its flag in the IPI handler *and* in every kernel spin loop
 *    (tlb_serve()), so two CPUs shooting at each other with interrupts off
 *    cannot deadlock;
 *  - an empty batch sends nothing.
 *
 * Build with BUG=skip-shootdown and tlb_shootdown() forgets all of this
 * (the stress test in selftest/ must then find stale translations).
 */
#ifndef MM_TLB_H
#define MM_TLB_H

#include <stdint.h>

#define TLB_BATCH_MAX 32

/* Pages changed locally whose translations other CPUs may still hold. */
struct tlb_batch {
    uint64_t va[TLB_BATCH_MAX];
    unsigned n;
    int full;                   /* more than TLB_BATCH_MAX: flush everything */
};

struct tlb_space {
    uint64_t cpus;              /* CPUs using this space, bit per CPU number
                                 * (user spaces: tlb_space_enter/leave) */
    volatile int lock;          /* one request in flight per space */
    volatile unsigned acks;     /* CPUs done with the request in flight */
    unsigned n;                 /* the request in flight: n pages or full */
    int full;
    uint64_t va[TLB_BATCH_MAX];
};

/* The kernel's address space: every CPU uses it (for now). */
extern struct tlb_space tlb_kernel_space;

/* CPU `cpu` starts using `s` (before it loads s's page tables) / stopped
 * using it (after it loaded other tables). Atomic; any context. */
void tlb_space_enter(struct tlb_space *s, unsigned cpu);
void tlb_space_leave(struct tlb_space *s, unsigned cpu);

/* Add va to batch b (after the local change + local flush). Never fails:
 * past TLB_BATCH_MAX pages the batch becomes a full flush. */
void tlb_queue(struct tlb_batch *b, uint64_t va);

/* Make every other CPU using `s` drop the translations queued in b, wait for
 * all of them, and empty b. Returns the round trip in TSC cycles (0 when b
 * was empty: no IPI then). Any kernel context except NMI and IPI handlers;
 * interrupts may be off. */
uint64_t tlb_shootdown(struct tlb_space *s, struct tlb_batch *b);

/* Serve this CPU's pending request, if any. Cheap when there is none. Call
 * from the IPI handler and from every kernel spin loop. */
void tlb_serve(void);

/* A spinlock whose spin serves shootdown requests. Interrupts unchanged. */
void tlb_spin_lock(volatile int *lock);
void tlb_spin_unlock(volatile int *lock);

/* Print metric `name` (median and p99 of the round trips timed since the
 * last call; n; cpus) and forget those samples. Nothing if there were none. */
void tlb_report_cycles(const char *name);

/* Shootdown IPIs sent since boot. */
uint64_t tlb_ipis_sent(void);

#endif
