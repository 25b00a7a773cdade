/*
 * selftest/tlb_stress.h - the TLB shootdown stress test (kernel self-test).
 */
#ifndef SELFTEST_TLB_STRESS_H
#define SELFTEST_TLB_STRESS_H

/*
 * Every AP hammers one shared virtual page while the BSP, for about
 * TLB_STRESS_MS of TSC time, remaps it to a fresh frame, shoots the old
 * translation down and frees the old frame. A worker reading allocator
 * poison (stale-tlb) or a write landing in a freed frame (use-after-free)
 * is a finding. Prints test tlb.stress, tlb.stress.iterations_per_sec and
 * the tlb.shootdown.* metrics. After smp_init(), on the BSP.
 */
void tlb_stress_test(void);

#endif
