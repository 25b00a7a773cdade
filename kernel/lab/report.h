/*
 * lab/report.h - findings and panics, as the lab reads them.
 *
 * A finding is a correctness problem the kernel detected and survived
 * (double free, ...): a `finding` marker with the caller's backtrace plus a
 * human-readable line, and the boot goes on; main.c ends it with
 * status=fail when any finding was reported. A panic is a problem the
 * kernel cannot survive: Redox-style `KERNEL PANIC:` text with a TRACE, a
 * `finding kind=panic` marker, then `end status=panic` and the debug exit.
 */
#ifndef LAB_REPORT_H
#define LAB_REPORT_H

#include <stdint.h>

#define END_CODE_PANIC 255      /* end code of panic(); exceptions use the vector */

/* Report a frame-allocator finding (kind, frame, order, msg) with the
 * backtrace of the caller. Safe with interrupts off; takes no locks. */
void report_frame_finding(const char *kind, uint64_t frame, unsigned order,
                          const char *msg);

/* Findings reported so far. */
int report_findings(void);

/* Count a finding whose marker the caller emitted itself (user/: a fault
 * in ring 3 kills the process, the kernel goes on). */
void report_note_finding(void);

/* Print the Redox-style TRACE block starting at frame pointer rbp, and fill
 * bt[0..max) with the return addresses; returns how many. */
int report_trace(uint64_t rbp, uint64_t *bt, int max);

/* Stop the kernel: KERNEL PANIC text, trace, finding and end markers. */
void panic(const char *msg) __attribute__((noreturn));

#endif
