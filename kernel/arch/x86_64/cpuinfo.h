/*
 * arch/x86_64/cpuinfo.h - what CPU the kernel runs on, for the lab's drift
 * fingerprint (lab-agent/Machines/Health: a BIOS or microcode update must
 * never be blamed on a commit). main.c prints it as the `machine` marker
 * (lab-contracts/Console/PROTOCOL.md).
 *
 * The decoding below is pure (host unit tests: tests/test_cpuinfo.c);
 * cpuinfo_read() executes CPUID and reads the microcode MSR.
 */
#ifndef ARCH_X86_64_CPUINFO_H
#define ARCH_X86_64_CPUINFO_H

#include <stdint.h>

struct cpuinfo {
    char vendor[13];            /* "GenuineIntel", "AuthenticAMD", ... */
    char brand[49];             /* trimmed brand string, "" when none */
    unsigned family, model, stepping;   /* display values (SDM vol. 2A, CPUID) */
    int has_microcode;
    uint32_t microcode;         /* the loaded microcode revision */
};

/* How the microcode revision can be read on this CPU. */
enum cpuinfo_ucode {
    CPUINFO_UCODE_NONE,         /* no MSRs, or a vendor we do not know */
    CPUINFO_UCODE_INTEL,        /* write 0 to IA32_BIOS_SIGN_ID, CPUID(1), read its high half */
    CPUINFO_UCODE_AMD,          /* read PATCH_LEVEL (the same MSR number), low half */
};

#define MSR_IA32_BIOS_SIGN_ID 0x8b

/* The vendor string from CPUID leaf 0 (EBX, EDX, ECX in that order). */
void cpuinfo_vendor(uint32_t ebx, uint32_t ecx, uint32_t edx, char out[13]);

/* Display family, model and stepping from CPUID.1:EAX: the extended family
 * counts only for family 0xF, the extended model for families 6 and 0xF. */
void cpuinfo_signature(uint32_t eax1, unsigned *family, unsigned *model,
                       unsigned *stepping);

/* The brand string from CPUID leaves 0x80000002..4 (EAX, EBX, ECX, EDX of
 * each, 48 bytes), without leading, trailing or repeated spaces. */
void cpuinfo_brand(const uint32_t regs[12], char out[49]);

/* Which way reads the microcode revision, from the vendor and CPUID.1:EDX
 * (bit 5: RDMSR/WRMSR). */
enum cpuinfo_ucode cpuinfo_ucode_method(const char *vendor, uint32_t edx1);

/* The revision from the MSR's value. */
uint32_t cpuinfo_ucode_revision(enum cpuinfo_ucode method, uint64_t msr);

/* Fills *info from this CPU (kernel only: CPUID, RDMSR, WRMSR). */
void cpuinfo_read(struct cpuinfo *info);

#endif
