/*
 * user/init.h - the boot's daemons: service processes started from the
 * initfs before bootstrap and resident while it runs (user/init.c).
 */
#ifndef USER_INIT_H
#define USER_INIT_H

#include <stdint.h>

#define INIT_DAEMONS        20  /* processes started by init_start_daemons */

struct initfs;

/*
 * Start INIT_DAEMONS processes of the ELF `img` (bootstrap's, from the
 * initfs `fs`) in their daemon role (BOOT_FLAG_DAEMON with their index),
 * one at a time: each is loaded, made runnable and waited for until it is
 * ready (SYS_READY) or has ended. Reports metric `user.daemons.start.us`.
 * BSP, kernel context, after sched_start_cpus(); stops at the first one
 * that cannot be loaded (out of memory or process slots).
 */
void init_start_daemons(const struct initfs *fs, const void *img, uint64_t size);

/*
 * Kill every daemon started (SIGKILL), wait until each is torn down, and
 * report test `user.daemons`: passes when all INIT_DAEMONS became ready
 * and every frame they took came back. BSP, kernel context; after
 * init_start_daemons, once nothing else allocates for good.
 */
void init_stop_daemons(void);

#endif
