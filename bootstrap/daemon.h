/*
 * daemon.h - bootstrap in its daemon role (daemon.c).
 */
#ifndef BOOTSTRAP_DAEMON_H
#define BOOTSTRAP_DAEMON_H

/* Start as daemon number `index` (kernel/user/init.c): set up, say ready,
 * then wait until killed. Returns (a non-zero exit status) only when a
 * step of its start failed. */
int daemon_main(unsigned index);

#endif
