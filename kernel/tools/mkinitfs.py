#!/usr/bin/env python3
"""mkinitfs.py - pack the initfs image (format: kernel/user/INITFS.md).

    mkinitfs.py -o build/initfs.img --bootstrap build/bootstrap/bootstrap.elf [FILE[=NAME] ...]

The bootstrap ELF becomes entry 0, named `bootstrap`; its entry point
(e_entry of the ELF64 header) goes into the initfs header. Other files
follow in command-line order. Each file's data starts on a 4 KiB boundary
and the image is padded to a whole number of 4 KiB pages.
"""
import argparse
import os
import struct
import sys

MAGIC = b"RLINITFS"
VERSION = 1
HEADER = struct.Struct("<8sIIQIIQ24x")      # 64 bytes
ENTRY = struct.Struct("<48sQQ")             # 64 bytes
NAME_MAX = 48
PAGE = 4096


def elf_entry(data, path):
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"mkinitfs: {path}: not a little-endian ELF64 file")
    etype, machine = struct.unpack_from("<HH", data, 16)
    if etype != 2 or machine != 62:
        sys.exit(f"mkinitfs: {path}: not an x86-64 executable (ET_EXEC)")
    (entry,) = struct.unpack_from("<Q", data, 24)
    return entry


def align(n):
    return (n + PAGE - 1) // PAGE * PAGE


def main():
    ap = argparse.ArgumentParser(description="pack the initfs image")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--bootstrap", required=True, help="bootstrap ELF (entry 0)")
    ap.add_argument("files", nargs="*", help="FILE or FILE=NAME")
    args = ap.parse_args()

    files = []
    with open(args.bootstrap, "rb") as f:
        boot = f.read()
    files.append(("bootstrap", boot))
    for spec in args.files:
        path, _, name = spec.partition("=")
        with open(path, "rb") as f:
            files.append((name or os.path.basename(path), f.read()))
    for name, _ in files:
        if len(name.encode()) >= NAME_MAX:
            sys.exit(f"mkinitfs: name too long: {name}")

    table_off = HEADER.size
    off = align(table_off + ENTRY.size * len(files))
    table, blobs = [], []
    for name, data in files:
        table.append(ENTRY.pack(name.encode(), off, len(data)))
        blobs.append((off, data))
        off = align(off + len(data))
    size = max(off, PAGE)

    image = bytearray(size)
    image[0:HEADER.size] = HEADER.pack(MAGIC, VERSION, len(files),
                                       elf_entry(boot, args.bootstrap), 0,
                                       table_off, size)
    image[table_off:table_off + ENTRY.size * len(files)] = b"".join(table)
    for o, data in blobs:
        image[o:o + len(data)] = data
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(image)
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
