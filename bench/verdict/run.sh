#!/usr/bin/env bash
# bench/verdict/run.sh - how often the lab's verdicts are wrong and how many boots they need, on real
# samples of the reference kernel. Builds the kernel once, boots it in QEMU directly (checking every
# marker's CRC and the pass end) in each of MODES, and collects per boot:
#   boot.ms               kernel time from entry to the bootstrap stage (TSC ticks / tsc hz)
#   syscall.enosys.cycles bootstrap's median syscall latency
# Modes (series are named <mode>/<series>):
#   tcg     plain TCG, BOOTS boots (default 20): the guest TSC is host time, so the samples carry the
#           host's load (on this shared 2-core machine: tens of percent).
#   icount  QEMU -icount shift=0,sleep=off, ICOUNT_BOOTS boots (default 6): the TSC counts guest
#           instructions, so a boot measures exactly the same numbers every time (no noise at all).
# and one composite, because neither mode has the noise of a real machine:
#   icount×host/syscall.enosys.cycles  the icount value times the boot-to-boot ratios a real x86 CPU (this
#           host's, under whatever load it has) shows for the same measurement (hostspread.c, one process
#           per "boot", HOST_RUNS runs, default 30): the reference kernel's number with a real machine's noise.
#           There is no such composite for boot.ms: no real machine's boot-to-boot spread is available here.
# Then Program.cs resamples each series (TRIALS per cell, default 2000) and prints the A/A false-positive
# rate, the detection rate of injected +1/2/5/10% shifts and the mean boots per side of the sequential
# design (start 5, +2 per round while inconclusive) at caps of 10 and 20 boots per side, next to a fixed
# 10 boots per side.
#
#   bench/verdict/run.sh
#   BOOTS=30 MODES="tcg" TRIALS=5000 bench/verdict/run.sh
#   SAMPLES=/tmp/samples.txt bench/verdict/run.sh     # reuse samples collected before
#   COLLECT_ONLY=1 OUT=/tmp/v bench/verdict/run.sh     # boot and collect only (samples in $OUT/samples.txt)
#   ICOUNT=1 bench/verdict/run.sh                      # icount mode only (MODES=icount)
# TSC cycles under QEMU TCG are host time: compare rows of one run, not with hardware numbers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOTS=${BOOTS:-20}
ICOUNT_BOOTS=${ICOUNT_BOOTS:-6}
HOST_RUNS=${HOST_RUNS:-30}
MODES=${MODES:-tcg icount}
[ -z "${ICOUNT:-}" ] || MODES=icount
CPUS=${CPUS:-2}
TRIALS=${TRIALS:-2000}
QEMU=${QEMU:-qemu-system-x86_64}
OUT=${OUT:-$(mktemp -d /tmp/verdict-bench.XXXXXX)}
CHECK="$ROOT/kernel/tools/check-markers.py"
BUILD="$OUT/build"

if [ -z "${SAMPLES:-}" ]; then
    SAMPLES="$OUT/samples.txt"
    : > "$SAMPLES"
    make -s -C "$ROOT/kernel" BUILD="$BUILD" BUG=none \
        BOOTSTRAP_ITERS="${BOOTSTRAP_ITERS:-16384}" BOOTSTRAP_ROUNDS="${BOOTSTRAP_ROUNDS:-3}" \
        CFLAGS_EXTRA="${CFLAGS_EXTRA:--DTLB_STRESS_MS=100}" >/dev/null
    for mode in $MODES; do
        case "$mode" in
            tcg) n=$BOOTS; icount=() ;;
            icount) n=$ICOUNT_BOOTS; icount=(-icount shift=0,sleep=off) ;;
            *) echo "unknown mode $mode (tcg, icount)" >&2; exit 2 ;;
        esac
        for i in $(seq 1 "$n"); do
            log="$OUT/$mode-boot-$i.log"
            rc=0
            timeout 600 "$QEMU" -kernel "$BUILD/kernel.bin" -initrd "$BUILD/initfs.img" \
                -serial stdio -display none -monitor none -no-reboot \
                -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m 256M -smp "$CPUS" \
                "${icount[@]}" >"$log" 2>&1 || rc=$?
            # isa-debug-exit: QEMU status 1 = pass.
            [ "$rc" -eq 1 ] || { echo "$mode boot $i did not pass (qemu status $rc): $log" >&2; exit 1; }
            python3 "$CHECK" "$log" --expect-end pass >/dev/null || { echo "marker check failed: $log" >&2; exit 1; }
            awk -v mode="$mode" '
                /@@LAB tsc hz=/        { for (i = 1; i <= NF; i++) { if ($i ~ /^hz=/) hz = substr($i, 4); if ($i ~ /^base=/) base = substr($i, 6) } }
                /@@LAB stage name=bootstrap / { for (i = 1; i <= NF; i++) if ($i ~ /^tsc=/) t = substr($i, 5) }
                /@@LAB metric name=syscall.enosys.cycles / { for (i = 1; i <= NF; i++) if ($i ~ /^value=/) s = substr($i, 7) }
                END { if (hz && t) printf "%s/boot.ms %.3f\n", mode, (t - base) * 1000 / hz; if (s) printf "%s/syscall.enosys.cycles %s\n", mode, s }
            ' "$log" >> "$SAMPLES"
            echo "$mode boot $i/$n done" >&2
        done
    done
    # A real machine's boot-to-boot ratios, laid over the icount value (see the header).
    if [ "$HOST_RUNS" -gt 0 ] && grep -q '^icount/syscall.enosys.cycles ' "$SAMPLES"; then
        gcc -O2 -o "$OUT/hostspread" "$ROOT/bench/verdict/hostspread.c"
        for i in $(seq 1 "$HOST_RUNS"); do "$OUT/hostspread"; done > "$OUT/host.txt"
        icount=$(awk '$1 == "icount/syscall.enosys.cycles" { print $2 }' "$SAMPLES" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
        hostmed=$(sort -n "$OUT/host.txt" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
        awk -v c="$icount" -v m="$hostmed" '{ printf "icount×host/syscall.enosys.cycles %.3f\n", c * $1 / m }' "$OUT/host.txt" >> "$SAMPLES"
        echo "host spread: $HOST_RUNS runs, median $hostmed cycles (raw values in $OUT/host.txt)" >&2
    fi
fi

[ -z "${COLLECT_ONLY:-}" ] || { echo "samples: $SAMPLES"; exit 0; }
dotnet build -v q -nologo "$ROOT/bench/verdict" >/dev/null
echo "samples: $SAMPLES ($(wc -l < "$SAMPLES") values)"
dotnet "$ROOT/bench/verdict/bin/Debug/net10.0/Redox.Lab.Bench.Verdict.dll" "$SAMPLES" "$TRIALS"
