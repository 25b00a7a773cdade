/*
 * arch/x86_64/gdt_user.h - what ring 3 needs from the CPU: user code and
 * data segments laid out for SYSRET, the TSS's RSP0, the SYSCALL MSRs
 * (EFER.SCE, STAR, LSTAR, SFMASK) and the per-CPU syscall stack.
 *
 * GDT layout after gdt_user_init() (per CPU; the first five slots are the
 * ones boot.S/trap.c or percpu.c set up):
 *   0x00 null, 0x08 kernel code, 0x10 kernel data, 0x18 TSS (two slots),
 *   0x28 user data (DPL 3), 0x30 user code 64-bit (DPL 3).
 * STAR[47:32] = 0x08: SYSCALL loads CS 0x08, SS 0x10.
 * STAR[63:48] = 0x20: SYSRETQ loads CS 0x20+16 = 0x30|3, SS 0x20+8 = 0x28|3.
 */
#ifndef ARCH_X86_64_GDT_USER_H
#define ARCH_X86_64_GDT_USER_H

#include <stdint.h>

#define USER_DS         0x2b    /* 0x28 | RPL 3 */
#define USER_CS         0x33    /* 0x30 | RPL 3 */

#define MSR_EFER            0xC0000080
#define MSR_STAR            0xC0000081
#define MSR_LSTAR           0xC0000082
#define MSR_SFMASK          0xC0000084
#define MSR_KERNEL_GS_BASE  0xC0000102
#define EFER_SCE            0x1ull

/* RFLAGS bits SYSCALL clears: IF, TF, DF, AC. */
#define SYSCALL_SFMASK  ((1ull << 9) | (1ull << 8) | (1ull << 10) | (1ull << 18))

#define SYSCALL_STACK_ORDER 2   /* 16 KiB per CPU */

/*
 * On the calling CPU: a GDT with the user segments (a copy of the current
 * one plus two slots), the kernel stack for SYSCALL and for traps from
 * ring 3 (TSS.RSP0 and the per-CPU block's syscall_rsp, 16 KiB from the
 * frame allocator), and the SYSCALL MSRs pointing at syscall_entry. Needs
 * the per-CPU block (GS base) of this CPU. Returns 0, or -1 when out of
 * frames. Interrupts off or harmless; once per CPU.
 */
int gdt_user_init(void);

/* The kernel stack of the thread about to run on this CPU: TSS.RSP0 (traps
 * and interrupts from ring 3) and the syscall stack (percpu syscall_rsp).
 * After gdt_user_init() on this CPU; interrupts off (the scheduler). */
void gdt_user_set_kstack(uint64_t top);

#endif
