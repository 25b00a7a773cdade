/*
 * lab/bugs.h - deliberate bugs, selected at build time (make BUG=...), so
 * the lab can prove each one is caught. BUG=none builds contain none.
 */
#ifndef LAB_BUGS_H
#define LAB_BUGS_H

/* Commit the configured bug (after memory init). Returns only for bugs the
 * kernel survives (the allocator findings). */
void bugs_trigger(void);

#endif
