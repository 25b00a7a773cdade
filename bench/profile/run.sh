#!/usr/bin/env bash
# bench/profile/run.sh - the frame allocator's share of a profiled boot, p2buddy against rmm:
# builds each variant with PROFILE=1 (as pipelines/redox-reference-profile.yaml does), boots it
# BOOTS times directly in QEMU TCG (-smp 2 -m 256M, the pipeline's machine; no lab server),
# folds each boot's profile with function names from nm (the lab's fold-boot-log.py) and prints
# per boot and per variant (median, range) the share of samples with a p2buddy_*/rmm_* frame
# anywhere on the stack, of all samples and of kernel-mode ones, and the part of it not in
# memset64 (zeroing and poisoning frames inside the allocator), plus the load average.
#
#   bench/profile/run.sh                        # BOOTS=5
#   BOOTS=7 MAKE_EXTRA="BOOTSTRAP_ITERS=4096" bench/profile/run.sh
#
# Needs bash, make, gcc, qemu-system-x86_64, python3, nm.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOTS=${BOOTS:-5}
VARIANTS=${VARIANTS:-"p2buddy rmm"}
QEMU=${QEMU:-qemu-system-x86_64}
MEM=${MEM:-256M}
SMP=${SMP:-2}
MAKE_EXTRA=${MAKE_EXTRA:-}
OUT=${OUT:-$(mktemp -d /tmp/profile-bench.XXXXXX)}
FOLD="$ROOT/tests/Redox.Lab.Server.Tests/Profiles/ReferenceKernel/fold-boot-log.py"
SHARE="$ROOT/bench/profile/share.py"

for v in $VARIANTS; do
    # shellcheck disable=SC2086
    make -s -C "$ROOT/kernel" BUILD="build-profbench-$v" ALLOCATOR="$v" PROFILE=1 $MAKE_EXTRA >/dev/null
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in $VARIANTS; do
    b="$ROOT/kernel/build-profbench-$v"
    for i in $(seq 1 "$BOOTS"); do
        log="$OUT/$v-$i.log" rc=0
        timeout 300 "$QEMU" -kernel "$b/kernel.bin" -initrd "$b/initfs.img" -serial stdio \
            -display none -monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
            -m "$MEM" -smp "$SMP" >"$log" 2>&1 || rc=$?
        # isa-debug-exit: value 0 (pass) exits QEMU with status 1.
        if [ "$rc" -ne 1 ]; then
            echo "boot failed (qemu status $rc): $log" >&2
            exit 1
        fi
        python3 "$FOLD" "$log" "$b/kernel.elf" "$b/bootstrap/bootstrap.elf" >"$OUT/$v-$i.folded"
        python3 "$SHARE" "$OUT/$v-$i.folded" | sed "s|^$OUT/||"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

stat() {   # stat VARIANT FIELD: median (min-max) over the boots
    python3 "$SHARE" "$OUT/$1"-*.folded | awk -v k="$2=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' |
        sort -g | awk '{ v[NR] = $1 } END { printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
echo
printf "%-8s %-22s %-22s %-24s %-18s\n" variant "share % (all)" "share % (kernel-mode)" "share % (not memset64)" samples
for v in $VARIANTS; do
    printf "%-8s %-22s %-22s %-24s %-18s\n" "$v" "$(stat "$v" share)" "$(stat "$v" kshare)" "$(stat "$v" algoshare)" "$(stat "$v" samples)"
done
echo "(boots: $BOOTS per variant, -smp $SMP -m $MEM${MAKE_EXTRA:+, $MAKE_EXTRA}; logs and folded profiles in $OUT)"
