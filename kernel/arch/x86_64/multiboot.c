/*
 * arch/x86_64/multiboot.c - the firmware memory map, from multiboot v1.
 */
#include "arch/x86_64/multiboot.h"
#include "lib/printf.h"

#define MBI_FLAG_MODS   (1u << 3)
#define MBI_FLAG_MMAP   (1u << 6)
#define MMAP_AVAILABLE  1

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap_entry {
    uint32_t size;              /* of the rest of the entry */
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

struct mb_module {
    uint32_t start, end, string, reserved;
} __attribute__((packed));

extern char __kernel_start[], __kernel_end[];

/* Issue 5: the modules' ranges, kept for the initfs (the multiboot
 * information itself is in memory the allocator reuses). */
#define MAX_MODULES 8
static struct mm_range modules[MAX_MODULES];
static unsigned n_modules;

static void read_modules(const struct mb_info *mb, struct mm_layout *l)
{
    const struct mb_module *m = (const struct mb_module *)(uintptr_t)mb->mods_addr;

    for (uint32_t i = 0; i < mb->mods_count; i++) {
        kprintf("multiboot: module %u at [0x%x, 0x%x)\n", i, m[i].start, m[i].end);
        /* Whole pages: mm_range_add trims inwards, so round the end up. */
        mm_range_add(l->reserved, &l->n_reserved, m[i].start & ~0xfffu,
                     ((uint64_t)m[i].end + 0xfff) & ~0xfffull);
        if (n_modules < MAX_MODULES) {
            modules[n_modules].base = m[i].start;
            modules[n_modules++].end = m[i].end;
        }
    }
}

int multiboot_module(unsigned i, struct mm_range *out)
{
    if (i >= n_modules)
        return -1;
    *out = modules[i];
    return 0;
}

int multiboot_read_layout(uint32_t mbi, phys_t limit, struct mm_layout *l)
{
    const struct mb_info *mb = (const struct mb_info *)(uintptr_t)mbi;

    l->n_usable = l->n_reserved = 0;
    if (!(mb->flags & MBI_FLAG_MMAP))
        return -1;
    uintptr_t p = mb->mmap_addr, end = p + mb->mmap_length;
    while (p < end) {
        const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
        kprintf("multiboot: [0x%011llx, 0x%011llx) type %u\n",
                (unsigned long long)e->addr, (unsigned long long)(e->addr + e->len),
                e->type);
        if (e->type == MMAP_AVAILABLE && e->addr + e->len > limit)
            kprintf("multiboot: ignoring %llu KiB of RAM above 0x%llx\n",
                    (unsigned long long)((e->addr + e->len -
                                          (e->addr > limit ? e->addr : limit)) >> 10),
                    (unsigned long long)limit);
        if (e->type == MMAP_AVAILABLE && e->addr < limit) {
            phys_t top = e->addr + e->len < limit ? e->addr + e->len : limit;
            if (mm_range_add(l->usable, &l->n_usable, e->addr, top) < 0)
                kprintf("multiboot: too many ranges, ignoring the rest\n");
        }
        p += e->size + sizeof e->size;
    }
    mm_range_add(l->reserved, &l->n_reserved, (uintptr_t)__kernel_start,
                 ((uintptr_t)__kernel_end + 0xfff) & ~(uintptr_t)0xfff);
    if (mb->flags & MBI_FLAG_MODS)
        read_modules(mb, l);
    return 0;
}
