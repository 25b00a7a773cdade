#!/usr/bin/env python3
"""symbolize.py - print the findings of a console log with symbolized backtraces.

    kernel/tools/symbolize.py boot.log kernel/build/kernel.elf

For every `@@LAB finding` marker, prints its fields, then one line per
address of rip= and bt= with function and file:line from addr2line.
"""
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    log, elf = sys.argv[1], sys.argv[2]
    for line in open(log, "rb").read().decode("latin-1").splitlines():
        if "@@LAB finding " not in line:
            continue
        body = line[line.index("@@LAB "):].rsplit(" *", 1)[0]
        fields = dict(w.split("=", 1) for w in body.split()[2:] if "=" in w)
        print(body)
        addrs = ([fields["rip"]] if "rip" in fields else []) + [
            a for a in fields.get("bt", "").split(",") if re.match(r"0x[0-9a-f]+$", a)]
        if not addrs:
            continue
        out = subprocess.run(["addr2line", "-f", "-C", "-e", elf] + addrs,
                             capture_output=True, text=True, check=True).stdout.splitlines()
        for i, a in enumerate(addrs):
            print("  %-18s %s  %s" % (a, out[2 * i], out[2 * i + 1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
