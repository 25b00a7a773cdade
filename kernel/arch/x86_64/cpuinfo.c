/*
 * arch/x86_64/cpuinfo.c - CPU identification for the drift fingerprint
 * (cpuinfo.h). Intel SDM vol. 2A "CPUID" for the signature and brand
 * string, vol. 3A 9.11.7.1 for the microcode revision; AMD keeps its patch
 * level in the MSR of the same number.
 */
#include "arch/x86_64/cpuinfo.h"

#include <stddef.h>

static void put_reg(char *out, uint32_t r)
{
    for (int i = 0; i < 4; i++)
        out[i] = (char)(r >> (8 * i));
}

void cpuinfo_vendor(uint32_t ebx, uint32_t ecx, uint32_t edx, char out[13])
{
    put_reg(out, ebx);
    put_reg(out + 4, edx);
    put_reg(out + 8, ecx);
    out[12] = '\0';
}

void cpuinfo_signature(uint32_t eax1, unsigned *family, unsigned *model,
                       unsigned *stepping)
{
    unsigned base_family = (eax1 >> 8) & 0xf;
    unsigned base_model = (eax1 >> 4) & 0xf;

    *stepping = eax1 & 0xf;
    *family = base_family == 0xf ? base_family + ((eax1 >> 20) & 0xff) : base_family;
    *model = base_family == 0x6 || base_family == 0xf
        ? (((eax1 >> 16) & 0xf) << 4) + base_model : base_model;
}

void cpuinfo_brand(const uint32_t regs[12], char out[49])
{
    char raw[48];
    size_t n = 0;

    for (int i = 0; i < 12; i++)
        put_reg(raw + 4 * i, regs[i]);
    for (size_t i = 0; i < sizeof raw && raw[i] != '\0'; i++) {
        char c = raw[i];
        if (c == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

enum cpuinfo_ucode cpuinfo_ucode_method(const char *vendor, uint32_t edx1)
{
    if (!(edx1 & (1u << 5)))
        return CPUINFO_UCODE_NONE;
    if (same(vendor, "GenuineIntel"))
        return CPUINFO_UCODE_INTEL;
    if (same(vendor, "AuthenticAMD") || same(vendor, "HygonGenuine"))
        return CPUINFO_UCODE_AMD;
    return CPUINFO_UCODE_NONE;
}

uint32_t cpuinfo_ucode_revision(enum cpuinfo_ucode method, uint64_t msr)
{
    switch (method) {
    case CPUINFO_UCODE_INTEL:
        return (uint32_t)(msr >> 32);
    case CPUINFO_UCODE_AMD:
        return (uint32_t)msr;
    default:
        return 0;
    }
}

#ifndef CPUINFO_HOST
static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

void cpuinfo_read(struct cpuinfo *info)
{
    uint32_t a, b, c, d;

    cpuid(0, &a, &b, &c, &d);
    cpuinfo_vendor(b, c, d, info->vendor);
    cpuid(1, &a, &b, &c, &d);
    cpuinfo_signature(a, &info->family, &info->model, &info->stepping);
    uint32_t edx1 = d;

    info->brand[0] = '\0';
    cpuid(0x80000000u, &a, &b, &c, &d);
    if (a >= 0x80000004u) {
        uint32_t regs[12];
        for (uint32_t leaf = 0; leaf < 3; leaf++)
            cpuid(0x80000002u + leaf, &regs[4 * leaf], &regs[4 * leaf + 1],
                  &regs[4 * leaf + 2], &regs[4 * leaf + 3]);
        cpuinfo_brand(regs, info->brand);
    }

    enum cpuinfo_ucode method = cpuinfo_ucode_method(info->vendor, edx1);
    info->has_microcode = method != CPUINFO_UCODE_NONE;
    info->microcode = 0;
    if (method == CPUINFO_UCODE_INTEL) {
        /* SDM: clear the MSR, let CPUID(1) fill it, read it back. */
        __asm__ volatile("wrmsr" : : "c"(MSR_IA32_BIOS_SIGN_ID), "a"(0), "d"(0));
        cpuid(1, &a, &b, &c, &d);
    }
    if (method != CPUINFO_UCODE_NONE) {
        uint32_t lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_IA32_BIOS_SIGN_ID));
        info->microcode = cpuinfo_ucode_revision(method, ((uint64_t)hi << 32) | lo);
    }
}
#endif
