/*
 * user/initfs.c - validating and reading the initfs image. Every offset
 * and size comes from outside the kernel, so all of them are checked
 * against the image before anything is read through them.
 */
#include "lib/string.h"
#include "user/initfs.h"

static int terminated(const char *s, size_t max)
{
    for (size_t i = 0; i < max; i++)
        if (s[i] == 0)
            return 1;
    return 0;
}

static int in_image(uint64_t size, uint64_t off, uint64_t len)
{
    return off <= size && len <= size - off;
}

int initfs_open(struct initfs *fs, const void *base, uint64_t size,
                const char **why)
{
    const struct initfs_header *h = base;

    if (size < sizeof *h || memcmp(h->magic, INITFS_MAGIC, 8) != 0)
        return *why = "bad magic", -1;
    if (h->version != INITFS_VERSION)
        return *why = "unknown version", -1;
    if (h->image_size > size)
        return *why = "image larger than the module", -1;
    if (h->count == 0 || h->count > INITFS_MAX_ENTRIES || h->bootstrap >= h->count)
        return *why = "bad entry count or bootstrap index", -1;
    if ((h->table_offset & 7) ||
        !in_image(h->image_size, h->table_offset,
                  (uint64_t)h->count * sizeof(struct initfs_entry)))
        return *why = "entry table outside the image", -1;
    const struct initfs_entry *e =
        (const struct initfs_entry *)((const uint8_t *)base + h->table_offset);
    for (uint32_t i = 0; i < h->count; i++) {
        if (!terminated(e[i].name, INITFS_NAME_MAX))
            return *why = "unterminated name", -1;
        if (!in_image(h->image_size, e[i].offset, e[i].size))
            return *why = "entry data outside the image", -1;
    }
    fs->base = base;
    fs->size = h->image_size;
    fs->hdr = h;
    fs->ent = e;
    return 0;
}

const void *initfs_file(const struct initfs *fs, uint32_t i, uint64_t *size,
                        const char **name)
{
    if (i >= fs->hdr->count)
        return 0;
    *size = fs->ent[i].size;
    if (name)
        *name = fs->ent[i].name;
    return fs->base + fs->ent[i].offset;
}
