/*
 * user/vm.c - anonymous mmap/munmap for a process's threads, and copying
 * to and from user memory (contracts in process.h).
 *
 * Addresses: MAP_FIXED takes addr as given (page-aligned, inside
 * [USER_MIN, USER_TOP)); otherwise the next free stretch from MMAP_BASE
 * upwards (a bump pointer: addresses are not reused, page-table frames are
 * freed with the address space). Nothing is ever mapped at 0.
 *
 * Replacing or unmapping pages: under the process's mm_lock, the PTEs are
 * changed (this CPU flushes with invlpg), the pages queued in a tlb_batch
 * and shot down on the other CPUs of p->space (mm/tlb.c); only then are
 * the old frames freed (poisoned by the allocator).
 *
 * Copies to and from user memory translate and copy under the same
 * mm_lock, so a concurrent munmap cannot free (and the allocator hand out)
 * a frame between the translation and the copy. Lock order: the sched
 * lock (futex, thread exit), then mm_lock, then the space's TLB lock and
 * the allocator's; all of them spin with tlb_spin_lock.
 */
#include "arch/arch.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/tlb.h"
#include "user/process.h"

#define MMAP_BASE   0x0000100000000000ull
#define MMAP_MAX    (64ull << 20)       /* per call */
#define FREE_BATCH  TLB_BATCH_MAX

/* Shoot down b, then free the frames collected for it. */
static void flush_and_free(struct process *p, struct tlb_batch *b,
                           phys_t *old, unsigned *n)
{
    tlb_shootdown(&p->space, b);
    for (unsigned i = 0; i < *n; i++)
        frame_free(old[i], 0);
    *n = 0;
}

/* Map (fresh != 0) or unmap every page of [va, va + len). Lock held. */
static int64_t change(struct process *p, uint64_t va, uint64_t len, int fresh)
{
    struct tlb_batch b = { .n = 0 };
    phys_t old[FREE_BATCH];
    unsigned n = 0;
    int64_t r = 0;

    for (uint64_t a = va; a < va + len; a += PAGE_SIZE) {
        phys_t f = 0;
        if (fresh && !(f = frame_alloc(0))) {
            r = -ENOMEM;
            break;
        }
        phys_t was = uvm_replace(&p->as, a, f, UVM_WRITE);
        if (was == UVM_BAD) {
            if (f)
                frame_free(f, 0);
            r = -ENOMEM;
            break;
        }
        if (was) {
            tlb_queue(&b, a);
            old[n++] = was;
            if (n == FREE_BATCH)
                flush_and_free(p, &b, old, &n);
        }
    }
    flush_and_free(p, &b, old, &n);
    return r;
}

static int range_ok(uint64_t addr, uint64_t len)
{
    return len && len <= MMAP_MAX && !(addr & (PAGE_SIZE - 1)) &&
           addr >= USER_MIN && addr + len > addr && addr + len <= USER_TOP;
}

int64_t vm_mmap(struct process *p, uint64_t addr, uint64_t len, uint64_t flags)
{
    len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (flags & ~(uint64_t)MAP_FIXED)
        return -EINVAL;
    tlb_spin_lock(&p->mm_lock);
    if (!(flags & MAP_FIXED)) {
        if (!p->mmap_next)
            p->mmap_next = MMAP_BASE;
        addr = p->mmap_next;
    }
    int64_t r = -EINVAL;
    if (range_ok(addr, len)) {
        r = change(p, addr, len, 1);
        if (r < 0)
            change(p, addr, len, 0);    /* all or nothing */
        else if (!(flags & MAP_FIXED))
            p->mmap_next = addr + len + PAGE_SIZE;  /* a guard hole */
    }
    tlb_spin_unlock(&p->mm_lock);
    return r < 0 ? r : (int64_t)addr;
}

int64_t vm_munmap(struct process *p, uint64_t addr, uint64_t len)
{
    len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (!range_ok(addr, len))
        return -EINVAL;
    tlb_spin_lock(&p->mm_lock);
    int64_t r = change(p, addr, len, 0);
    tlb_spin_unlock(&p->mm_lock);
    return r;
}

/* Copy n bytes between kernel memory and user va, page by page; 0, or -1
 * at the first page that is not mapped (what came before it is copied). */
static int copy(struct process *p, uint64_t va, void *k, uint64_t n, int to_user)
{
    char *kp = k;
    int r = 0;

    tlb_spin_lock(&p->mm_lock);
    while (n) {
        phys_t pa = uvm_translate(&p->as, va, to_user);
        if (!pa) {
            r = -1;
            break;
        }
        uint64_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (chunk > n)
            chunk = n;
        if (to_user)
            memcpy(arch_phys_to_virt(pa), kp, chunk);
        else
            memcpy(kp, arch_phys_to_virt(pa), chunk);
        va += chunk;
        kp += chunk;
        n -= chunk;
    }
    tlb_spin_unlock(&p->mm_lock);
    return r;
}

int copy_to_user(struct process *p, uint64_t va, const void *src, uint64_t n)
{
    return copy(p, va, (void *)(uintptr_t)src, n, 1);
}

int copy_from_user(struct process *p, void *dst, uint64_t va, uint64_t n)
{
    return copy(p, va, dst, n, 0);
}

int user_read_u32(struct process *p, uint64_t va, uint32_t *v)
{
    if (va & 3)
        return -1;
    tlb_spin_lock(&p->mm_lock);
    phys_t pa = uvm_translate(&p->as, va, 0);
    if (pa)
        *v = __atomic_load_n((uint32_t *)arch_phys_to_virt(pa), __ATOMIC_SEQ_CST);
    tlb_spin_unlock(&p->mm_lock);
    return pa ? 0 : -1;
}

int user_write_u32(struct process *p, uint64_t va, uint32_t v)
{
    if (va & 3)
        return -1;
    tlb_spin_lock(&p->mm_lock);
    phys_t pa = uvm_translate(&p->as, va, 1);
    if (pa)
        __atomic_store_n((uint32_t *)arch_phys_to_virt(pa), v, __ATOMIC_SEQ_CST);
    tlb_spin_unlock(&p->mm_lock);
    return pa ? 0 : -1;
}
