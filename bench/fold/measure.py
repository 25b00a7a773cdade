#!/usr/bin/env python3
"""Runs a command once; prints 'wall-s <s> peak-rss-kib <KiB> cpu-s <s>' (the child's peak RSS and user+system CPU time) and passes its stderr through."""
import resource, subprocess, sys, time
start = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"wall-s {wall:.3f} peak-rss-kib {usage.ru_maxrss} cpu-s {usage.ru_utime + usage.ru_stime:.3f}", flush=True)
sys.exit(rc)
