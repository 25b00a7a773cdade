/*
 * Replays a recorded console: a 32-bit multiboot image that writes foreign/console.txt byte for
 * byte to COM1 and then halts with interrupts off, as a kernel that printed its panic and HALT
 * does (it never powers off: the console adapter must see the end). The end-to-end tests replay
 * every generation of the real Redox kernel's console with it.
 * Build: as --32 -o k.o replay-kernel.S && ld -m elf_i386 -Ttext 0x100000 -e start -o k.elf k.o
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
    mov $console, %esi
1:  cmp $console_end, %esi
    je 3f
    lodsb
    mov %al, %bl
    mov $0x3fd, %dx          /* wait until the transmit holding register is empty */
2:  in %dx, %al
    test $0x20, %al
    jz 2b
    mov $0x3f8, %dx
    mov %bl, %al
    out %al, %dx
    jmp 1b
3:  cli
    hlt
    jmp 3b
    .size start, . - start

    .section .data
console:
    .incbin "foreign/console.txt"
console_end:
