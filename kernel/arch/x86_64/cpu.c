/*
 * arch/x86_64/cpu.c - small CPU services behind arch/arch.h: halting,
 * QEMU's debug exit, interrupt flag save/restore, frame-pointer backtraces.
 */
#include "arch/arch.h"
#include "arch/x86_64/x86.h"

#define DEBUG_EXIT_PORT 0xf4
/* QEMU's pvpanic ISA device (docs/specs/pvpanic.txt): reading gives the events it supports, writing
 * bit 0 (PANICKED) makes QEMU report GUEST_PANICKED over QMP and take its panic action. */
#define PVPANIC_PORT 0x505
#define PVPANIC_PANICKED 0x01

extern char boot_stack_bottom[], boot_stack_top[];

void arch_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Only under a hypervisor (CPUID.1:ECX bit 31): on a real PC port 0x505 may be a chipset's GPIO
 * block, and nothing may be written there. No device: the read floats to 0xff. */
static int pvpanic_present(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 31)))
        return 0;
    uint8_t events = inb(PVPANIC_PORT);
    return events != 0xff && (events & PVPANIC_PANICKED);
}

void arch_exit_panic(uint32_t code)
{
    /* The machine stops through its panic device: no debug exit, which would race QEMU's report. */
    if (pvpanic_present()) {
        outb(PVPANIC_PORT, PVPANIC_PANICKED);
        arch_halt_forever();
    }
    arch_exit(code);
}

void arch_exit(uint32_t code)
{
    /* QEMU exits with status (code << 1) | 1; on a PC nothing listens. */
    outl(DEBUG_EXIT_PORT, code);
    arch_halt_forever();
}

uint64_t arch_irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

void arch_irq_restore(uint64_t flags)
{
    if (flags & (1u << 9))
        __asm__ volatile("sti" : : : "memory");
}

/* A frame pointer is followed only while it stays inside the boot stack,
 * 16-byte frames ascend, and the chain is 8-byte aligned: a corrupt chain
 * ends the trace instead of faulting inside a fault handler. */
static int frame_ok(uint64_t rbp, uint64_t prev)
{
    return rbp != 0 && (rbp & 7) == 0 && rbp > prev &&
           rbp >= (uint64_t)boot_stack_bottom &&
           rbp + 16 <= (uint64_t)boot_stack_top;
}

int arch_backtrace_from(uint64_t rbp, uint64_t *out, int max)
{
    int n = 0;
    uint64_t prev = 0;

    while (n < max && frame_ok(rbp, prev)) {
        uint64_t *frame = (uint64_t *)rbp;
        if (frame[1] == 0)
            break;
        out[n++] = frame[1];
        prev = rbp;
        rbp = frame[0];
    }
    return n;
}

int arch_backtrace(uint64_t *out, int max, int skip)
{
    uint64_t tmp[32];
    uint64_t rbp = (uint64_t)__builtin_frame_address(0);
    int n = arch_backtrace_from(rbp, tmp, 32);
    int k = 0;

    for (int i = skip; i < n && k < max; i++)
        out[k++] = tmp[i];
    return k;
}
