#!/usr/bin/env bash
# bench/shootdown/run.sh - TLB shootdown cost and the stress test, with and
# without the shootdown, booted directly in QEMU (no lab server): builds the
# kernel twice (BUILD=build-bench-shootdown and BUG=skip-shootdown in
# BUILD=build-bench-skip), boots each at every CPU count BOOTS times, checks
# every marker's CRC, and prints one row per CPU count and variant.
#
#   bench/shootdown/run.sh                   # BOOTS=3, CPUS="1 2 4"
#   BOOTS=5 CPUS="1 2 4 8" bench/shootdown/run.sh
#
# Columns (each the median over the boots): the kernel's median and p99
# shootdown round trip in TSC cycles to idle CPUs (tlb.shootdown.cycles, 256
# shootdowns; "-" when none was timed, as with skip-shootdown), the median
# round trip during the stress test (tlb.stress.shootdown.cycles: targets
# busy; with more vCPUs than host cores this is host scheduling), IPIs sent
# (tlb.ipis.sent), the stress test's iterations per second, its findings
# (stale reads + writes into freed frames) and its verdict (pass/fail counts
# over the boots). The shootdown
# variant must pass every boot; skip-shootdown must fail with more than one
# CPU. Needs bash, make, gcc, qemu-system-x86_64, python3, awk.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOTS=${BOOTS:-3}
CPUS=${CPUS:-"1 2 4"}
MEM=${MEM:-256M}
QEMU=${QEMU:-qemu-system-x86_64}
OUT=${OUT:-$(mktemp -d /tmp/shootdown-bench.XXXXXX)}
CHECK="$ROOT/kernel/tools/check-markers.py"

make -s -C "$ROOT/kernel" BUILD=build-bench-shootdown BUG=none >/dev/null
make -s -C "$ROOT/kernel" BUILD=build-bench-skip BUG=skip-shootdown >/dev/null

# One boot: writes the console log; fails the script on a QEMU error, a
# timeout, a corrupt marker or a missing end marker.
boot() {
    local image=$1 cpus=$2 log=$3 rc=0
    timeout 300 "$QEMU" -kernel "$image" -serial stdio -display none -monitor none \
        -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m "$MEM" \
        -smp "$cpus" >"$log" 2>&1 || rc=$?
    # isa-debug-exit: QEMU status 1 = pass, 3 = fail or panic.
    if [ "$rc" -ne 1 ] && [ "$rc" -ne 3 ]; then
        echo "boot failed (qemu status $rc): $log" >&2
        exit 1
    fi
    python3 "$CHECK" "$log" >/dev/null || {
        echo "marker check failed: $log" >&2
        exit 1
    }
}

# Field `key` of the first marker of `type` named `name` (and with `extra`).
marker() {
    local log=$1 type=$2 name=$3 key=$4 extra=${5:-}
    awk -v t="$type" -v n="name=$name" -v k="$key=" -v x="$extra" '
        index($0, "@@LAB " t " ") && index($0, " " n " ") && (x == "" || index($0, " " x " ")) {
            for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit }
        }' "$log"
}

detail_field() {
    marker "$1" test tlb.stress detail | tr ',' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

RESULTS="$OUT/results.txt"
: >"$RESULTS"
for cpus in $CPUS; do
    for v in shootdown skip; do
        for i in $(seq 1 "$BOOTS"); do
            log="$OUT/$v-$cpus-$i.log"
            boot "$ROOT/kernel/build-bench-$v/kernel.bin" "$cpus" "$log"
            med=$(marker "$log" metric tlb.shootdown.cycles value stat=median)
            p99=$(marker "$log" metric tlb.shootdown.cycles value stat=p99)
            smed=$(marker "$log" metric tlb.stress.shootdown.cycles value stat=median)
            ipis=$(marker "$log" metric tlb.ipis.sent value)
            ips=$(marker "$log" metric tlb.stress.iterations_per_sec value)
            result=$(marker "$log" test tlb.stress result)
            echo "$v $cpus ${med:--} ${p99:--} ${ipis:--} ${ips:--} $(detail_field "$log" findings) $result ${smed:--}" >>"$RESULTS"
        done
    done
done

col() { awk -v v="$1" -v c="$2" -v k="$3" '$1 == v && $2 == c && $k != "-" { print $k }' "$RESULTS" | median; }
verdict() {
    awk -v v="$1" -v c="$2" '$1 == v && $2 == c { n[$8]++ }
        END { s = ""; for (r in n) s = s (s ? "," : "") n[r] " " r; print s }' "$RESULTS"
}

printf "%-5s %-15s %14s %14s %16s %10s %10s %10s  %s\n" cpus variant median.cycles p99.cycles \
    stress.median.cyc ipis.sent iter/s findings stress
for cpus in $CPUS; do
    for v in shootdown skip; do
        name=$v; [ "$v" = skip ] && name=skip-shootdown
        printf "%-5s %-15s %14s %14s %16s %10s %10s %10s  %s\n" "$cpus" "$name" \
            "$(col "$v" "$cpus" 3)" "$(col "$v" "$cpus" 4)" "$(col "$v" "$cpus" 9)" "$(col "$v" "$cpus" 5)" \
            "$(col "$v" "$cpus" 6)" "$(col "$v" "$cpus" 7)" "$(verdict "$v" "$cpus")"
    done
done
echo "(boots: $BOOTS per row, medians over the boots; TSC $(awk '/@@LAB tsc /{ for (i = 1; i <= NF; i++) if ($i ~ /^hz=/) { print substr($i, 4); exit } }' "$(ls "$OUT"/*.log | head -1)") Hz; logs in $OUT)"
