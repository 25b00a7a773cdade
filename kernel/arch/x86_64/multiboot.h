/*
 * arch/x86_64/multiboot.h - reading the multiboot (v1) information.
 */
#ifndef ARCH_X86_64_MULTIBOOT_H
#define ARCH_X86_64_MULTIBOOT_H

#include <stdint.h>

#include "mm/range.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36D76289u

/*
 * Fill l from the multiboot information at physical address mbi (reached
 * through the boot identity map): usable RAM from the memory map (type 1),
 * clipped to `limit`; reserved: the kernel image and every boot module.
 * Logs the map. Returns 0, or -1 if the loader gave no memory map. Must run
 * before any allocator writes to memory: the information itself lives in
 * memory the map calls usable.
 */
int multiboot_read_layout(uint32_t mbi, phys_t limit, struct mm_layout *l);

/* The same from multiboot2 information (tags: memory map, modules, ACPI
 * RSDP). The RSDP copy is kept for multiboot_acpi_rsdp(). */
int multiboot2_read_layout(uint32_t mbi, phys_t limit, struct mm_layout *l);

/* The ACPI RSDP the loader copied into multiboot2 information (UEFI firmware
 * keeps it out of the BIOS area that acpi.c scans), or 0 when there was none. */
const void *multiboot_acpi_rsdp(void);

/* Boot module i (in load order) as [base, end), exact bytes, from the last
 * multiboot_read_layout(). Returns 0, or -1 when there is no module i. */
int multiboot_module(unsigned i, struct mm_range *out);

#endif
