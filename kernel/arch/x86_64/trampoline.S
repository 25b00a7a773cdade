/*
 * trampoline.S - the application processors' first instructions.
 *
 * smp.c copies ap_trampoline_start..ap_trampoline_end to TRAMP_BASE
 * (0x8000, kept out of the frame allocator) and sends the SIPI with page
 * TRAMP_BASE >> 12, so an AP starts here in real mode at CS:IP = 0800:0000.
 * The code is position-dependent on TRAMP_BASE (all addresses below are
 * TRAMP_BASE + offset). It goes real mode -> 32-bit protected mode (own flat
 * GDT) -> long mode on the kernel's page tables (tramp_cr3; smp.c maps the
 * trampoline page 1:1 in them for the switch) -> calls the C entry
 * tramp_entry(tramp_arg) on the stack tramp_stack. smp.c fills the four
 * words before each SIPI and starts one AP at a time.
 */
#define TRAMP_BASE      0x8000
#define REL(x)          (TRAMP_BASE + ((x) - ap_trampoline_start))

        .text
        .code16
        .globl ap_trampoline_start
ap_trampoline_start:
        cli
        cld
        movw    %cs, %ax
        movw    %ax, %ds
        lgdtl   (tramp_gdtr - ap_trampoline_start)
        movl    %cr0, %eax
        orl     $1, %eax                        /* PE */
        movl    %eax, %cr0
        ljmpl   $0x08, $REL(tramp_pm32)

        .code32
tramp_pm32:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    %cr4, %eax
        orl     $0x20, %eax                     /* PAE */
        movl    %eax, %cr4
        movl    REL(ap_tramp_cr3), %eax
        movl    %eax, %cr3
        movl    $0xc0000080, %ecx               /* EFER.LME */
        rdmsr
        orl     $0x100, %eax
        wrmsr
        movl    %cr0, %eax
        orl     $0x80000000, %eax               /* PG */
        movl    %eax, %cr0
        ljmpl   $0x18, $REL(tramp_lm64)

        .code64
tramp_lm64:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        xorl    %eax, %eax
        movw    %ax, %fs
        movw    %ax, %gs
        movq    REL(ap_tramp_stack), %rsp
        movq    REL(ap_tramp_arg), %rdi
        xorl    %ebp, %ebp                      /* ends backtraces */
        movq    REL(ap_tramp_entry), %rax
        callq   *%rax
1:      cli
        hlt
        jmp     1b

        .balign 8
tramp_gdt:
        .quad   0
        .quad   0x00cf9a000000ffff              /* 0x08: 32-bit code */
        .quad   0x00cf92000000ffff              /* 0x10: data */
        .quad   0x00af9a000000ffff              /* 0x18: 64-bit code */
tramp_gdtr:
        .word   4 * 8 - 1
        .long   REL(tramp_gdt)

        .balign 8
        .globl  ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry, ap_tramp_arg
ap_tramp_cr3:   .quad 0
ap_tramp_stack: .quad 0
ap_tramp_entry: .quad 0
ap_tramp_arg:   .quad 0
        .globl  ap_trampoline_end
ap_trampoline_end:
