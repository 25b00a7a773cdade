/*
 * user/init.c - the boot's daemons.
 *
 * Redox's init starts its service daemons from the initfs (logd, ramfs,
 * zerod, randd, inputd, vesad, fbcond, acpid, pcid and the drivers it
 * spawns, ps2d, ...) one after the other, waiting for each to say it is
 * ready, and they stay resident. Each costs the kernel an address space:
 * its ELF segments copied into fresh frames, page tables, a stack, a heap
 * and the buffers it maps and unmaps while it starts; everything allocated
 * after them is allocated with their memory in use, which is what made
 * rmm's first-fit scan expensive in Redox's boot profile.
 *
 * Here init is this file: INIT_DAEMONS processes of bootstrap's ELF, each
 * started in its daemon role (BOOT_FLAG_DAEMON and its index in RDI;
 * ../bootstrap/daemon.c does what a daemon does while starting, through
 * the ordinary mmap/munmap syscalls), waited for until SYS_READY, then
 * left blocked while bootstrap runs. After bootstrap they are killed and
 * torn down like any process whose last thread ends.
 */
#include "arch/arch.h"
#include "lab/lab.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "sched/sched.h"
#include "sched/signal.h"
#include "user/init.h"
#include "user/process.h"

static struct process *daemons[INIT_DAEMONS];
static int nr_daemons, nr_ready;
static uint64_t frames_held;

void init_start_daemons(const struct initfs *fs, const void *img, uint64_t size)
{
    uint64_t t0 = arch_timestamp(), hz = arch_timestamp_hz();
    uint64_t free_before = falloc->free_frames();

    for (int i = 0; i < INIT_DAEMONS; i++) {
        /* One name for all: a profile's command, the pid tells them apart. */
        struct process *p = process_alloc("daemon");
        struct thread *t = p ? process_load(p, fs, img, size,
                                            BOOT_FLAG_DAEMON | (uint64_t)i << 16) : 0;
        if (!t) {
            kprintf("init: cannot start daemon %d\n", i);
            break;
        }
        daemons[nr_daemons++] = p;
        sched_add(t);
        sched_run_until(&p->started);
        /* Ready, not merely ended (a daemon that fails exits instead). */
        nr_ready += !p->killed && p->live > 0;
    }
    uint64_t us = hz ? (arch_timestamp() - t0) * 1000000 / hz : 0;
    frames_held = free_before - falloc->free_frames();
    kprintf("init: %d of %d daemons ready in %llu us, holding %llu frames\n",
            nr_ready, INIT_DAEMONS, (unsigned long long)us, (unsigned long long)frames_held);
    lab_metric("user.daemons.start.us", us, "us", 1, 0);
}

void init_stop_daemons(void)
{
    char detail[128];
    uint64_t free0 = falloc->free_frames();

    sched_lock();
    for (int i = 0; i < nr_daemons; i++)
        if (!daemons[i]->done)
            signal_kill_process_locked(daemons[i], 128 + SIGKILL);
    sched_unlock();
    for (int i = 0; i < nr_daemons; i++)
        sched_run_until(&daemons[i]->done);
    /* What they held when ready and did not give back (bootstrap's own
     * frames are user.bootstrap's business). */
    int64_t leaked = (int64_t)frames_held - (int64_t)(falloc->free_frames() - free0);
    kprintf("init: %d daemons stopped; %lld frames not returned\n", nr_daemons,
            (long long)leaked);
    ksnprintf(detail, sizeof detail, "daemons=%d,ready=%d,frames_held=%llu,frames_leaked=%lld",
              nr_daemons, nr_ready, (unsigned long long)frames_held, (long long)leaked);
    lab_test("user.daemons", nr_ready == INIT_DAEMONS && leaked == 0, detail);
}
