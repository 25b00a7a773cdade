#!/usr/bin/env bash
# bench/allocator/run.sh - p2buddy against its O(n) predecessor (rmm), booted
# directly in QEMU (no lab server): builds both kernel variants side by side,
# boots each at every memory size BOOTS times, checks every marker's CRC,
# and prints the medians and the predecessor/p2buddy ratio per memory size.
#
#   bench/allocator/run.sh                 # BOOTS=3, MEMS="128M 2G"
#   BOOTS=5 MEMS="128M 512M 2G" bench/allocator/run.sh
#
# Columns: order-0 allocate+free cycles (the kernel's median of 4096 pairs),
# mm.init.us, host wall time of the whole QEMU run, and kernel time from the
# first instruction to kmain-done ((tsc - base) / hz). Each is the median
# over the boots. Needs bash, make, gcc, qemu-system-x86_64, python3, awk.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOTS=${BOOTS:-3}
MEMS=${MEMS:-"128M 2G"}
VARIANTS=${VARIANTS:-"p2buddy rmm"}
QEMU=${QEMU:-qemu-system-x86_64}
OUT=${OUT:-$(mktemp -d /tmp/alloc-bench.XXXXXX)}
CHECK="$ROOT/kernel/tools/check-markers.py"

for v in $VARIANTS; do
    make -s -C "$ROOT/kernel" BUILD="build-bench-$v" ALLOCATOR="$v" >/dev/null
done

# One boot: writes the console log, prints "wall_seconds".
boot() {
    local image=$1 mem=$2 log=$3 t0 t1 rc=0
    t0=$(date +%s.%N)
    timeout 120 "$QEMU" -kernel "$image" -serial stdio -display none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m "$mem" >"$log" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    # isa-debug-exit: value 0 (pass) exits QEMU with status 1.
    if [ "$rc" -ne 1 ]; then
        echo "boot failed (qemu status $rc): $log" >&2
        exit 1
    fi
    python3 "$CHECK" --expect-end pass "$log" >/dev/null || {
        echo "marker check failed: $log" >&2
        exit 1
    }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

# Field `key` of the first marker line of `type` whose name= is `name`.
marker() {
    local log=$1 type=$2 name=$3 key=$4
    awk -v t="$type" -v n="name=$name" -v k="$key=" '
        index($0, "@@LAB " t " ") && index($0, " " n " ") {
            for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit }
        }' "$log"
}

tsc_field() {
    awk -v k="$2=" '/@@LAB tsc /{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' "$1"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

RESULTS="$OUT/results.txt"
: >"$RESULTS"
for mem in $MEMS; do
    for v in $VARIANTS; do
        for i in $(seq 1 "$BOOTS"); do
            log="$OUT/$v-$mem-$i.log"
            wall=$(boot "$ROOT/kernel/build-bench-$v/kernel.bin" "$mem" "$log")
            c0=$(marker "$log" metric alloc.order0.cycles value)
            init=$(marker "$log" metric mm.init.us value)
            done_tsc=$(marker "$log" stage kmain-done tsc)
            hz=$(tsc_field "$log" hz)
            base=$(tsc_field "$log" base)
            kms=$(awk -v d="$done_tsc" -v b="$base" -v h="$hz" 'BEGIN { printf "%.1f", (d - b) * 1000 / h }')
            echo "$v $mem $c0 $init $wall $kms" >>"$RESULTS"
        done
    done
done

col() { awk -v v="$1" -v m="$2" -v c="$3" '$1 == v && $2 == m { print $c }' "$RESULTS" | median; }

printf "%-8s %-6s %14s %12s %12s %16s\n" variant memory order0.cycles mm.init.us wall.s kmain-done.ms
for mem in $MEMS; do
    for v in $VARIANTS; do
        printf "%-8s %-6s %14s %12s %12s %16s\n" "$v" "$mem" \
            "$(col "$v" "$mem" 3)" "$(col "$v" "$mem" 4)" "$(col "$v" "$mem" 5)" "$(col "$v" "$mem" 6)"
    done
done
echo
echo "ratio rmm/p2buddy (median order-0 allocate+free cycles):"
for mem in $MEMS; do
    awk -v m="$mem" -v a="$(col rmm "$mem" 3)" -v b="$(col p2buddy "$mem" 3)" \
        'BEGIN { if (a != "" && b > 0) printf "  %-6s %.2fx\n", m, a / b }'
done
echo "(boots: $BOOTS per cell; logs in $OUT)"
