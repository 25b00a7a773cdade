/*
 * user/elf.c - the ELF64 loader for static user executables (ET_EXEC,
 * x86-64, little-endian). Only program headers matter; sections are
 * ignored. All header values are checked against the image first.
 */
#include "arch/arch.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "user/elf.h"

#define PT_LOAD     1
#define PF_X        1
#define PF_W        2
#define ET_EXEC     2
#define EM_X86_64   62

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static int header_ok(const struct elf64_ehdr *h, uint64_t size)
{
    return size >= sizeof *h && memcmp(h->ident, "\177ELF", 4) == 0 &&
           h->ident[4] == 2 /* 64-bit */ && h->ident[5] == 1 /* LE */ &&
           h->type == ET_EXEC && h->machine == EM_X86_64 &&
           h->phentsize == sizeof(struct elf64_phdr) && h->phnum > 0 &&
           h->phoff <= size &&
           (uint64_t)h->phnum * sizeof(struct elf64_phdr) <= size - h->phoff;
}

/* Map one segment page by page and copy its file bytes. */
static int load_segment(struct uvm *as, const uint8_t *img,
                        const struct elf64_phdr *ph)
{
    uint64_t start = ph->vaddr & ~(PAGE_SIZE - 1);
    uint64_t end = ph->vaddr + ph->memsz;
    unsigned flags = (ph->flags & PF_W) ? UVM_WRITE : 0;

    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        phys_t f = uvm_translate(as, va, 0);
        if (!f) {
            f = frame_alloc(0);                 /* zero-filled */
            if (!f)
                return -1;
            if (uvm_map(as, va, f, flags) < 0) {
                frame_free(f, 0);
                return -1;
            }
        } else if (uvm_map(as, va, f, flags) < 0) {
            return -1;
        }
        /* The part of [vaddr, vaddr+filesz) inside this page. */
        uint64_t lo = va > ph->vaddr ? va : ph->vaddr;
        uint64_t hi = va + PAGE_SIZE;
        if (hi > ph->vaddr + ph->filesz)
            hi = ph->vaddr + ph->filesz;
        if (lo < hi)
            memcpy((uint8_t *)arch_phys_to_virt(f) + (lo - va),
                   img + ph->offset + (lo - ph->vaddr), hi - lo);
    }
    return 0;
}

int elf_load(struct uvm *as, const void *img, uint64_t size, uint64_t entry,
             const char **why)
{
    const struct elf64_ehdr *h = img;
    int entry_ok = 0;

    if (!header_ok(h, size))
        return *why = "not a static ELF64 x86-64 executable", -1;
    if (h->entry != entry)
        return *why = "initfs entry point differs from the ELF's", -1;
    const struct elf64_phdr *ph =
        (const struct elf64_phdr *)((const uint8_t *)img + h->phoff);
    for (unsigned i = 0; i < h->phnum; i++) {
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
            continue;
        if (ph[i].filesz > ph[i].memsz || ph[i].offset > size ||
            ph[i].filesz > size - ph[i].offset)
            return *why = "segment outside the file", -1;
        if (ph[i].vaddr < USER_MIN || ph[i].vaddr >= USER_TOP ||
            ph[i].memsz > USER_TOP - ph[i].vaddr)
            return *why = "segment outside user space", -1;
        if (load_segment(as, img, &ph[i]) < 0)
            return *why = "out of memory or overlapping segments", -1;
        if ((ph[i].flags & PF_X) && entry >= ph[i].vaddr &&
            entry < ph[i].vaddr + ph[i].memsz)
            entry_ok = 1;
    }
    if (!entry_ok)
        return *why = "entry point not in an executable segment", -1;
    return 0;
}
