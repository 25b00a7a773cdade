/*
 * user/elf.h - loading a static ELF64 executable into a user address space.
 */
#ifndef USER_ELF_H
#define USER_ELF_H

#include <stdint.h>

#include "user/uvm.h"

/*
 * Map and fill every PT_LOAD segment of the ELF64 x86-64 executable at
 * [img, img+size) into `as`: fresh zeroed frames, the file bytes copied in,
 * the rest (bss) left zero; writable when the segment says PF_W. Segments
 * must lie in [USER_MIN, USER_TOP). Checks that `entry` lies inside an
 * executable segment and equals the ELF's e_entry. Returns 0, or -1 with
 * *why set (what was mapped stays in `as`; uvm_destroy frees it).
 */
int elf_load(struct uvm *as, const void *img, uint64_t size, uint64_t entry,
             const char **why);

#endif
