/*
 * arch/x86_64/trap.c - IDT, TSS and the report of a fatal CPU exception.
 *
 * An exception prints what the Redox kernel prints (a header such as
 * `Page fault: <cr2>`, the registers with `RIP:` first, a `TRACE:` block of
 * frame-pointer return addresses) and then the lab's markers: a finding
 * (kind=page-fault with rip/addr/err, or kind=exception with name), then
 * `end status=panic code=<vector>`, then QEMU's debug exit.
 */
#include <stddef.h>

#include "arch/arch.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/regs.inc"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "user/process.h"

/* The entry stubs' frame offsets (regs.inc) against the struct. */
_Static_assert(offsetof(struct trap_frame, vector) == F_VECTOR, "regs.inc F_VECTOR");
_Static_assert(offsetof(struct trap_frame, err) == F_ERR, "regs.inc F_ERR");
_Static_assert(offsetof(struct trap_frame, rip) == F_RIP, "regs.inc F_RIP");
_Static_assert(offsetof(struct trap_frame, cs) == F_CS, "regs.inc F_CS");
_Static_assert(offsetof(struct trap_frame, rflags) == F_RFLAGS, "regs.inc F_RFLAGS");
_Static_assert(offsetof(struct trap_frame, rsp) == F_RSP, "regs.inc F_RSP");
_Static_assert(offsetof(struct trap_frame, ss) == F_SS, "regs.inc F_SS");
_Static_assert(sizeof(struct trap_frame) == F_SIZE, "regs.inc F_SIZE");

#define KERNEL_CS       0x08
#define TSS_SEL         0x18
#define GATE_INTR       0x8e    /* present, DPL 0, 64-bit interrupt gate */
#define IST_STACK_SIZE  16384
#define BT_MAX          16

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

extern uint64_t gdt64[];
extern const uint64_t isr_stubs[32];

static struct idt_gate idt[256] __attribute__((aligned(16)));  /* 32+: trap_set_gate */
static struct tss64 tss __attribute__((aligned(16)));  /* the BSP's (percpu.h) */
static uint8_t ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

static const char *const names[32] = {
    "Divide error", "Debug", "Non-maskable interrupt", "Breakpoint",
    "Overflow", "Bound range exceeded", "Invalid opcode", "Device not available",
    "Double fault", "Coprocessor segment overrun", "Invalid TSS",
    "Segment not present", "Stack-segment fault", "Protection fault",
    "Page fault", "Reserved 15", "x87 floating-point", "Alignment check",
    "Machine check", "SIMD floating-point", "Virtualization",
    "Control protection", "Reserved 22", "Reserved 23", "Reserved 24",
    "Reserved 25", "Reserved 26", "Reserved 27", "Hypervisor injection",
    "VMM communication", "Security exception", "Reserved 31",
};

static void tss_init(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;

    memset(&tss, 0, sizeof tss);
    tss.ist[0] = (uint64_t)(ist_stack + IST_STACK_SIZE);
    tss.iomap_base = sizeof tss;
    gdt64[TSS_SEL / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                         (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
                         (((base >> 24) & 0xff) << 56);
    gdt64[TSS_SEL / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

void trap_init(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;

    tss_init();
    for (int v = 0; v < 32; v++) {
        uint64_t a = isr_stubs[v];
        idt[v].off_lo = (uint16_t)a;
        idt[v].sel = KERNEL_CS;
        idt[v].ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
        idt[v].type = GATE_INTR;
        idt[v].off_mid = (uint16_t)(a >> 16);
        idt[v].off_hi = (uint32_t)(a >> 32);
        idt[v].zero = 0;
    }
    idtr.limit = sizeof idt - 1;
    idtr.base = (uint64_t)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Added for SMP (arch/x86_64/ipi.c): install an interrupt gate for `vector`
 * (IST stack `ist`, 0 = none) in the shared IDT. Boot only, before the
 * vector can fire; APs then load the same IDT with trap_load_idt(). */
void trap_set_gate(uint8_t vector, uint64_t entry, int ist)
{
    idt[vector].off_lo = (uint16_t)entry;
    idt[vector].sel = KERNEL_CS;
    idt[vector].ist = (uint8_t)ist;
    idt[vector].type = GATE_INTR;
    idt[vector].off_mid = (uint16_t)(entry >> 16);
    idt[vector].off_hi = (uint32_t)(entry >> 32);
    idt[vector].zero = 0;
}

void trap_load_idt(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;

    idtr.limit = sizeof idt - 1;
    idtr.base = (uint64_t)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void dump_registers(const struct trap_frame *f)
{
    kprintf("RFLAG: %016llx\nCS:    %016llx\nRIP:   %016llx\n"
            "RSP:   %016llx\nSS:    %016llx\n",
            (unsigned long long)f->rflags, (unsigned long long)f->cs,
            (unsigned long long)f->rip, (unsigned long long)f->rsp,
            (unsigned long long)f->ss);
    kprintf("RAX:   %016llx\nRBX:   %016llx\nRCX:   %016llx\nRDX:   %016llx\n"
            "RDI:   %016llx\nRSI:   %016llx\nRBP:   %016llx\n",
            (unsigned long long)f->rax, (unsigned long long)f->rbx,
            (unsigned long long)f->rcx, (unsigned long long)f->rdx,
            (unsigned long long)f->rdi, (unsigned long long)f->rsi,
            (unsigned long long)f->rbp);
    kprintf("R8:    %016llx\nR9:    %016llx\nR10:   %016llx\nR11:   %016llx\n"
            "R12:   %016llx\nR13:   %016llx\nR14:   %016llx\nR15:   %016llx\n",
            (unsigned long long)f->r8, (unsigned long long)f->r9,
            (unsigned long long)f->r10, (unsigned long long)f->r11,
            (unsigned long long)f->r12, (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
    kprintf("CR2:   %016llx\nCR3:   %016llx\n", (unsigned long long)read_cr2(),
            (unsigned long long)read_cr3());
}

static void print_header(const struct trap_frame *f, uint64_t cr2)
{
    if (f->vector == 14) {
        kprintf("Page fault: %016llX\n", (unsigned long long)cr2);
        kprintf("  err=0x%llx: %s, %s, %s%s\n", (unsigned long long)f->err,
                (f->err & 1) ? "protection violation" : "not present",
                (f->err & 2) ? "write" : "read",
                (f->err & 4) ? "user" : "kernel",
                (f->err & 16) ? ", instruction fetch" : "");
    } else {
        kprintf("%s (vector %llu) code=0x%llx\n", names[f->vector & 31],
                (unsigned long long)f->vector, (unsigned long long)f->err);
    }
}

void trap_handler(struct trap_frame *f)
{
    static int depth;
    uint64_t cr2 = read_cr2(), bt[BT_MAX];
    struct lab_marker m;

    /* Issue 5: a fault in ring 3 kills the process, not the kernel. */
    if ((f->cs & 3) == 3)
        user_trap(f);

    /* A fault while reporting a fault: say so with the least machinery. */
    if (depth++) {
        kprintf("KERNEL PANIC: exception %llu while reporting an exception\n",
                (unsigned long long)f->vector);
        arch_exit(1);
    }
    print_header(f, cr2);
    dump_registers(f);
    int n = report_trace(f->rbp, bt, BT_MAX);
    kprintf("CPU %u, PID 0\nNAME: kernel\nHALT\n", arch_cpu_id());

    lab_begin(&m, "finding");
    if (f->vector == 14) {
        lab_str(&m, "kind", "page-fault");
    } else {
        lab_str(&m, "kind", "exception");
        lab_str(&m, "name", names[f->vector & 31]);
        lab_u64(&m, "vector", f->vector);
    }
    lab_hex(&m, "rip", f->rip);
    if (f->vector == 14)
        lab_hex(&m, "addr", cr2);
    lab_hex(&m, "err", f->err);
    lab_u64(&m, "cpu", arch_cpu_id());
    lab_hexlist(&m, "bt", bt, n);
    lab_emit(&m);
    lab_end("panic", (int)f->vector);
}
