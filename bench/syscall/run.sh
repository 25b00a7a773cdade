#!/usr/bin/env bash
# bench/syscall/run.sh - syscall latency of the reference kernel, with and
# without the heavy prologue, booted directly in QEMU (no lab server):
# builds the kernel twice (BUILD=build-bench-syscall, and BUG=heavy-prologue
# in BUILD=build-bench-heavy; bootstrap and the initfs go into the same
# build directory), boots each BOOTS times with its initfs as -initrd,
# checks every marker's CRC and the pass end, and prints one row per
# variant.
#
#   bench/syscall/run.sh                 # BOOTS=5
#   BOOTS=9 CPUS=1 bench/syscall/run.sh
#   BOOTSTRAP_ITERS=16384 bench/syscall/run.sh   # shorter rounds (x16 syscalls)
#
# Columns: the median over the boots of bootstrap's syscall.enosys.cycles
# (itself the median of its rounds), of syscall.floor.cycles, of
# syscall.overhead.cycles and of syscall.sigprocmask.cycles (a real
# syscall: SIG_BLOCK of nothing, under the scheduler lock); the spread
# (min-max over the boots) of the latency; and the ratio heavy/lean of the
# median latencies and overheads.
# TSC cycles under QEMU TCG are host time, not guest instructions: compare
# rows of one run, not with hardware numbers.
# Needs bash, make, gcc, python3, awk, qemu-system-x86_64.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOTS=${BOOTS:-5}
CPUS=${CPUS:-1}
MEM=${MEM:-256M}
QEMU=${QEMU:-qemu-system-x86_64}
OUT=${OUT:-$(mktemp -d /tmp/syscall-bench.XXXXXX)}
CHECK="$ROOT/kernel/tools/check-markers.py"
MAKEVARS=()
[ -n "${BOOTSTRAP_ITERS:-}" ] && MAKEVARS+=("BOOTSTRAP_ITERS=$BOOTSTRAP_ITERS")
[ -n "${BOOTSTRAP_ROUNDS:-}" ] && MAKEVARS+=("BOOTSTRAP_ROUNDS=$BOOTSTRAP_ROUNDS")

make -s -C "$ROOT/kernel" BUILD=build-bench-syscall BUG=none "${MAKEVARS[@]}" >/dev/null
make -s -C "$ROOT/kernel" BUILD=build-bench-heavy BUG=heavy-prologue "${MAKEVARS[@]}" >/dev/null

# One boot: writes the console log; fails the script on a QEMU error, a
# timeout, a corrupt marker or an end other than pass.
boot() {
    local dir=$1 log=$2 rc=0
    timeout 300 "$QEMU" -kernel "$dir/kernel.bin" -initrd "$dir/initfs.img" \
        -serial stdio -display none -monitor none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m "$MEM" -smp "$CPUS" \
        >"$log" 2>&1 || rc=$?
    # isa-debug-exit: QEMU status 1 = pass, 3 = fail or panic.
    if [ "$rc" -ne 1 ]; then
        echo "boot did not pass (qemu status $rc): $log" >&2
        exit 1
    fi
    python3 "$CHECK" "$log" --expect-end pass >/dev/null || {
        echo "marker check failed: $log" >&2
        exit 1
    }
}

# Field `key` of the first metric named `name`.
metric() {
    awk -v n="name=$2" -v k="$3=" '
        index($0, "@@LAB metric ") && index($0, " " n " ") {
            for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit }
        }' "$1"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

RESULTS="$OUT/results.txt"
: >"$RESULTS"
for v in lean heavy; do
    dir="$ROOT/kernel/build-bench-syscall"
    [ "$v" = heavy ] && dir="$ROOT/kernel/build-bench-heavy"
    for i in $(seq 1 "$BOOTS"); do
        log="$OUT/$v-$i.log"
        boot "$dir" "$log"
        echo "$v $(metric "$log" syscall.enosys.cycles value) \
$(metric "$log" syscall.floor.cycles value) \
$(metric "$log" syscall.overhead.cycles value) \
$(metric "$log" syscall.enosys.cycles n) $(metric "$log" syscall.enosys.cycles clock) \
$(metric "$log" syscall.sigprocmask.cycles value)" >>"$RESULTS"
    done
done

col() { awk -v v="$1" -v c="$2" '$1 == v { print $c }' "$RESULTS"; }

echo "syscall latency, QEMU TCG, -smp $CPUS, $BOOTS boots per variant" \
     "($(col lean 5 | head -1) syscalls per boot, clock $(col lean 6 | head -1)); logs in $OUT"
printf '%-8s %14s %12s %12s %12s %20s\n' variant latency floor overhead sigprocmask \
    "spread (latency)"
for v in lean heavy; do
    spm=$(col "$v" 7 | median)
    lat=$(col "$v" 2 | median)
    flo=$(col "$v" 3 | median)
    ovh=$(col "$v" 4 | median)
    lo=$(col "$v" 2 | sort -g | head -1)
    hi=$(col "$v" 2 | sort -g | tail -1)
    printf '%-8s %14s %12s %12s %12s %20s\n' "$v" "$lat" "$flo" "$ovh" "$spm" "$lo-$hi"
    eval "LAT_$v=$lat OVH_$v=$ovh"
done
awk -v a="$LAT_heavy" -v b="$LAT_lean" -v c="$OVH_heavy" -v d="$OVH_lean" \
    'BEGIN { printf "ratio heavy/lean: latency %.2f, overhead %.2f\n", a / b, c / d }'
