/*
 * tests/test_irq.c - host unit tests of the interrupt routing the NMI
 * profiler's clock depends on: MADT parsing (arch/x86_64/madt.c), the I/O
 * APIC redirection entry and pin lookup (ioapic.h), and the EOIs a stray
 * 8259 interrupt needs (pic.h). The last line printed is "N passed, M
 * failed"; the exit status is non-zero on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/madt.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/unwind.h"

static int failed_checks;

#define CHECK_EQ(a, b) do { unsigned long long _a = (a), _b = (b); if (_a != _b) { \
    failed_checks++; fprintf(stderr, "  %s:%d: %s == %s failed: 0x%llx != 0x%llx\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

/* A MADT builder: the 44-byte header, then entries appended in order. */
struct table { uint8_t b[512]; uint32_t n; };

static void put(struct table *t, const void *p, uint32_t n)
{
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static void header(struct table *t, uint32_t lapic)
{
    memset(t, 0, sizeof *t);
    memcpy(t->b, "APIC", 4);
    memcpy(t->b + 36, &lapic, 4);
    t->n = 44;
}

static void lapic(struct table *t, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = { 0, 8, id, id };
    memcpy(e + 4, &flags, 4);
    put(t, e, sizeof e);
}

static void ioapic(struct table *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    uint8_t e[12] = { 1, 12, id, 0 };
    memcpy(e + 4, &addr, 4);
    memcpy(e + 8, &gsi_base, 4);
    put(t, e, sizeof e);
}

static void iso(struct table *t, uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t e[10] = { 2, 10, bus, irq };
    memcpy(e + 4, &gsi, 4);
    memcpy(e + 8, &flags, 2);
    put(t, e, sizeof e);
}

static void finish(struct table *t)
{
    memcpy(t->b + 4, &t->n, 4);
}

/* What QEMU's pc machine lists: two CPUs, one I/O APIC, IRQ0 on GSI 2 and
 * the PCI IRQs level/active-high. */
static void test_madt_qemu_pc(void)
{
    struct table t;
    struct acpi_cpus a;

    header(&t, 0xfee00000);
    lapic(&t, 0, 1);
    lapic(&t, 1, 1);
    ioapic(&t, 0, 0xfec00000, 0);
    iso(&t, 0, 0, 2, 0);
    iso(&t, 0, 5, 5, 0xd);
    iso(&t, 0, 9, 9, 0xd);
    finish(&t);
    madt_parse(t.b, t.n, &a);
    CHECK_EQ(a.count, 2);
    CHECK_EQ(a.lapic_phys, 0xfee00000);
    CHECK_EQ(a.ioapic_phys, 0xfec00000);
    CHECK_EQ(a.ioapic_gsi_base, 0);
    CHECK_EQ(a.isa_gsi[0], 2);
    CHECK_EQ(a.isa_flags[0], 0);
    CHECK_EQ(a.isa_gsi[1], 1);              /* not overridden: identity */
    CHECK_EQ(a.isa_gsi[9], 9);
    CHECK_EQ(a.isa_flags[9], 0xd);
}

/* Only the first I/O APIC is kept; an override of a non-ISA bus or of an
 * IRQ beyond 15 changes nothing; a truncated entry ends the walk. */
static void test_madt_edge_cases(void)
{
    struct table t;
    struct acpi_cpus a;

    header(&t, 0xfee00000);
    ioapic(&t, 0, 0xfec00000, 0);
    ioapic(&t, 1, 0xfec01000, 24);
    iso(&t, 1, 0, 7, 0);
    iso(&t, 0, 16, 7, 0);
    lapic(&t, 0, 0);                        /* disabled: not a usable CPU */
    finish(&t);
    madt_parse(t.b, t.n, &a);
    CHECK_EQ(a.ioapic_phys, 0xfec00000);
    CHECK_EQ(a.isa_gsi[0], 0);
    CHECK_EQ(a.count, 0);

    header(&t, 0xfee00000);
    lapic(&t, 3, 1);
    iso(&t, 0, 0, 2, 0);
    t.b[t.n - 9] = 40;                      /* the override claims 40 bytes */
    finish(&t);
    madt_parse(t.b, t.n, &a);
    CHECK_EQ(a.count, 1);
    CHECK_EQ(a.apic_id[0], 3);
    CHECK_EQ(a.isa_gsi[0], 0);

    madt_parse(NULL, 0, &a);                /* no table: defaults only */
    CHECK_EQ(a.count, 0);
    CHECK_EQ(a.ioapic_phys, 0);
    CHECK_EQ(a.isa_gsi[15], 15);
}

/* The clock's entry: NMI delivery, physical mode, unmasked, edge even when
 * the override says level, the source's polarity, dest in bits 63:56. */
static void test_ioapic_nmi_entry(void)
{
    uint64_t e = ioapic_nmi_entry(IOAPIC_BROADCAST, 0);

    CHECK_EQ((e >> 8) & 7, 4);              /* delivery mode NMI */
    CHECK_EQ((e >> 11) & 1, 0);             /* physical destination */
    CHECK_EQ(e & IOAPIC_MASKED, 0);
    CHECK_EQ(e & IOAPIC_TRIGGER_LEVEL, 0);
    CHECK_EQ(e & IOAPIC_POLARITY_LOW, 0);
    CHECK_EQ(e >> 56, 0xff);
    CHECK_EQ(e & 0xff, 0);                  /* the vector is unused for NMI */

    e = ioapic_nmi_entry(3, MADT_POLARITY_LOW | MADT_TRIGGER_LEVEL);
    CHECK_EQ(e & IOAPIC_TRIGGER_LEVEL, 0);
    CHECK_EQ(e & IOAPIC_POLARITY_LOW, IOAPIC_POLARITY_LOW);
    CHECK_EQ(e >> 56, 3);

    e = ioapic_nmi_entry(0, 0x1);           /* "active high" said explicitly */
    CHECK_EQ(e & IOAPIC_POLARITY_LOW, 0);
}

static void test_ioapic_pin(void)
{
    CHECK_EQ(ioapic_pin(2, 0, 24), 2);
    CHECK_EQ(ioapic_pin(23, 0, 24), 23);
    CHECK_EQ((unsigned)ioapic_pin(24, 0, 24), (unsigned)-1);
    CHECK_EQ(ioapic_pin(26, 24, 24), 2);
    CHECK_EQ((unsigned)ioapic_pin(2, 24, 24), (unsigned)-1);
}

/* A real IRQ is ended at its chip (slave IRQs at the master too); a
 * spurious IRQ7 needs no EOI, a spurious IRQ15 the master's only. */
static void test_pic_stray_eois(void)
{
    CHECK_EQ(pic_stray_eois(0, 0x01, 0), PIC_EOI_MASTER);
    CHECK_EQ(pic_stray_eois(7, 0x00, 0), 0);
    CHECK_EQ(pic_stray_eois(7, 0x01, 0), 0);    /* IRQ0 in service, IRQ7 spurious */
    CHECK_EQ(pic_stray_eois(7, 0x80, 0), PIC_EOI_MASTER);
    CHECK_EQ(pic_stray_eois(15, 0x04, 0x00), PIC_EOI_MASTER);
    CHECK_EQ(pic_stray_eois(15, 0x04, 0x80), PIC_EOI_MASTER | PIC_EOI_SLAVE);
    CHECK_EQ(pic_stray_eois(8, 0x04, 0x01), PIC_EOI_MASTER | PIC_EOI_SLAVE);
    CHECK_EQ(pic_stray_eois(16, 0xff, 0xff), 0);
}

/* The profiler's unwinder: at a prologue or a ret the return address is on
 * the stack (push %rbp / ret: at RSP, after push %rbp: at RSP + 8); anywhere
 * else the frame is set up. Byte strings as gcc -O2 emits them. */
static void test_unwind_ret_offset(void)
{
    static const uint8_t push_rbp[8] = { 0x55, 0x48, 0x89, 0xe5, 0x41, 0x57 };
    static const uint8_t mov_rsp_rbp[8] = { 0x48, 0x89, 0xe5, 0x41, 0x57 };
    static const uint8_t endbr_push[8] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5 };
    static const uint8_t endbr_other[8] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xf8 };
    static const uint8_t ret[8] = { 0xc3, 0x66, 0x90 };
    static const uint8_t mov_rdx_rax[8] = { 0x48, 0x89, 0xd0 };     /* mov %rdx,%rax: not the prologue */
    static const uint8_t pop_rbp[8] = { 0x5d, 0xc3 };               /* frame still set up */
    static const uint8_t store[8] = { 0x48, 0x89, 0x37 };           /* mov %rsi,(%rdi) */

    CHECK_EQ(unwind_ret_offset(push_rbp), 0);
    CHECK_EQ(unwind_ret_offset(mov_rsp_rbp), 8);
    CHECK_EQ(unwind_ret_offset(endbr_push), 0);
    CHECK_EQ((unsigned)unwind_ret_offset(endbr_other), (unsigned)UNWIND_FRAME_SET);
    CHECK_EQ(unwind_ret_offset(ret), 0);
    CHECK_EQ((unsigned)unwind_ret_offset(mov_rdx_rax), (unsigned)UNWIND_FRAME_SET);
    CHECK_EQ((unsigned)unwind_ret_offset(pop_rbp), (unsigned)UNWIND_FRAME_SET);
    CHECK_EQ((unsigned)unwind_ret_offset(store), (unsigned)UNWIND_FRAME_SET);
}

/* A frameless callee: the word at RSP counts as its return address only
 * when it follows a direct call to a function at or below RIP that sets no
 * frame up. Image at 0x1000: a frameless leaf at 0x1000, a framed function
 * at 0x1100, a caller with `call 0x1000` at 0x1200 and `call 0x1100` at
 * 0x1210, a `call *%rax` at 0x1220. */
static void test_unwind_frameless_return(void)
{
    static uint8_t t[0x300];
    const uint64_t base = 0x1000, end = base + sizeof t;

    memset(t, 0x90, sizeof t);
    t[0x000] = 0x48; t[0x001] = 0x89; t[0x002] = 0xd0;         /* leaf: mov %rdx,%rax */
    t[0x100] = 0x55; t[0x101] = 0x48; t[0x102] = 0x89; t[0x103] = 0xe5;
    int32_t to_leaf = (int32_t)(0x1000 - 0x1205), to_framed = (int32_t)(0x1100 - 0x1215);
    t[0x200] = 0xe8; memcpy(&t[0x201], &to_leaf, 4);
    t[0x210] = 0xe8; memcpy(&t[0x211], &to_framed, 4);
    t[0x220] = 0xff; t[0x221] = 0xd0;                           /* call *%rax */

    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1010, 0x1205), 1);
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1000, 0x1205), 1);
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1110, 0x1215), 0);   /* callee keeps a frame */
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1010, 0x1222), 0);   /* indirect call */
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1010, 0x1206), 0);   /* not after a call */
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1010, 0x1215), 0);   /* callee above RIP */
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1010, 0xdead0000), 0);   /* not in the image */
    CHECK_EQ(unwind_frameless_return(t, base, end, 0x1010, 0x1003), 0);   /* too low for a call */
}

struct test {
    const char *name;
    void (*fn)(void);
};

static const struct test tests[] = {
    { "madt_qemu_pc", test_madt_qemu_pc },
    { "madt_edge_cases", test_madt_edge_cases },
    { "ioapic_nmi_entry", test_ioapic_nmi_entry },
    { "ioapic_pin", test_ioapic_pin },
    { "pic_stray_eois", test_pic_stray_eois },
    { "unwind_ret_offset", test_unwind_ret_offset },
    { "unwind_frameless_return", test_unwind_frameless_return },
};

int main(void)
{
    int passed = 0, failed = 0;

    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed_checks;
        tests[i].fn();
        int ok = failed_checks == before;
        printf("%s irq/%s\n", ok ? "PASS" : "FAIL", tests[i].name);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
