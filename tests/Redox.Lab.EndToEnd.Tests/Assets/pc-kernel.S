/*
 * The kernel of the end-to-end PC bench: a 32-bit multiboot image that prints its first stage marker
 * to COM1, waits PAUSE seconds of the CMOS real-time clock (the window in which a test pulls a
 * console mid-boot), prints the rest and halts with interrupts off. It brings its own stack: multiboot
 * loaders (iPXE, GRUB) promise none.
 * Build: as --32 --defsym PAUSE=20 -o k.o pc-kernel.S && ld -m elf_i386 -N -Ttext 0x100000 -e start -o k.elf k.o
 * (-N: one segment, no ELF headers loaded at 0xff000, under 1 MiB, where iPXE does not load)
 * Each marker carries its CRC-32 (lab-contracts/Console/PROTOCOL.md): a marker without one is corrupt and
 * ignored, so a kernel whose end marker has none runs until boot.timeout.
 */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0
    .section .text
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl start
    .type start, @function
start:
    cli
    mov $stack_top, %esp
    mov $part1, %esi
    mov $part1_end, %edi
    call print
    mov $PAUSE, %ecx
    jecxz 2f
    call rtc_seconds
    mov %al, %bh
1:  call rtc_seconds
    cmp %al, %bh
    je 1b
    mov %al, %bh
    dec %ecx
    jnz 1b
2:  mov $part2, %esi
    mov $part2_end, %edi
    call print
3:  cli
    hlt
    jmp 3b
    .size start, . - start

/* Writes the bytes [esi, edi) to COM1, waiting for the transmit holding register each time. */
print:
    cmp %edi, %esi
    je 2f
    lodsb
    mov %al, %bl
    mov $0x3fd, %dx
1:  in %dx, %al
    test $0x20, %al
    jz 1b
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    jmp print
2:  ret

/* al = the RTC's seconds register, read outside an update cycle. */
rtc_seconds:
    mov $0x0a, %al
    out %al, $0x70
    in $0x71, %al
    test $0x80, %al
    jnz rtc_seconds
    xor %al, %al
    out %al, $0x70
    in $0x71, %al
    ret

    .section .data
part1:
    .ascii "pc-bench: kernel up\n@@LAB stage name=entry *165890e2\n"
part1_end:
part2:
    .ascii "pc-bench: pause over\n@@LAB stage name=kmain-done *376c55f5\n@@LAB end status=pass code=0 *e2b32145\n"
part2_end:

    .section .bss
    .align 16
    .space 4096
stack_top:
