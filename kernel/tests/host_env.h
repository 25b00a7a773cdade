/*
 * tests/host_env.h - the host side of mm/mm_env.h for unit tests: fake
 * physical memory in a malloc'ed buffer, a checked lock, recorded findings.
 */
#ifndef TESTS_HOST_ENV_H
#define TESTS_HOST_ENV_H

#include "mm/frame.h"
#include "mm/section.h"

/* Fake physical memory [0, size): frame p lives at buffer + p. */
void host_mem_setup(phys_t size);
void host_mem_teardown(void);

/* Findings recorded since the last host_findings_reset(). */
struct host_findings {
    int count;
    char kind[32];          /* of the last one */
    phys_t frame;
    unsigned order;
};
extern struct host_findings host_findings;
void host_findings_reset(void);

/* How many times the lock was taken (and a flag if it was misused). */
extern long host_lock_count;
extern int host_lock_misuse;

#endif
