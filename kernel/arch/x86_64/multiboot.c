/*
 * arch/x86_64/multiboot.c - the firmware memory map, from multiboot v1 or v2.
 */
#include "arch/x86_64/multiboot.h"
#include "arch/x86_64/smp.h"
#include "lib/printf.h"
#include "lib/string.h"

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

static int overlaps(phys_t a, phys_t b, phys_t c, phys_t d)
{
    return a < d && c < b;
}

/*
 * A module that covers the AP trampoline page (TRAMP_BASE, fixed by the SIPI
 * vector) would be overwritten when the APs start. UEFI GRUB loads modules as
 * low as 0x6000, so such a module is copied to the top of the highest usable
 * range that holds it and touches neither the kernel nor another module.
 */
static void move_off_trampoline(struct mm_layout *l)
{
    for (unsigned i = 0; i < n_modules; i++) {
        struct mm_range *m = &modules[i];
        if (!overlaps(m->base, m->end, TRAMP_BASE, TRAMP_BASE + 0x1000))
            continue;
        phys_t size = m->end - m->base, dst = 0;
        for (int r = 0; r < l->n_usable; r++) {
            phys_t top = l->usable[r].end & ~(phys_t)0xfff;
            if (top < l->usable[r].base + size + 0x1000)
                continue;
            phys_t at = (top - size) & ~(phys_t)0xfff;
            int clash = at < l->usable[r].base || overlaps(at, at + size, TRAMP_BASE, TRAMP_BASE + 0x1000) ||
                        overlaps(at, at + size, (uintptr_t)__kernel_start, (uintptr_t)__kernel_end);
            for (unsigned j = 0; j < n_modules; j++)
                clash |= overlaps(at, at + size, modules[j].base, modules[j].end);
            if (!clash && at > dst)
                dst = at;
        }
        if (!dst) {
            kprintf("multiboot: module %u covers the AP trampoline page and there is no room to move it\n", i);
            continue;
        }
        memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)m->base, size);
        kprintf("multiboot: module %u moved from 0x%llx to 0x%llx (it covered the AP trampoline page)\n", i,
                (unsigned long long)m->base, (unsigned long long)dst);
        mm_range_add(l->reserved, &l->n_reserved, dst, (dst + size + 0xfff) & ~(phys_t)0xfff);
        m->end = dst + size;
        m->base = dst;
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
    move_off_trampoline(l);
    return 0;
}

/* Multiboot2 information: a header, then tags, each 8-byte aligned. */
#define MB2_TAG_END     0
#define MB2_TAG_MODULE  3
#define MB2_TAG_MMAP    6
#define MB2_TAG_ACPI1   14
#define MB2_TAG_ACPI2   15

struct mb2_tag {
    uint32_t type, size;
} __attribute__((packed));

struct mb2_mmap_entry {
    uint64_t addr, len;
    uint32_t type, reserved;
} __attribute__((packed));

/* A copy: the information itself lives in memory the allocator reuses. */
static uint8_t acpi_rsdp[36];
static int have_rsdp;

const void *multiboot_acpi_rsdp(void)
{
    return have_rsdp ? acpi_rsdp : 0;
}

static void add_usable(struct mm_layout *l, uint64_t addr, uint64_t len, uint32_t type, phys_t limit)
{
    kprintf("multiboot2: [0x%011llx, 0x%011llx) type %u\n",
            (unsigned long long)addr, (unsigned long long)(addr + len), type);
    if (type != MMAP_AVAILABLE || addr >= limit)
        return;
    phys_t top = addr + len < limit ? addr + len : limit;
    if (mm_range_add(l->usable, &l->n_usable, addr, top) < 0)
        kprintf("multiboot2: too many ranges, ignoring the rest\n");
}

int multiboot2_read_layout(uint32_t mbi, phys_t limit, struct mm_layout *l)
{
    uint32_t total = *(const uint32_t *)(uintptr_t)mbi;
    uintptr_t p = mbi + 8, end = mbi + total;
    int have_mmap = 0;

    l->n_usable = l->n_reserved = 0;
    while (p + sizeof(struct mb2_tag) <= end) {
        const struct mb2_tag *t = (const struct mb2_tag *)p;
        if (t->type == MB2_TAG_END || t->size < sizeof *t)
            break;
        if (t->type == MB2_TAG_MMAP && t->size >= 16) {
            uint32_t entry_size = *(const uint32_t *)(p + 8);
            if (entry_size >= sizeof(struct mb2_mmap_entry)) {
                for (uintptr_t e = p + 16; e + entry_size <= p + t->size; e += entry_size) {
                    const struct mb2_mmap_entry *m = (const struct mb2_mmap_entry *)e;
                    add_usable(l, m->addr, m->len, m->type, limit);
                }
                have_mmap = 1;
            }
        } else if (t->type == MB2_TAG_MODULE && t->size >= 16) {
            uint32_t start = *(const uint32_t *)(p + 8), mend = *(const uint32_t *)(p + 12);
            kprintf("multiboot2: module %u at [0x%x, 0x%x)\n", n_modules, start, mend);
            mm_range_add(l->reserved, &l->n_reserved, start & ~0xfffu,
                         ((uint64_t)mend + 0xfff) & ~0xfffull);
            if (n_modules < MAX_MODULES) {
                modules[n_modules].base = start;
                modules[n_modules++].end = mend;
            }
        } else if ((t->type == MB2_TAG_ACPI1 || t->type == MB2_TAG_ACPI2) && !(have_rsdp && t->type == MB2_TAG_ACPI1)) {
            uint32_t n = t->size - 8 < sizeof acpi_rsdp ? t->size - 8 : sizeof acpi_rsdp;
            const uint8_t *src = (const uint8_t *)(p + 8);
            for (uint32_t i = 0; i < n; i++)
                acpi_rsdp[i] = src[i];
            have_rsdp = 1;
            kprintf("multiboot2: ACPI RSDP (v%u) from the loader\n", t->type == MB2_TAG_ACPI2 ? 2 : 1);
        }
        p += (t->size + 7) & ~7u;
    }
    mm_range_add(l->reserved, &l->n_reserved, (uintptr_t)__kernel_start,
                 ((uintptr_t)__kernel_end + 0xfff) & ~(uintptr_t)0xfff);
    move_off_trampoline(l);
    return have_mmap ? 0 : -1;
}
