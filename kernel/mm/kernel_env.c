/*
 * mm/kernel_env.c - mm/mm_env.h for the kernel: direct map, the allocator
 * lock (interrupts off + a test-and-set spinlock), findings as markers.
 */
#include "arch/arch.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "mm/mm_env.h"
#include "mm/tlb.h"

static volatile int mm_lock_word;
static uint64_t mm_lock_flags;

void *mm_phys_to_virt(phys_t p)
{
    return arch_phys_to_virt(p);
}

void mm_lock(void)
{
    uint64_t flags = arch_irq_save();
    /* Interrupts are off while we wait: the spin serves shootdown requests,
     * or a CPU holding the lock and waiting for our ack would wait forever. */
    tlb_spin_lock(&mm_lock_word);
    mm_lock_flags = flags;
}

void mm_unlock(void)
{
    uint64_t flags = mm_lock_flags;
    __atomic_store_n(&mm_lock_word, 0, __ATOMIC_RELEASE);
    arch_irq_restore(flags);
}

void mm_report(const struct mm_finding *f)
{
    report_frame_finding(f->kind, f->frame, f->order, f->msg);
}

void mm_log(const char *msg)
{
    kprintf("%s\n", msg);
}
