/*
 * lab/lab.h - the lab console protocol, version 1 (lab-contracts/Console/
 * PROTOCOL.md): `@@LAB <type> <key>=<value>... *<crc32>` lines.
 *
 * A marker is built in a struct lab_marker, then emitted whole, so it never
 * interleaves with other console output. Values are percent-encoded: bytes
 * outside 0x21..0x7e and '%' become %XX. The CRC-32 covers the bytes from
 * the first '@' up to, not including, the " *" before the checksum.
 */
#ifndef LAB_LAB_H
#define LAB_LAB_H

#include <stddef.h>
#include <stdint.h>

#define LAB_MARKER_MAX 1024

struct lab_marker {
    char buf[LAB_MARKER_MAX];
    size_t len;
    int overflow;
};

/* Builder: begin with a type, add fields, then emit (adds " *crc\n"). */
void lab_begin(struct lab_marker *m, const char *type);
void lab_str(struct lab_marker *m, const char *key, const char *value);
void lab_u64(struct lab_marker *m, const char *key, uint64_t value);
void lab_hex(struct lab_marker *m, const char *key, uint64_t value);
/* key=0xA,0xB,... (innermost first); "none" when n == 0. */
void lab_hexlist(struct lab_marker *m, const char *key, const uint64_t *v, int n);
void lab_emit(struct lab_marker *m);

/* One-call helpers for the common types. */
void lab_hello(const char *variant);
void lab_tsc(uint64_t hz, uint64_t base);
void lab_stage(const char *name, uint64_t tsc);
void lab_metric(const char *name, uint64_t value, const char *unit,
                uint64_t n, const char *stat);
void lab_test(const char *name, int pass, const char *detail);

/* Emit `end status=... code=...` and stop the machine through arch_exit():
 * QEMU exit value 0 for pass, 1 otherwise. Never returns. */
void lab_end(const char *status, int code) __attribute__((noreturn));

/* Count n failed tests reported by someone else (bootstrap's own markers)
 * towards the verdict. */
void lab_note_failed(int n);

/* Number of failed lab_test() calls so far (main.c turns it into the end). */
int lab_failed_tests(void);

#endif
