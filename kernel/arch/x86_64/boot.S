/*
 * boot.S - multiboot (v1) and multiboot2 entry: 32-bit protected mode to 64-bit long mode.
 *
 * The loader (QEMU -kernel, iPXE, GRUB) enters _start in 32-bit protected
 * mode with paging off, EAX = multiboot magic and EBX = physical address of
 * the multiboot information (v1 from QEMU -kernel and iPXE, v2 from GRUB's
 * multiboot2 command, which UEFI GRUB needs to pass the ACPI RSDP). This file:
 *   1. keeps the TSC at entry as the kernel's time zero (boot_tsc0),
 *   2. zeroes .bss (loaders should, but a cheap loop makes it certain),
 *   3. builds boot page tables: the first 4 GiB identity mapped and the same
 *      4 GiB mapped again at PHYS_OFFSET (0xffff800000000000, the direct map)
 *      with 2 MiB pages,
 *   4. enables PAE, long mode and paging, loads a 64-bit GDT, and
 *   5. calls kmain(magic, mbi, tsc_at_long_mode) on the boot stack.
 * The boot page tables are replaced by kernel-managed ones in paging_init().
 */

#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003      /* page-align modules, want memory info */

#define CR0_PE          0x00000001
#define CR0_PG          0x80000000
#define CR4_PAE         0x00000020
#define MSR_EFER        0xC0000080
#define EFER_LME        0x00000100
#define PTE_P_W         0x003
#define PDE_2M          0x083           /* present, writable, page size */

#define BOOT_STACK_SIZE 65536

        .section .multiboot, "a"
        .balign 4
multiboot_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        /* Multiboot2 (specification 3.1.1): 8-byte aligned, within the first
         * 32 KiB; no tags but the end tag, so the loader uses the ELF's load
         * addresses and entry, and enters in 32-bit protected mode as v1 does. */
#define MB2_MAGIC       0xE85250D6
#define MB2_ARCH_I386   0
        .balign 8
multiboot2_header:
        .long MB2_MAGIC
        .long MB2_ARCH_I386
        .long multiboot2_header_end - multiboot2_header
        .long -(MB2_MAGIC + MB2_ARCH_I386 + (multiboot2_header_end - multiboot2_header))
        .word 0, 0              /* end tag: type 0, flags 0 */
        .long 8                 /* size 8 */
multiboot2_header_end:

        .section .text.boot, "ax"
        .code32
        .globl _start
_start:
        /* EAX holds the magic and rdtsc clobbers it, so saving it is the only
         * instruction that runs before the time-zero read. */
        movl    %eax, %ebp
        rdtsc
        movl    %eax, boot_tsc0
        movl    %edx, boot_tsc0 + 4
        movl    %ebp, boot_magic
        movl    %ebx, boot_mbi

        cld
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        shrl    $2, %ecx
        xorl    %eax, %eax
        rep stosl

        movl    $boot_stack_top, %esp

        /* Long mode needs CPUID leaf 0x80000001 EDX bit 29. */
        movl    $0x80000000, %eax
        cpuid
        cmpl    $0x80000001, %eax
        jb      no_long_mode
        movl    $0x80000001, %eax
        cpuid
        btl     $29, %edx
        jnc     no_long_mode

        /* PML4[0] (identity) and PML4[256] (direct map) share one PDPT. */
        movl    $boot_pdpt + PTE_P_W, %eax
        movl    %eax, boot_pml4
        movl    %eax, boot_pml4 + 256 * 8

        /* PDPT[0..3] -> four page directories, 1 GiB each. */
        movl    $boot_pd + PTE_P_W, %eax
        xorl    %ecx, %ecx
1:      movl    %eax, boot_pdpt(, %ecx, 8)
        addl    $4096, %eax
        incl    %ecx
        cmpl    $4, %ecx
        jb      1b

        /* 2048 2 MiB entries cover 0..4 GiB. */
        movl    $PDE_2M, %eax
        xorl    %ecx, %ecx
2:      movl    %eax, boot_pd(, %ecx, 8)
        addl    $0x200000, %eax
        incl    %ecx
        cmpl    $2048, %ecx
        jb      2b

        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4

        movl    $boot_pml4, %eax
        movl    %eax, %cr3

        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr

        lgdt    gdt64_ptr

        movl    %cr0, %eax
        orl     $(CR0_PG | CR0_PE), %eax
        movl    %eax, %cr0

        ljmp    $0x08, $long_mode_entry

no_long_mode:
        /* Nothing to print with yet: report fail to QEMU's debug exit and stop. */
        movw    $0xf4, %dx
        movl    $1, %eax
        outl    %eax, %dx
3:      cli
        hlt
        jmp     3b

        .code64
long_mode_entry:
        rdtsc
        shlq    $32, %rdx
        orq     %rax, %rdx              /* rdx = TSC at long mode, kmain's 3rd arg */

        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        xorw    %ax, %ax
        movw    %ax, %fs
        movw    %ax, %gs

        movabsq $boot_stack_top, %rsp
        xorl    %ebp, %ebp              /* a zero frame pointer ends backtraces */
        movl    boot_magic, %edi
        movl    boot_mbi, %esi
        call    kmain

4:      cli
        hlt
        jmp     4b

/* ------------------------------------------------------------------------ */

        .section .data
        .balign 8
        .globl boot_tsc0
boot_tsc0:
        .quad 0
boot_magic:
        .long 0
boot_mbi:
        .long 0

        /* Null, kernel code (0x08), kernel data (0x10), then two free slots
         * for the 64-bit TSS descriptor that gdt_init() fills (0x18). */
        .balign 16
        .globl gdt64
gdt64:
        .quad 0
        .quad 0x00af9a000000ffff
        .quad 0x00cf92000000ffff
        .quad 0
        .quad 0
gdt64_end:

        .globl gdt64_ptr
gdt64_ptr:
        .word gdt64_end - gdt64 - 1
        .quad gdt64

        .section .bss
        .balign 4096
        .globl boot_pml4
boot_pml4:
        .skip 4096
boot_pdpt:
        .skip 4096
boot_pd:
        .skip 4 * 4096

        .balign 16
        .globl boot_stack_bottom
boot_stack_bottom:
        .skip BOOT_STACK_SIZE
        .globl boot_stack_top
boot_stack_top:
