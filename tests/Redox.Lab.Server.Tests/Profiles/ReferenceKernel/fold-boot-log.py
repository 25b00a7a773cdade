# Folds the reference kernel's profile (the perf-script between profile-begin and profile-end in a boot log)
# with function names from nm of kernel.elf and bootstrap.elf; user frames get _[u] as the lab marks them.
import sys, bisect, subprocess, collections
log, kelf, uelf = sys.argv[1:4]
def table(elf):
    t = []
    for line in subprocess.run(['nm', '-n', elf], capture_output=True, text=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in 'tTwW': t.append((int(p[0], 16), p[2]))
    return t
tabs = {'kernel': table(kelf), 'bootstrap': table(uelf)}
keys = {k: [a for a, _ in v] for k, v in tabs.items()}
def name(a, dso):
    i = bisect.bisect_right(keys[dso], a) - 1
    n = tabs[dso][i][1] if i >= 0 else f'[{dso}]'
    return n + ('_[u]' if dso == 'bootstrap' else '')
lines = open(log, errors='replace').read().split('\n')
start = next(i for i, l in enumerate(lines) if 'profile-begin' in l)
end = next(i for i, l in enumerate(lines) if 'profile-end' in l)
counts = collections.Counter(); cur = None
def done():
    if cur: counts[';'.join([cur[0]] + list(reversed(cur[1])))] += 1
for l in lines[start + 1:end]:
    if not l.strip():
        done(); cur = None
    elif not l.startswith('\t'):
        cur = (l.split()[0], [])
    else:
        a, _, dso = l.strip().split(' ', 2)
        cur[1].append(name(int(a, 16), dso.strip('()')))
done()
for k in sorted(counts, key=lambda s: s.encode()): print(f'{k} {counts[k]}')
