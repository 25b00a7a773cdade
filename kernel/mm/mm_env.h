/*
 * mm/mm_env.h - what the frame allocators need from their environment.
 *
 * mm/ compiles for the kernel and for the host (unit tests). Everything that
 * differs between the two goes through these few hooks: the kernel version
 * is mm/kernel_env.c, the host version tests/host_env.c.
 */
#ifndef MM_MM_ENV_H
#define MM_MM_ENV_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t phys_t;

#define PAGE_SHIFT      12
#define PAGE_SIZE       ((phys_t)1 << PAGE_SHIFT)
#define MAX_ORDER       10              /* blocks of 2^0 .. 2^10 frames (4 MiB) */
#define ORDER_COUNT     (MAX_ORDER + 1)

/* Pattern written over every freed frame: a stale access reads this. */
#define FRAME_POISON    0xdeadbeefdeadbeefull

/* The direct map: the virtual address where physical address p is readable
 * and writable. Valid for every frame the allocator manages. */
void *mm_phys_to_virt(phys_t p);

/* The allocator lock. mm_lock disables interrupts on this CPU and takes the
 * lock; mm_unlock undoes both. Not recursive. */
void mm_lock(void);
void mm_unlock(void);

/* A correctness problem the allocator detected (a protocol `finding`).
 * kind is a protocol finding kind: double-free, foreign-free,
 * wrong-order-free, freelist-corrupt. Called without the lock held. The
 * kernel prints a finding marker with the caller's backtrace; the host
 * records it for the tests. */
struct mm_finding {
    const char *kind;
    phys_t frame;
    unsigned order;
    const char *msg;
};
void mm_report(const struct mm_finding *f);

/* Informational log line (no newline needed). */
void mm_log(const char *msg);

#endif
