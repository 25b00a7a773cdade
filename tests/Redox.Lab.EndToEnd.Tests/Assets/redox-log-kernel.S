/*
 * A stand-in for a kernel the lab knows nothing about: a 32-bit multiboot image that prints only
 * log lines in the real Redox kernel's format (no lab markers) on COM1, then stops QEMU through
 * isa-debug-exit. The end-to-end tests judge it with a pipeline's regexes alone.
 * Build: as --32 -o k.o redox-log-kernel.S && ld -m elf_i386 -Ttext 0x100000 -e start -o k.elf k.o
 * With --defsym GARBAGE=1 it prints the bytes of foreign/garbage.bin (NUL-free) instead: a kernel gone mad.
 */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0
    .section .text
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl start
start:
    mov $stack_top, %esp
    mov $log, %esi
1:  lodsb
    test %al, %al
    jz 3f
    mov %al, %bl
    mov $0x3fd, %dx          /* wait until the transmit holding register is empty */
2:  in %dx, %al
    test $0x20, %al
    jz 2b
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    jmp 1b
3:  mov $0xf4, %dx           /* isa-debug-exit: QEMU exits; a PC would go on to halt */
    xor %eax, %eax
    out %eax, %dx
4:  cli
    hlt
    jmp 4b

    .section .data
log:
    .ifdef GARBAGE             /* --defsym GARBAGE=1: random bytes instead of a log */
    .incbin "foreign/garbage.bin"
    .byte 0
    .endif
    .ascii "kernel::arch::x86_64::start:INFO -- Redox OS starting...\n"
    .ascii "kernel::memory:INFO -- Initial freelist consistent\n"
    .ascii "kernel::arch::x86_64::start:INFO -- BSP: 0 1\n"
    .ascii "kernel::startup:INFO -- Bootstrap entry point: 4a3c10\n"
    .ascii "init: starting\n"
    .asciz "redox login: \n"

    .section .bss
    .align 16
    .space 4096
stack_top:
