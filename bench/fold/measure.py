#!/usr/bin/env python3
"""Runs a command once; prints 'wall-s <s> peak-rss-kib <KiB> cpu-s <s>' (the child's peak RSS and user+system CPU time) and passes its stderr through.

The figures are the command's own, from wait4() on its pid: RUSAGE_CHILDREN would also count whatever this Python
process had run and reaped before (on this machine its start-up alone adds about 0.5 CPU seconds). The peak has a floor:
Linux carries the forking Python's peak (about 14 MiB) over into the child's, so a smaller peak (the Perl script on a small
input) reads as that floor."""
import os, subprocess, sys, time
start = time.monotonic()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - start
print(f"wall-s {wall:.3f} peak-rss-kib {usage.ru_maxrss} cpu-s {usage.ru_utime + usage.ru_stime:.3f}", flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
