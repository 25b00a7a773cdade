/*
 * lab/report.c - findings and panic(), in the lab protocol and in the
 * human-readable form of the Redox kernel.
 */
#include "arch/arch.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"

#define BT_MAX 16

static int findings;

int report_findings(void)
{
    return findings;
}

void report_note_finding(void)
{
    findings++;
}

void report_frame_finding(const char *kind, uint64_t frame, unsigned order,
                          const char *msg)
{
    uint64_t bt[BT_MAX];
    /* Skip this function and mm_report: bt[0] is in the allocator's free,
     * bt[1] in its caller. */
    int n = arch_backtrace(bt, BT_MAX, 2);
    struct lab_marker m;

    findings++;
    kprintf("mm: %s: frame 0x%llx order %u: %s (caller 0x%llx)\n", kind,
            (unsigned long long)frame, order, msg,
            (unsigned long long)(n > 1 ? bt[1] : 0));
    lab_begin(&m, "finding");
    lab_str(&m, "kind", kind);
    lab_hex(&m, "frame", frame);
    lab_u64(&m, "order", order);
    lab_str(&m, "msg", msg);
    lab_u64(&m, "cpu", arch_cpu_id());
    lab_hexlist(&m, "bt", bt, n);
    lab_emit(&m);
}

int report_trace(uint64_t rbp, uint64_t *bt, int max)
{
    int n = arch_backtrace_from(rbp, bt, max);
    uint64_t bp = rbp;

    kprintf("TRACE: %016llx\n", (unsigned long long)rbp);
    for (int i = 0; i < n; i++) {
        kprintf("  %016llx: %016llx\n", (unsigned long long)bp,
                (unsigned long long)bt[i]);
        bp = *(uint64_t *)bp;
    }
    return n;
}

void panic(const char *msg)
{
    uint64_t bt[BT_MAX];
    struct lab_marker m;

    arch_irq_save();
    kprintf("KERNEL PANIC: %s\n", msg);
    int n = report_trace((uint64_t)__builtin_frame_address(0), bt, BT_MAX);
    kprintf("CPU %u, PID 0\nNAME: kernel\nHALT\n", arch_cpu_id());
    lab_begin(&m, "finding");
    lab_str(&m, "kind", "panic");
    lab_str(&m, "msg", msg);
    lab_u64(&m, "cpu", arch_cpu_id());
    lab_hexlist(&m, "bt", bt, n);
    lab_emit(&m);
    lab_end("panic", END_CODE_PANIC);
}
