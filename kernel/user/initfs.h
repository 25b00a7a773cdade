/*
 * user/initfs.h - reading the initfs image (format: user/INITFS.md),
 * which the loader hands over as the first multiboot module.
 */
#ifndef USER_INITFS_H
#define USER_INITFS_H

#include <stddef.h>
#include <stdint.h>

#define INITFS_MAGIC        "RLINITFS"
#define INITFS_VERSION      1
#define INITFS_NAME_MAX     48
#define INITFS_MAX_ENTRIES  256

struct initfs_header {
    char magic[8];
    uint32_t version;
    uint32_t count;             /* entries in the table */
    uint64_t entry;             /* bootstrap's entry point (virtual) */
    uint32_t bootstrap;         /* index of the bootstrap entry */
    uint32_t table_offset;      /* from the image start */
    uint64_t image_size;        /* bytes, padding included */
    uint8_t reserved[24];
};

struct initfs_entry {
    char name[INITFS_NAME_MAX]; /* NUL-terminated */
    uint64_t offset;            /* of the data, from the image start */
    uint64_t size;              /* bytes */
};

_Static_assert(sizeof(struct initfs_header) == 64, "initfs header");
_Static_assert(sizeof(struct initfs_entry) == 64, "initfs entry");

struct initfs {
    const uint8_t *base;        /* the image, through the direct map */
    uint64_t size;
    const struct initfs_header *hdr;
    const struct initfs_entry *ent;
};

/* Validate the image at [base, base+size): magic, version, table and
 * every entry inside the image, names terminated, bootstrap index valid.
 * Returns 0 and fills *fs, or -1 with *why set. */
int initfs_open(struct initfs *fs, const void *base, uint64_t size,
                const char **why);

/* Entry i's data and size; NULL when i is out of range. */
const void *initfs_file(const struct initfs *fs, uint32_t i, uint64_t *size,
                        const char **name);

#endif
