#!/usr/bin/env bash
# bench/verdict/run.sh - how often the lab's verdicts are wrong and how many boots they need, on real
# samples of the reference kernel. Builds the kernel once, boots it BOOTS times (default 20) in QEMU
# directly, checks every marker's CRC and the pass end, and collects per boot:
#   boot.ms               kernel time from entry to the bootstrap stage (TSC ticks / tsc hz)
#   syscall.enosys.cycles bootstrap's median syscall latency
# then runs Program.cs, which resamples those samples (TRIALS per cell, default 2000) and prints, per
# series: the A/A false-positive rate, the detection rate of injected +1/2/5/10% shifts, and the mean
# boots per side of the sequential design, next to a fixed 10 boots per side.
#
#   bench/verdict/run.sh
#   BOOTS=30 CPUS=2 TRIALS=5000 bench/verdict/run.sh
#   SAMPLES=/tmp/samples.txt bench/verdict/run.sh     # reuse samples collected before
#   COLLECT_ONLY=1 OUT=/tmp/v bench/verdict/run.sh     # boot and collect only (samples in $OUT/samples.txt)
#   ICOUNT=1 bench/verdict/run.sh                      # QEMU -icount: the TSC counts guest instructions, not host time
# Under plain TCG the TSC is host time, so on a loaded host the cycle counts carry the host's load;
# with ICOUNT=1 they follow the guest's instructions (the lab's icount machines, see the end-to-end test).
# TSC cycles under QEMU TCG are host time: compare rows of one run, not with hardware numbers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOTS=${BOOTS:-20}
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
    for i in $(seq 1 "$BOOTS"); do
        log="$OUT/boot-$i.log"
        rc=0
        timeout 300 "$QEMU" -kernel "$BUILD/kernel.bin" -initrd "$BUILD/initfs.img" \
            -serial stdio -display none -monitor none -no-reboot \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m 256M -smp "$CPUS" \
            ${ICOUNT:+-icount shift=0,sleep=off} >"$log" 2>&1 || rc=$?
        # isa-debug-exit: QEMU status 1 = pass.
        [ "$rc" -eq 1 ] || { echo "boot $i did not pass (qemu status $rc): $log" >&2; exit 1; }
        python3 "$CHECK" "$log" --expect-end pass >/dev/null || { echo "marker check failed: $log" >&2; exit 1; }
        awk '
            /@@LAB tsc hz=/        { for (i = 1; i <= NF; i++) { if ($i ~ /^hz=/) hz = substr($i, 4); if ($i ~ /^base=/) base = substr($i, 6) } }
            /@@LAB stage name=bootstrap / { for (i = 1; i <= NF; i++) if ($i ~ /^tsc=/) t = substr($i, 5) }
            /@@LAB metric name=syscall.enosys.cycles / { for (i = 1; i <= NF; i++) if ($i ~ /^value=/) s = substr($i, 7) }
            END { if (hz && t) printf "boot.ms %.3f\n", (t - base) * 1000 / hz; if (s) printf "syscall.enosys.cycles %s\n", s }
        ' "$log" >> "$SAMPLES"
        echo "boot $i/$BOOTS done" >&2
    done
fi

[ -z "${COLLECT_ONLY:-}" ] || { echo "samples: $SAMPLES"; exit 0; }
dotnet build -v q -nologo "$ROOT/bench/verdict" >/dev/null
echo "samples: $SAMPLES ($(wc -l < "$SAMPLES") values)"
dotnet "$ROOT/bench/verdict/bin/Debug/net10.0/Redox.Lab.Bench.Verdict.dll" "$SAMPLES" "$TRIALS"
