/*
 * daemon.c - bootstrap in its daemon role (BOOT_FLAG_DAEMON): what one of
 * the boot's service daemons does while it starts (kernel/user/init.c),
 * through the ordinary syscalls. It maps its heap and writes every page of
 * it (an allocator arena being set up), maps, fills and unmaps a few I/O
 * buffers one after the other (reading its configuration and files), says
 * it is ready (SYS_READY) and then waits, resident, until the kernel kills
 * it. It prints nothing: the kernel reports the daemons (test
 * user.daemons).
 */
#include "daemon.h"
#include "rt.h"

#define PAGE            4096u
#define HEAP_PAGES      256u    /* 1 MiB heap */
#define BUFFERS         8u      /* buffers mapped and unmapped while starting */
#define BUFFER_PAGES    16u     /* 64 KiB each */

static volatile uint32_t forever;

/* Write a word every 512 bytes of [va, va + pages pages): the heap's
 * arena headers; the pages are the kernel's, zeroed by mmap. */
static void touch(uint64_t va, uint64_t pages, uint64_t tag)
{
    for (uint64_t off = 0; off < pages * PAGE; off += 512)
        *(volatile uint64_t *)(va + off) = tag ^ off;
}

int daemon_main(unsigned index)
{
    int64_t heap = sys_mmap(0, (uint64_t)HEAP_PAGES * PAGE, 0);

    if (heap < 0)
        return 1;
    touch((uint64_t)heap, HEAP_PAGES, index);
    for (unsigned i = 0; i < BUFFERS; i++) {
        int64_t buf = sys_mmap(0, (uint64_t)BUFFER_PAGES * PAGE, 0);
        if (buf < 0)
            return 2;
        memset((void *)buf, (int)(index + i), (size_t)BUFFER_PAGES * PAGE);
        if (sys_munmap((uint64_t)buf, (uint64_t)BUFFER_PAGES * PAGE) < 0)
            return 3;
    }
    sys_ready();
    for (;;)
        sys_futex_wait(&forever, 0, 0);
}
