/*
 * tests/test_cpuinfo.c - host unit tests of the CPU identification behind
 * the `machine` marker (arch/x86_64/cpuinfo.c): the display signature, the
 * vendor and brand strings, and how the microcode revision is read. The
 * CPUID values are those of real CPUs. The last line printed is "N passed,
 * M failed"; the exit status is non-zero on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/cpuinfo.h"

static int failed_checks;

#define CHECK_EQ(a, b) do { unsigned long long _a = (a), _b = (b); if (_a != _b) { \
    failed_checks++; fprintf(stderr, "  %s:%d: %s == %s failed: 0x%llx != 0x%llx\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

#define CHECK_STR(a, b) do { if (strcmp((a), (b)) != 0) { failed_checks++; \
    fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, (a), (b)); } } while (0)

static void signature(uint32_t eax, unsigned family, unsigned model, unsigned stepping)
{
    unsigned f, m, s;
    cpuinfo_signature(eax, &f, &m, &s);
    CHECK_EQ(f, family);
    CHECK_EQ(m, model);
    CHECK_EQ(s, stepping);
}

static void test_signature_family6_extended_model(void)
{
    signature(0x00050654, 6, 0x55, 4);      /* Xeon Skylake-SP */
    signature(0x000906ea, 6, 0x9e, 10);     /* Core Coffee Lake */
}

static void test_signature_family15_extended_family_and_model(void)
{
    signature(0x00830f10, 0x17, 0x31, 0);   /* EPYC Rome (Zen 2) */
    signature(0x00a20f12, 0x19, 0x21, 2);   /* Ryzen Vermeer (Zen 3) */
    signature(0x00000f29, 0xf, 0x2, 9);     /* Pentium 4 Northwood */
}

static void test_signature_other_family_ignores_extended_model(void)
{
    signature(0x00010543, 5, 4, 3);
}

/* CPUID 0x80000002..4 registers holding s, NUL-padded to 48 bytes. */
static void brand_regs(const char *s, uint32_t regs[12])
{
    char raw[48] = { 0 };
    memcpy(raw, s, strlen(s) < 48 ? strlen(s) : 48);
    for (int i = 0; i < 12; i++)
        regs[i] = (uint32_t)(unsigned char)raw[4 * i] | (uint32_t)(unsigned char)raw[4 * i + 1] << 8 |
                  (uint32_t)(unsigned char)raw[4 * i + 2] << 16 | (uint32_t)(unsigned char)raw[4 * i + 3] << 24;
}

static void test_brand_leading_spaces_trimmed(void)
{
    uint32_t regs[12];
    char out[49];
    brand_regs("      Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", regs);
    cpuinfo_brand(regs, out);
    CHECK_STR(out, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
}

static void test_brand_padding_and_repeated_spaces(void)
{
    uint32_t regs[12];
    char out[49];
    brand_regs("AMD EPYC 7702 64-Core Processor                 ", regs);
    cpuinfo_brand(regs, out);
    CHECK_STR(out, "AMD EPYC 7702 64-Core Processor");
    brand_regs("QEMU  Virtual CPU version 2.5+", regs);
    cpuinfo_brand(regs, out);
    CHECK_STR(out, "QEMU Virtual CPU version 2.5+");
}

static void test_brand_full_48_bytes_no_nul(void)
{
    uint32_t regs[12];
    char out[49];
    const char *full = "0123456789abcdef0123456789abcdef0123456789abcdef";
    brand_regs(full, regs);
    cpuinfo_brand(regs, out);
    CHECK_STR(out, full);
}

static void test_vendor_ebx_edx_ecx(void)
{
    char v[13];
    cpuinfo_vendor(0x756e6547, 0x6c65746e, 0x49656e69, v);
    CHECK_STR(v, "GenuineIntel");
    cpuinfo_vendor(0x68747541, 0x444d4163, 0x69746e65, v);
    CHECK_STR(v, "AuthenticAMD");
}

static void test_ucode_method_by_vendor_and_msr_support(void)
{
    CHECK_EQ(cpuinfo_ucode_method("GenuineIntel", 1u << 5), CPUINFO_UCODE_INTEL);
    CHECK_EQ(cpuinfo_ucode_method("AuthenticAMD", 1u << 5), CPUINFO_UCODE_AMD);
    CHECK_EQ(cpuinfo_ucode_method("GenuineIntel", 0), CPUINFO_UCODE_NONE);
    CHECK_EQ(cpuinfo_ucode_method("GenuineIota", 1u << 5), CPUINFO_UCODE_NONE);
    CHECK_EQ(cpuinfo_ucode_method("CentaurHauls", 1u << 5), CPUINFO_UCODE_NONE);
}

static void test_ucode_revision_half_by_vendor(void)
{
    CHECK_EQ(cpuinfo_ucode_revision(CPUINFO_UCODE_INTEL, 0x000000b400000000ull), 0xb4);
    CHECK_EQ(cpuinfo_ucode_revision(CPUINFO_UCODE_AMD, 0x000000000830107aull), 0x0830107a);
    CHECK_EQ(cpuinfo_ucode_revision(CPUINFO_UCODE_NONE, 0x1234ull), 0);
}

static const struct { const char *name; void (*fn)(void); } tests[] = {
    { "signature_family6_extended_model", test_signature_family6_extended_model },
    { "signature_family15_extended_family_and_model", test_signature_family15_extended_family_and_model },
    { "signature_other_family_ignores_extended_model", test_signature_other_family_ignores_extended_model },
    { "brand_leading_spaces_trimmed", test_brand_leading_spaces_trimmed },
    { "brand_padding_and_repeated_spaces", test_brand_padding_and_repeated_spaces },
    { "brand_full_48_bytes_no_nul", test_brand_full_48_bytes_no_nul },
    { "vendor_ebx_edx_ecx", test_vendor_ebx_edx_ecx },
    { "ucode_method_by_vendor_and_msr_support", test_ucode_method_by_vendor_and_msr_support },
    { "ucode_revision_half_by_vendor", test_ucode_revision_half_by_vendor },
};

int main(void)
{
    int passed = 0, failed = 0;

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed_checks;
        tests[i].fn();
        int ok = failed_checks == before;
        printf("%s cpuinfo/%s\n", ok ? "PASS" : "FAIL", tests[i].name);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
