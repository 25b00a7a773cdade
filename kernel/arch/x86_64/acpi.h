/*
 * arch/x86_64/acpi.h - the CPUs and the local APIC address, from ACPI.
 *
 * Only what SMP bring-up needs: find the RSDP (EBDA, then 0xE0000-0xFFFFF),
 * follow the XSDT (or the RSDT on ACPI 1.0), and read the MADT's processor
 * entries (type 0 local APIC, type 9 local x2APIC) and its local APIC
 * address (type 5 override included); and, for the profiler's clock, the
 * first I/O APIC and the ISA IRQ overrides (madt.c parses the entries).
 */
#ifndef ARCH_X86_64_ACPI_H
#define ARCH_X86_64_ACPI_H

#include "arch/x86_64/madt.h"      /* struct acpi_cpus */

/*
 * Parse the firmware tables into *out. Physical memory is read through the
 * boot identity map (boot.S maps 0..4 GiB), so this must run before
 * paging_init() replaces it. Returns 0, or -1 when there is no usable MADT
 * (out->count is then 0).
 */
int acpi_find_cpus(struct acpi_cpus *out);

#endif
