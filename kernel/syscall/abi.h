/*
 * syscall/abi.h - the system call ABI between the kernel and bootstrap.
 *
 * Pure constants: the kernel (syscall/) and bootstrap (../bootstrap/, a
 * separate program) both include this header; nothing is shared at link
 * time.
 *
 * Calling convention (as Redox's): `syscall` with the number in RAX and up
 * to five arguments in RDI, RSI, RDX, R10, R8. The result, or -errno, comes
 * back in RAX. RCX and R11 are clobbered (the CPU puts the user RIP and
 * RFLAGS there); every other general register is preserved. Numbers are
 * full 64-bit values: 0x100000001 is not 1.
 */
#ifndef SYSCALL_ABI_H
#define SYSCALL_ABI_H

#define SYS_EXIT        1       /* exit(status): ends the process, never returns */
#define SYS_WRITE       2       /* write(fd 1|2, buf, len): console; bytes written */
#define SYS_CLOCK       3       /* clock(CLOCK_*): see below */
#define SYS_YIELD       4       /* yield(): returns 0 (no scheduler yet) */
#define SYS_ABI_CHECK   5       /* abi_check(a, b, c, d, e): ABI_CHECK_HASH(a..e) */

/* The floor: the entry stub sees this number right after `swapgs` and
 * returns with `swapgs; sysretq` without touching the stack or any other
 * register (RAX comes back unchanged). Latency minus this = kernel cost. */
#define SYS_FLOOR       0x7fffffff

/* Unknown (never assigned): the benchmark of the ENOSYS path, as Redox's. */
#define SYS_BENCH_ENOSYS 1337

#define CLOCK_MONOTONIC_NS  0   /* nanoseconds since the kernel's time zero */
#define CLOCK_TSC_HZ        1   /* calibrated TSC frequency, Hz */

/* Order-sensitive mix of the five argument registers; a swapped or
 * truncated register changes it. Unsigned 64-bit arithmetic. */
#define ABI_CHECK_HASH(a, b, c, d, e) \
    (((((((((a) * 31u) + (b)) * 31u) + (c)) * 31u) + (d)) * 31u) + (e))

/* errno values returned as -errno (Linux/Redox numbering). */
#define EPERM   1
#define EBADF   9
#define EFAULT  14
#define EINVAL  22
#define ENOSYS  38

/* Entry arguments: RDI of the first user instruction carries these flags. */
#define BOOT_FLAG_NULL_DEREF 1u /* BUG=user-null-deref: dereference NULL at the end */

#endif
