#!/usr/bin/env bash
# bench/fold: folding perf-script text. Generates FOLD_MB (default 220) MB of realistic perf-script text
# (deep kernel stacks, long Rust and C++ names, many distinct stacks; Program.cs), then, RUNS times
# (default 3) each, on one core (taskset -c 0):
#   - the lab's folder inside one process: folding MB/s (the fold alone, input from the page cache);
#   - the lab's folder as a whole process (dotnet start-up included): MB/s and peak RSS;
#   - the same on a quarter of the input: peak memory must not depend on the input size;
#   - when STACKCOLLAPSE_PERF names a stackcollapse-perf.pl: the Perl script as a whole process, its
#     MB/s and peak RSS, the ratios, and whether both outputs are the same bytes (--perl mode).
# Prints medians side by side, and the load average before and after: on a shared machine the wall-clock
# figures fall with the load, so the fold's CPU time is printed too (MB per CPU second of the folding process).
# Targets (issue 12): >= 400 MB/s folding, >= 200 MB/s whole process, <= 64 MiB.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mb=${FOLD_MB:-220}
runs=${RUNS:-3}
work=${FOLD_WORK:-/tmp/bench-fold}
mkdir -p "$work"
input="$work/input-$mb.perf-script"
quarter="$work/input-$mb-quarter.perf-script"

dotnet build "$root/bench/fold" -c Release -v q -nologo >/dev/null
dll="$root/bench/fold/bin/Release/net10.0/Redox.Lab.Bench.Fold.dll"
[ -s "$input" ] || dotnet "$dll" generate "$input" "$mb"
[ -s "$quarter" ] || head -c $(( $(stat -c %s "$input") / 4 )) "$input" > "$quarter"
cat "$input" > /dev/null   # into the page cache
bytes=$(stat -c %s "$input")
qbytes=$(stat -c %s "$quarter")
pin="taskset -c 0"
command -v taskset >/dev/null || pin=""

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
fold_ms=() cpu_ms=() whole_cpu=() whole_s=() rss=() qrss=() perl_s=() perl_rss=()
for i in $(seq "$runs"); do
  # In-process: the third of three folds in one process (JIT warmed), its own timing (wall and CPU).
  line=$($pin dotnet "$dll" fold "$input" --repeat 3 --out /dev/null 2>&1 >/dev/null | awk '/^fold-ms/ {v=$0} END {print v}')
  fold_ms+=("$(echo "$line" | awk '{print $2}')"); cpu_ms+=("$(echo "$line" | awk '{print $4}')")
  out=$(python3 "$root/bench/fold/measure.py" $pin dotnet "$dll" fold "$input" --out "$work/lab.folded" 2>/dev/null | grep '^wall-s')
  whole_s+=("$(echo "$out" | awk '{print $2}')"); rss+=("$(echo "$out" | awk '{print $4}')"); whole_cpu+=("$(echo "$out" | awk '{print $6}')")
  out=$(python3 "$root/bench/fold/measure.py" $pin dotnet "$dll" fold "$quarter" --out /dev/null 2>/dev/null | grep '^wall-s')
  qrss+=("$(echo "$out" | awk '{print $4}')")
  if [ -n "${STACKCOLLAPSE_PERF:-}" ]; then
    out=$(python3 "$root/bench/fold/measure.py" $pin sh -c "perl '$STACKCOLLAPSE_PERF' '$input' > '$work/perl.folded' 2>/dev/null" | grep '^wall-s')
    perl_s+=("$(echo "$out" | awk '{print $2}')"); perl_rss+=("$(echo "$out" | awk '{print $4}')")
  fi
done

fm=$(printf '%s\n' "${fold_ms[@]}" | median)
cm=$(printf '%s\n' "${cpu_ms[@]}" | median)
wc=$(printf '%s\n' "${whole_cpu[@]}" | median)
ws=$(printf '%s\n' "${whole_s[@]}" | median)
rk=$(printf '%s\n' "${rss[@]}" | median)
qk=$(printf '%s\n' "${qrss[@]}" | median)
echo "bench/fold: $(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}') MB of perf-script, $runs runs each, medians, one core"
echo "load average: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after ($(nproc) CPUs)"
printf '%-34s %14s %22s %8s\n' "" "lab folder" "stackcollapse-perf.pl" "ratio"
if [ -n "${STACKCOLLAPSE_PERF:-}" ]; then
  ps=$(printf '%s\n' "${perl_s[@]}" | median)
  pk=$(printf '%s\n' "${perl_rss[@]}" | median)
  printf '%-34s %14.1f %22s %8s\n' "folding MB/s (in process)" "$(awk -v b="$bytes" -v m="$fm" 'BEGIN {print b/1e6/(m/1000)}')" "-" "-"
  printf '%-34s %14.1f %22s %8s\n' "folding MB per CPU second" "$(awk -v b="$bytes" -v m="$cm" 'BEGIN {print b/1e6/(m/1000)}')" "-" "-"
  printf '%-34s %14.1f %22s %8s\n' "whole process MB per CPU second" "$(awk -v b="$bytes" -v s="$wc" 'BEGIN {print b/1e6/s}')" "-" "-"
  printf '%-34s %14.1f %22.1f %7.1fx\n' "whole process MB/s" "$(awk -v b="$bytes" -v s="$ws" 'BEGIN {print b/1e6/s}')" "$(awk -v b="$bytes" -v s="$ps" 'BEGIN {print b/1e6/s}')" "$(awk -v a="$ws" -v p="$ps" 'BEGIN {print p/a}')"
  printf '%-34s %14.1f %22.1f %7.2fx\n' "peak RSS MiB" "$(awk -v k="$rk" 'BEGIN {print k/1024}')" "$(awk -v k="$pk" 'BEGIN {print k/1024}')" "$(awk -v a="$rk" -v p="$pk" 'BEGIN {print a/p}')"
  dotnet "$dll" fold "$input" --perl --out "$work/lab-perl.folded" 2>/dev/null
  if cmp -s "$work/lab-perl.folded" "$work/perl.folded"; then echo "outputs: identical bytes (lab --perl vs stackcollapse-perf.pl)"; else echo "outputs: DIFFER (lab --perl vs stackcollapse-perf.pl)"; fi
else
  printf '%-34s %14.1f\n' "folding MB/s (in process)" "$(awk -v b="$bytes" -v m="$fm" 'BEGIN {print b/1e6/(m/1000)}')"
  printf '%-34s %14.1f\n' "folding MB per CPU second" "$(awk -v b="$bytes" -v m="$cm" 'BEGIN {print b/1e6/(m/1000)}')"
  printf '%-34s %14.1f\n' "whole process MB/s" "$(awk -v b="$bytes" -v s="$ws" 'BEGIN {print b/1e6/s}')"
  printf '%-34s %14.1f\n' "whole process MB per CPU second" "$(awk -v b="$bytes" -v s="$wc" 'BEGIN {print b/1e6/s}')"
  printf '%-34s %14.1f\n' "peak RSS MiB" "$(awk -v k="$rk" 'BEGIN {print k/1024}')"
  echo "(set STACKCOLLAPSE_PERF=/path/to/stackcollapse-perf.pl for the Perl script's figures and the ratios)"
fi
printf '%-34s %14.1f   (%.1f MB input)\n' "peak RSS MiB, quarter input" "$(awk -v k="$qk" 'BEGIN {print k/1024}')" "$(awk -v b="$qbytes" 'BEGIN {print b/1e6}')"
