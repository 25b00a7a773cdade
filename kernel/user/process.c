/*
 * user/process.c - user processes: the process table, loading a program
 * from the initfs (ELF, stack, main thread), bootstrap's run, the console
 * write, thread creation, readiness, teardown, and traps from ring 3. See
 * process.h for the contracts; the boot's daemons are user/init.c.
 *
 * Threads run in ring 3 with interrupts on (RFLAGS 0x202): the entry
 * stubs swapgs on entries from ring 3 and the NMI stub checks the GS base,
 * so a tick, an IPI or an NMI can arrive anywhere in user code.
 */
#include "arch/arch.h"
#include "arch/x86_64/multiboot.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "sched/sched.h"
#include "sched/signal.h"
#include "syscall/abi.h"
#include "syscall/syscall.h"
#include "user/elf.h"
#include "user/init.h"
#include "user/initfs.h"
#include "user/process.h"

#define USER_STACK_TOP      0x00007ff000000000ull
#define USER_STACK_PAGES    16                      /* 64 KiB */
#define USER_RFLAGS         0x202ull                /* IF on */
#define WRITE_MAX           (1u << 20)

/* Slot 0 is bootstrap (pid 1); the others the boot's daemons. A slot is
 * used once (pids are not reused). */
static struct process procs[PROCESS_MAX];
static int nr_procs;
static volatile int console_lock;

struct process *process_current(void)
{
    struct thread *t = sched_current();
    return t ? t->proc : 0;
}

struct process *process_by_pid(int pid)
{
    for (int i = 0; i < nr_procs; i++)
        if (procs[i].pid == pid && procs[i].live)
            return &procs[i];
    return 0;
}

struct process *process_alloc(const char *name)
{
    if (nr_procs == PROCESS_MAX)
        return 0;
    struct process *p = &procs[nr_procs++];
    p->pid = nr_procs;
    p->name = name;
    return p;
}

const char *process_name(int pid)
{
    return pid >= 1 && pid <= nr_procs ? procs[pid - 1].name : "bootstrap";
}

int64_t process_ready(struct process *p)
{
    __atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);
    return 0;
}

int64_t process_write(uint64_t fd, uint64_t buf, uint64_t len)
{
    char chunk[256];
    struct process *current = process_current();

    if (fd != 1 && fd != 2)
        return -EBADF;
    if (len > WRITE_MAX)
        return -EINVAL;
    if (buf + len < buf)
        return -EFAULT;
    /* Check the whole range first: a bad buffer prints nothing. */
    for (uint64_t va = buf & ~(PAGE_SIZE - 1); va < buf + len; va += PAGE_SIZE)
        if (!uvm_translate(&current->as, va, 0))
            return -EFAULT;
    tlb_spin_lock(&console_lock);       /* one writer's bytes at a time */
    uint64_t done = 0;
    while (done < len) {
        uint64_t va = buf + done, n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (n > len - done)
            n = len - done;
        if (n > sizeof chunk)
            n = sizeof chunk;
        /* Copied under mm_lock: another thread may have unmapped the
         * page since the check above. */
        if (copy_from_user(current, chunk, va, n) < 0)
            break;
        arch_console_write(chunk, n);
        done += n;
    }
    tlb_spin_unlock(&console_lock);
    return done || !len ? (int64_t)done : -EFAULT;
}

int64_t process_thread_create(uint64_t entry, uint64_t stack, uint64_t arg,
                              uint64_t ctid)
{
    struct thread *me = sched_current();
    struct user_start s = { entry, stack, USER_RFLAGS, arg, 0 };

    if (entry < USER_MIN || entry >= USER_TOP || stack < USER_MIN ||
        stack > USER_TOP || (ctid & 3))
        return -EINVAL;
    struct thread *t = thread_create(me->proc, &s);
    if (!t)
        return -ENOMEM;
    t->sig_mask = me->sig_mask;
    t->ctid = ctid;
    int tid = t->tid;
    sched_add(t);
    return tid;
}

void process_teardown(struct process *p)
{
    uvm_destroy(&p->as);
    signal_process_exit(p);
    process_ready(p);           /* a spawner waiting for it goes on */
}

static const char *vector_name(uint64_t v)
{
    static const char *const n[] = {
        [0] = "divide-error", [1] = "debug", [3] = "breakpoint",
        [6] = "invalid-opcode", [13] = "protection-fault", [14] = "page-fault",
        [17] = "alignment-check",
    };
    return v < sizeof n / sizeof n[0] && n[v] ? n[v] : "exception";
}

void user_trap(struct trap_frame *f)
{
    struct process *p = process_current();
    uint64_t cr2 = 0;
    struct lab_marker m;

    if (!p)
        panic("trap from ring 3 without a current process");
    if (f->vector == 14)
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    kprintf("user: %s (pid %d): %s at rip 0x%llx addr 0x%llx err 0x%llx, killed\n",
            p->name, p->pid, vector_name(f->vector), (unsigned long long)f->rip,
            (unsigned long long)cr2, (unsigned long long)f->err);
    lab_begin(&m, "finding");
    lab_str(&m, "kind", f->vector == 14 ? "user-page-fault" : "user-exception");
    if (f->vector != 14) {
        lab_str(&m, "name", vector_name(f->vector));
        lab_u64(&m, "vector", f->vector);
    }
    lab_hex(&m, "rip", f->rip);
    if (f->vector == 14)
        lab_hex(&m, "addr", cr2);
    lab_hex(&m, "err", f->err);
    lab_hex(&m, "rsp", f->rsp);
    lab_u64(&m, "cpu", arch_cpu_id());
    lab_u64(&m, "pid", (uint64_t)p->pid);
    lab_str(&m, "process", p->name);
    lab_emit(&m);
    report_note_finding();
    sched_lock();
    signal_kill_process_locked(p, f->vector);
    sched_unlock();
    thread_exit(f->vector);
}

/* The stack: USER_STACK_PAGES zeroed pages under USER_STACK_TOP, with the
 * page below left unmapped as a guard. */
static int map_stack(struct uvm *as)
{
    for (int i = 1; i <= USER_STACK_PAGES; i++) {
        phys_t f = frame_alloc(0);
        if (!f)
            return -1;
        if (uvm_map(as, USER_STACK_TOP - (uint64_t)i * PAGE_SIZE, f, UVM_WRITE) < 0) {
            frame_free(f, 0);
            return -1;
        }
    }
    return 0;
}

/* Find bootstrap in the initfs module; 0 and *fs, *img, *size, or -1. */
static int find_bootstrap(struct initfs *fs, const void **img, uint64_t *size)
{
    struct mm_range mod;
    const char *why, *name;

    if (multiboot_module(0, &mod) < 0) {
        kprintf("user: no initfs module (boot with -initrd <initfs.img>)\n");
        return -1;
    }
    if (initfs_open(fs, arch_phys_to_virt(mod.base), mod.end - mod.base, &why) < 0) {
        kprintf("user: initfs at 0x%llx: %s\n", (unsigned long long)mod.base, why);
        return -1;
    }
    *img = initfs_file(fs, fs->hdr->bootstrap, size, &name);
    kprintf("user: initfs at 0x%llx, %u entries, bootstrap is `%s` (%llu bytes)\n",
            (unsigned long long)mod.base, fs->hdr->count, name,
            (unsigned long long)*size);
    return 0;
}

struct thread *process_load(struct process *p, const struct initfs *fs,
                            const void *img, uint64_t size, uint64_t arg0)
{
    const char *why;
    struct user_start s = {0};

    if (uvm_create(&p->as) < 0) {
        kprintf("user: out of memory for an address space\n");
        return 0;
    }
    if (elf_load(&p->as, img, size, fs->hdr->entry, &why) < 0 ||
        (why = "out of memory for the stack", map_stack(&p->as) < 0)) {
        kprintf("user: cannot load %s: %s\n", p->name, why);
        uvm_destroy(&p->as);
        return 0;
    }
    s.rip = fs->hdr->entry;
    s.rsp = USER_STACK_TOP;
    s.rflags = USER_RFLAGS;
    s.arg0 = arg0;
    s.arg1 = arch_timestamp_hz();
    struct thread *t = thread_create(p, &s);
    if (!t) {
        kprintf("user: out of memory for the main thread of %s\n", p->name);
        uvm_destroy(&p->as);
    }
    return t;
}

/* Build bootstrap and its main thread, run it on every CPU, return when
 * it is over (every thread exited and reaped). 0 when it ran. */
static int run(struct process *p, const struct initfs *fs, const void *img,
               uint64_t size)
{
    uint64_t flags = 0;

#ifdef BUG_USER_NULL_DEREF
    flags = BOOT_FLAG_NULL_DEREF;
#endif
    struct thread *t = process_load(p, fs, img, size, flags);
    if (!t)
        return -1;
    lab_stage("bootstrap", arch_timestamp());
    sched_add(t);
    sched_run_until(&p->done);
    return 0;
}

static void report_skip(const char *why)
{
    struct lab_marker m;

    lab_begin(&m, "test");
    lab_str(&m, "name", "user.bootstrap");
    lab_str(&m, "result", "skip");
    lab_str(&m, "detail", why);
    lab_emit(&m);
}

void user_run_bootstrap(void)
{
    struct initfs fs;
    const void *img;
    uint64_t size;
    char detail[160];

    if (uvm_init() < 0)
        panic("user: the kernel image overlaps user space");
    if (find_bootstrap(&fs, &img, &size) < 0) {
        report_skip("no-initfs-module");
        return;
    }
    kprintf("Bootstrap entry point: %llX\n", (unsigned long long)fs.hdr->entry);

    /* Every CPU joins the scheduler (their syscall stacks come from the
     * allocator: before the frame count below). */
    sched_start_cpus();
    kprintf("sched: %u CPUs scheduling, tick %u Hz\n", arch_cpu_count(), SCHED_HZ);

    /* The boot's daemons, started from the same initfs and resident while
     * bootstrap runs, as on Redox (user/init.c). */
    struct process *p = process_alloc("bootstrap");
    init_start_daemons(&fs, img, size);

    uint64_t free0 = falloc->free_frames(), calls0 = syscall_count();
    if (run(p, &fs, img, size) < 0) {
        lab_test("user.bootstrap", 0, "load-failed");
        init_stop_daemons();
        return;
    }
    uint64_t calls = syscall_count() - calls0;
    int64_t leaked = (int64_t)(free0 - falloc->free_frames());
    kprintf("user: bootstrap %s %llu after %llu syscalls; %lld frames not returned\n",
            p->killed ? "killed by vector" : "exited with",
            (unsigned long long)p->exit_status, (unsigned long long)calls,
            (long long)leaked);
    ksnprintf(detail, sizeof detail, "%s=%llu,syscalls=%llu,frames_leaked=%lld",
              p->killed ? "killed_vector" : "exit", (unsigned long long)p->exit_status,
              (unsigned long long)calls, (long long)leaked);
    lab_test("user.bootstrap", !p->killed && leaked == 0, detail);
    lab_metric("user.syscalls", calls, "syscalls", 1, 0);
    lab_metric("sched.switches", sched_switches(), "switches", 1, 0);
    /* bootstrap's exit status is its number of failed tests (its own
     * markers): they fail the boot, not user.bootstrap. */
    if (!p->killed && p->exit_status)
        lab_note_failed((int)p->exit_status);
    init_stop_daemons();
}
