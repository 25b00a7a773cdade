/*
 * prof/profiler.c - per-CPU sample rings and their perf-script dump.
 *
 * Ring: 2^RING_ORDER frames of 64-bit words per CPU; `head` (written only by
 * that CPU's NMI handler, the single producer) and `tail` (the consumer at
 * the end of the boot) count words and are taken modulo the ring size. A
 * sample is [PROF_MAGIC | len, pc, tsc, meta, return addresses...] (len =
 * its word count; pc the interrupted instruction, then the callers
 * innermost first; meta = cpu | kernel frames << 16 | in a process << 32 |
 * its pid << 40:
 * the first `kernel frames` of pc and the return addresses are kernel
 * addresses, the rest user addresses of the running process); when it does
 * not fit it is dropped and counted, so the ring never holds a partial
 * sample. head is published after the words (release), so a reader sees
 * only whole samples.
 *
 * Kernel frames: the frame-pointer chain while frames stay 8-aligned,
 * ascending and inside the interrupted kernel stack (the CPU's or the
 * running thread's), after the return address the arch layer found on the
 * stack when the sample hit a prologue or a ret (prof_ctx.ret0). User frames: the chain of the user stack, each word
 * read through the process's live page tables (uvm_peek: present and user
 * pages only, never a fault), from the interrupted user state or, for a
 * kernel sample in a syscall or interrupt from ring 3, from the user state
 * at the top of the thread's kernel stack.
 *
 * Kept: samples of busy CPUs, kernel and user. Filtered (counted, not
 * kept): samples of the idle loop, which would otherwise dominate a boot
 * profile on otherwise idle APs, and samples while paused (prof_pause).
 */
#ifdef PROFILE

#include "arch/arch.h"
#include "lab/lab.h"
#include "lib/printf.h"
#include "mm/frame.h"
#include "prof/profiler.h"
#include "sched/sched.h"
#include "user/process.h"
#include "user/uvm.h"

#define RING_ORDER      9                               /* 2 MiB per CPU: bootstrap too */
#define RING_WORDS      ((PAGE_SIZE << RING_ORDER) / 8)
#define PROF_MAGIC      0x5052f00000000000ull           /* | length */
#define MAGIC_MASK      0xfffff00000000000ull
#define MAX_KFRAMES     30
#define MAX_FRAMES      56                              /* kernel + user */
#define HDR_WORDS       4
#define META_PROCESS    (1ull << 32)
#define META_PID_SHIFT  40
#define USER_DSO        "bootstrap"                     /* the one ELF: bootstrap and the daemons */

struct ring {
    uint64_t *w;
    volatile uint64_t head;
    uint64_t tail;
    uint64_t taken, dropped, filtered, idle, user;
} __attribute__((aligned(64)));

static struct ring rings[ARCH_MAX_CPUS];
static volatile int sampling;
static volatile int paused;
/* The BSP's ring is in the kernel image: it samples from before memory
 * init, when no frame can be allocated yet (the APs' come from the frame
 * allocator in prof_start). */
static uint64_t bsp_ring[RING_WORDS] __attribute__((aligned(4096)));

void prof_pause(void)
{
    __atomic_store_n(&paused, 1, __ATOMIC_RELEASE);
}

void prof_resume(void)
{
    __atomic_store_n(&paused, 0, __ATOMIC_RELEASE);
}

void prof_start_boot(void)
{
    rings[0].w = bsp_ring;
    if (arch_prof_timer_start_boot(PROFILE_HZ) < 0)
        return;                         /* prof_start starts it, after SMP init */
    __atomic_store_n(&sampling, 1, __ATOMIC_RELEASE);
    /* Printed after the tsc stage, so timestamps are known; no lab marker. */
    kprintf("prof: NMI profiler at %u Hz on the BSP from before memory init (clock %s)\n",
            PROFILE_HZ, arch_prof_clock());
}

void prof_start(void)
{
    rings[0].w = bsp_ring;
    for (unsigned c = 1; c < arch_cpu_count(); c++) {
        phys_t f = frame_alloc(RING_ORDER);
        if (!f) {
            kprintf("prof: no memory for CPU %u's ring; the BSP samples alone\n", c);
            break;
        }
        rings[c].w = arch_phys_to_virt(f);
    }
    __atomic_store_n(&sampling, 1, __ATOMIC_RELEASE);
    arch_prof_timer_start(PROFILE_HZ);
    kprintf("prof: NMI profiler at %u Hz on %u CPUs (clock %s), %llu KiB ring each\n",
            PROFILE_HZ, arch_cpu_count(), arch_prof_clock(), (unsigned long long)(RING_WORDS / 128));
}

/* Return addresses along the kernel frame-pointer chain, innermost first,
 * while frames stay 8-aligned, ascending and inside [lo, hi). */
static int walk(uint64_t rbp, uint64_t lo, uint64_t hi, uint64_t *out, int max)
{
    uint64_t prev = 0;
    int n = 0;

    while (n < max && rbp > prev && (rbp & 7) == 0 && rbp >= lo && rbp + 16 <= hi) {
        const uint64_t *frame = (const uint64_t *)rbp;
        if (frame[1] == 0)
            break;
        out[n++] = frame[1];
        prev = rbp;
        rbp = frame[0];
    }
    return n;
}

/* The same for a user stack, every word read through the page tables. */
static int walk_user(uint64_t rbp, uint64_t *out, int max)
{
    uint64_t prev = 0, next, ret;
    int n = 0;

    while (n < max && rbp > prev && (rbp & 7) == 0) {
        if (uvm_peek(rbp, &next) || uvm_peek(rbp + 8, &ret) || ret == 0)
            break;
        out[n++] = ret;
        prev = rbp;
        rbp = next;
    }
    return n;
}

/* The pid of the thread the sample interrupted: its struct thread sits at
 * the bottom of its kernel stack block (sched.h), and a running thread and
 * its process are not freed under it. 0 when there is no thread stack. */
static uint64_t sample_pid(const struct prof_ctx *c)
{
    const struct thread *t = (const struct thread *)(uintptr_t)c->tstack_lo;

    return c->tstack_hi && t->proc ? (uint64_t)(t->proc->pid & 0xffff) : 0;
}

void prof_sample(const struct prof_ctx *c)
{
    struct ring *r = &rings[c->cpu];
    uint64_t ret[MAX_FRAMES];

    if (!__atomic_load_n(&sampling, __ATOMIC_ACQUIRE) || !r->w)
        return;
    if (c->idle || __atomic_load_n(&paused, __ATOMIC_ACQUIRE)) {
        r->filtered++;
        r->idle += c->idle;
        return;
    }
    int n = 0;
    uint64_t kframes, process = c->user || c->has_user;
    if (c->user) {
        kframes = 0;
        n = walk_user(c->rbp, ret, MAX_FRAMES);
    } else {
        /* The stack the interrupted code ran on: the CPU's, or the thread's. */
        uint64_t lo = c->stack_lo, hi = c->stack_hi;
        if (c->tstack_hi && c->rbp >= c->tstack_lo && c->rbp < c->tstack_hi) {
            lo = c->tstack_lo;
            hi = c->tstack_hi;
        }
        if (c->ret0)
            ret[n++] = c->ret0;
        n += walk(c->rbp, lo, hi, ret + n, MAX_KFRAMES - n);
        kframes = 1 + (uint64_t)n;
        if (c->has_user && n < MAX_FRAMES) {
            ret[n++] = c->urip;
            n += walk_user(c->urbp, ret + n, MAX_FRAMES - n);
        }
    }
    uint64_t len = HDR_WORDS + (uint64_t)n, h = r->head;
    if (h - r->tail + len > RING_WORDS) {
        r->dropped++;
        return;
    }
    r->w[h % RING_WORDS] = PROF_MAGIC | len;
    r->w[(h + 1) % RING_WORDS] = c->rip;
    r->w[(h + 2) % RING_WORDS] = c->tsc;
    r->w[(h + 3) % RING_WORDS] = c->cpu | kframes << 16 |
                                 (process ? META_PROCESS | sample_pid(c) << META_PID_SHIFT : 0);
    for (int i = 0; i < n; i++)
        r->w[(h + HDR_WORDS + i) % RING_WORDS] = ret[i];
    __atomic_store_n(&r->head, h + len, __ATOMIC_RELEASE);
    r->taken++;
    r->user += c->user != 0;
}

/* Print one sample at word t of ring r; returns its length in words (0 if
 * the header is damaged: the rest of the ring is then skipped). */
static uint64_t print_sample(struct ring *r, uint64_t t, uint64_t *lines)
{
    uint64_t hdr = r->w[t % RING_WORDS], len = hdr & ~MAGIC_MASK;
    uint64_t hz = arch_timestamp_hz() ? arch_timestamp_hz() : 1;

    if ((hdr & MAGIC_MASK) != PROF_MAGIC || len < HDR_WORDS || len > HDR_WORDS + MAX_FRAMES + 1)
        return 0;
    uint64_t rip = r->w[(t + 1) % RING_WORDS], tsc = r->w[(t + 2) % RING_WORDS];
    uint64_t meta = r->w[(t + 3) % RING_WORDS], kframes = (meta >> 16) & 0xffff;
    unsigned cpu = (unsigned)(meta & 0xffff);
    uint64_t ns = tsc > boot_tsc0 ? (tsc - boot_tsc0) * 1000 / (hz / 1000000) : 0;
    /* perf's conventions: the command is the process's name (kernel for boot
     * code and kernel-only contexts), each frame names its DSO. */
    const char *comm = (meta & META_PROCESS) ? process_name((int)(meta >> META_PID_SHIFT)) : "kernel";
    kprintf("%s %u [%03u] %llu.%06llu: 1 cycles:\n", comm, cpu, cpu,
            (unsigned long long)(ns / 1000000000), (unsigned long long)(ns / 1000 % 1000000));
    kprintf("\t%llx [unknown] (%s)\n", (unsigned long long)rip, kframes > 0 ? "kernel" : USER_DSO);
    for (uint64_t i = HDR_WORDS; i < len; i++)
        kprintf("\t%llx [unknown] (%s)\n", (unsigned long long)r->w[(t + i) % RING_WORDS],
                i - HDR_WORDS + 1 < kframes ? "kernel" : USER_DSO);
    kprintf("\n");
    *lines += 3 + (len - HDR_WORDS);
    return len;
}

void prof_finish(void)
{
    uint64_t lines = 0, taken = 0, dropped = 0, filtered = 0, idle = 0, user = 0;
    struct lab_marker m;

    if (!sampling)
        return;
    const char *clock = arch_prof_clock();
    arch_prof_timer_stop();
    __atomic_store_n(&sampling, 0, __ATOMIC_RELEASE);
    lab_begin(&m, "profile-begin");
    lab_str(&m, "format", "perf-script");
    lab_u64(&m, "hz", PROFILE_HZ);
    lab_str(&m, "clock", clock);
    lab_emit(&m);
    for (unsigned c = 0; c < ARCH_MAX_CPUS; c++) {
        struct ring *r = &rings[c];
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), len = 1;
        while (r->tail < head && len) {
            len = print_sample(r, r->tail, &lines);
            r->tail = len ? r->tail + len : head;
        }
        taken += r->taken;
        dropped += r->dropped;
        filtered += r->filtered;
        idle += r->idle;
        user += r->user;
    }
    lab_begin(&m, "profile-end");
    lab_u64(&m, "lines", lines);
    lab_u64(&m, "samples", taken);
    lab_u64(&m, "dropped", dropped);
    lab_emit(&m);
    lab_metric("prof.samples.taken", taken, "samples", 1, 0);
    lab_metric("prof.samples.dropped", dropped, "samples", 1, 0);
    lab_metric("prof.samples.filtered", filtered, "samples", 1, 0);
    lab_metric("prof.samples.user", user, "samples", 1, 0);
    kprintf("prof: %llu samples kept, %llu dropped, %llu filtered (%llu idle)\n",
            (unsigned long long)taken, (unsigned long long)dropped,
            (unsigned long long)filtered, (unsigned long long)idle);
}

#endif /* PROFILE */
