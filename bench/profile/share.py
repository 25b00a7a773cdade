# share.py FOLDED... - the frame allocator's share of each folded profile (one line per file):
# samples, samples with a p2buddy_* or rmm_* frame anywhere on the stack, the same two over
# kernel-mode samples (innermost frame not a user frame, i.e. not marked _[u]), the allocator
# samples not in memset64 (both allocators zero a frame they hand out and poison one they take
# back inside their own functions: that part is clearing memory, the rest is the algorithm), and
# the top allocator caller (the frame right below the outermost allocator frame).
import collections, sys

def is_alloc(frame):
    return frame.startswith('p2buddy_') or frame.startswith('rmm_')

for path in sys.argv[1:]:
    total = alloc = kernel = kalloc = algo = 0
    callers = collections.Counter()
    for line in open(path):
        stack, n = line.rstrip('\n').rsplit(' ', 1)
        frames, n = stack.split(';'), int(n)
        hit = next((i for i, f in enumerate(frames) if is_alloc(f)), None)
        user_leaf = frames[-1].endswith('_[u]')
        total += n
        kernel += 0 if user_leaf else n
        if hit is not None:
            alloc += n
            algo += 0 if frames[-1] == 'memset64' else n
            kalloc += 0 if user_leaf else n
            callers[frames[hit - 1] if hit > 0 else '-'] += n
    top = callers.most_common(1)
    print(f"{path} samples={total} alloc={alloc} share={100 * alloc / max(total, 1):.2f} "
          f"kernel={kernel} kalloc={kalloc} kshare={100 * kalloc / max(kernel, 1):.2f} "
          f"algo={algo} algoshare={100 * algo / max(total, 1):.2f} "
          f"caller={top[0][0] if top else '-'}:{top[0][1] if top else 0}")
