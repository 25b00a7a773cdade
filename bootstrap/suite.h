/*
 * suite.h - bootstrap's issue-5 suite (suite.c): threads, mmap, TLB
 * shootdown from userspace, signals, the leak check, the summary marker.
 */
#ifndef BOOTSTRAP_SUITE_H
#define BOOTSTRAP_SUITE_H

/* Run every test, print the markers; returns the number of failed tests
 * (the summary marker `suite` not counted). */
int suite_run(void);

#endif
