/*
 * arch/x86_64/unwind.h - where the return address of an interrupted
 * function lies when its frame is not set up (yet, or any more).
 *
 * The profiler walks the frame-pointer chain from the interrupted RBP, whose
 * frame[1] is the return address into the caller of the function that set
 * RBP. At the first instruction of a function (`push %rbp`, or `endbr64`
 * before it) RBP is still the caller's, so that walk starts one level too
 * high and the caller is missing from the sample; the same after
 * `push %rbp` but before `mov %rsp,%rbp`, and at the `ret` after
 * `pop %rbp`/`leave`. These are not rare windows under QEMU TCG, which
 * takes interrupts only between translated blocks: a function's first
 * instruction starts a block, so samples cluster there. In each case the
 * return address is on the stack at RSP + the returned offset.
 *
 * A function that needs no stack frame keeps none at all: gcc 12 on x86-64
 * sets no frame up in such a leaf (memset64, which zeroes and poisons every
 * allocated and freed frame) whatever -fno-omit-frame-pointer or
 * -mno-omit-leaf-frame-pointer say, and a shrink-wrapped function runs its
 * early path before its prologue. RBP is then the caller's frame for the
 * whole function, and the word at RSP is the return address. No symbol
 * table is at hand in NMI context, so unwind_frameless_return() accepts
 * that word only when it proves itself: it follows a direct call (e8
 * rel32) whose target lies at or below RIP, at most UNWIND_LEAF_MAX bytes
 * before it, and does not begin with a frame-setting prologue.
 *
 * Pure functions of the instruction bytes: host-tested in tests/test_irq.c.
 */
#ifndef ARCH_X86_64_UNWIND_H
#define ARCH_X86_64_UNWIND_H

#include <stdint.h>

#define UNWIND_FRAME_SET    (-1)    /* RBP is the function's own frame: walk it */

static inline int unwind_ret_offset(const uint8_t *code)
{
    /* endbr64 (f3 0f 1e fa) may precede the prologue. */
    if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa)
        return code[4] == 0x55 ? 0 : UNWIND_FRAME_SET;
    if (code[0] == 0x55)                                        /* push %rbp */
        return 0;
    if (code[0] == 0x48 && code[1] == 0x89 && code[2] == 0xe5)  /* mov %rsp,%rbp */
        return 8;
    if (code[0] == 0xc3)                                        /* ret */
        return 0;
    return UNWIND_FRAME_SET;
}

#define UNWIND_LEAF_MAX     4096    /* the largest frameless function considered */

/* 1 when w (the word at RSP) is the return address of a direct call to the
 * frameless function RIP is in. text holds the image's bytes [base, end). */
static inline int unwind_frameless_return(const uint8_t *text, uint64_t base, uint64_t end,
                                          uint64_t rip, uint64_t w)
{
    if (w < base + 5 || w > end || rip < base || rip >= end)
        return 0;
    const uint8_t *call = text + (w - 5 - base);
    if (call[0] != 0xe8)
        return 0;
    int32_t rel = (int32_t)((uint32_t)call[1] | (uint32_t)call[2] << 8 |
                            (uint32_t)call[3] << 16 | (uint32_t)call[4] << 24);
    uint64_t target = w + (uint64_t)(int64_t)rel;
    if (target < base || target + 8 > end || target > rip || rip - target >= UNWIND_LEAF_MAX)
        return 0;
    return unwind_ret_offset(text + (target - base)) == UNWIND_FRAME_SET;
}

#endif
