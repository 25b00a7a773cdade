#!/usr/bin/env python3
"""check-markers.py - validate lab console protocol markers in a console log.

Reads a console log (file argument or stdin), checks every `@@LAB` marker's
CRC-32 and syntax as lab-contracts/Console/PROTOCOL.md defines them, and
prints a summary. Exit status: 0 when every marker is valid and an `end`
marker was seen, 1 otherwise. Options:
  --expect-stages a,b,c   every named stage must appear, in this order
  --expect-end STATUS     the end marker must have this status
"""
import argparse
import re
import sys
import zlib

NAME = re.compile(rb"^[a-z0-9_.-]+$")
VALUE = re.compile(rb"^(?:[\x21-\x24\x26-\x7e]|%[0-9A-Fa-f]{2})+$")


def parse(line):
    """Return (type, fields) for a valid marker, raise ValueError otherwise."""
    start = line.index(b"@@LAB ")
    body, sep, tail = line[start:].rpartition(b" *")
    if not sep or len(tail) < 8 or not re.match(rb"^[0-9a-fA-F]{8}", tail):
        raise ValueError("missing checksum")
    want = int(tail[:8], 16)
    got = zlib.crc32(body) & 0xFFFFFFFF
    if want != got:
        raise ValueError("crc %08x != computed %08x" % (want, got))
    words = body.split(b" ")[1:]
    if not words or not NAME.match(words[0]):
        raise ValueError("bad type")
    fields = {}
    for w in words[1:]:
        key, eq, value = w.partition(b"=")
        if not eq or not NAME.match(key) or not VALUE.match(value):
            raise ValueError("bad field %r" % w)
        fields[key.decode()] = re.sub(
            rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), value
        ).decode("latin-1")
    return words[0].decode(), fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log", nargs="?")
    ap.add_argument("--expect-stages", default="")
    ap.add_argument("--expect-end", default="")
    args = ap.parse_args()
    data = open(args.log, "rb").read() if args.log else sys.stdin.buffer.read()

    ok, corrupt, stages, end = 0, 0, [], None
    for raw in data.split(b"\n"):
        line = raw.rstrip(b"\r")
        if b"@@LAB " not in line:
            continue
        try:
            mtype, fields = parse(line)
        except ValueError as e:
            corrupt += 1
            print("CORRUPT (%s): %r" % (e, line), file=sys.stderr)
            continue
        ok += 1
        if mtype == "stage":
            stages.append(fields.get("name"))
        elif mtype == "end":
            end = fields

    status = 0
    print("markers: %d valid, %d corrupt; stages: %s; end: %s"
          % (ok, corrupt, ",".join(stages), end))
    if corrupt or end is None:
        status = 1
    if args.expect_stages:
        want = args.expect_stages.split(",")
        it = iter(stages)
        if not all(any(s == w for s in it) for w in want):
            print("missing or out-of-order stages: want %s" % want, file=sys.stderr)
            status = 1
    if args.expect_end and (end is None or end.get("status") != args.expect_end):
        print("end status %s, want %s" % (end and end.get("status"), args.expect_end),
              file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
