#!/usr/bin/env bash
# bench/fold: folding perf-script text. Generates FOLD_MB (default 220) MB of realistic perf-script text
# (deep kernel stacks, long Rust and C++ names, many distinct stacks; Program.cs), then, RUNS times
# (default 3) each, on one core (taskset -c 0):
#   - the lab's folder inside one process: folding MB/s (the fold alone, input from the page cache);
#   - the lab's folder as a whole process (dotnet start-up included): MB/s and peak RSS;
#   - the same on a quarter of the input: peak memory must not depend on the input size;
#   - when STACKCOLLAPSE_PERF names a stackcollapse-perf.pl: the Perl script as a whole process, its
#     MB/s and peak RSS, the ratios, and whether both outputs are the same bytes (--perl mode).
#   - when FOLD_BASELINE names another build of this bench's dll (say main's before a change:
#     `git worktree add /tmp/fold-base main && dotnet build /tmp/fold-base/bench/fold -c Release`, then
#     FOLD_BASELINE=/tmp/fold-base/bench/fold/bin/Release/net10.0/Redox.Lab.Bench.Fold.dll): the same figures for
#     it, measured in the same runs, each of its measurements right before this build's, and the ratios
#     (this build over the baseline), so a before/after comparison sees the same load on both sides.
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
base=${FOLD_BASELINE:-}

# One run of one build: "fold-ms cpu-ms whole-s whole-cpu-s rss-kib quarter-rss-kib".
measure() {
  local dll=$1 tag=$2 line out q
  # In-process: the third of three folds in one process (JIT warmed), its own timing (wall and CPU).
  line=$($pin dotnet "$dll" fold "$input" --repeat 3 --out /dev/null 2>&1 >/dev/null | awk '/^fold-ms/ {v=$0} END {print v}')
  # Whole process: one fold, start-up, JIT and writing the folded stacks included.
  out=$(python3 "$root/bench/fold/measure.py" $pin dotnet "$dll" fold "$input" --out "$work/$tag.folded" 2>/dev/null | grep '^wall-s')
  q=$(python3 "$root/bench/fold/measure.py" $pin dotnet "$dll" fold "$quarter" --out /dev/null 2>/dev/null | grep '^wall-s')
  echo "$(echo "$line" | awk '{print $2, $4}') $(echo "$out" | awk '{print $2, $6, $4}') $(echo "$q" | awk '{print $4}')"
}

lab=() baseline=() perl_s=() perl_rss=()
for i in $(seq "$runs"); do
  [ -n "$base" ] && baseline+=("$(measure "$base" baseline)")
  lab+=("$(measure "$dll" lab)")
  if [ -n "${STACKCOLLAPSE_PERF:-}" ]; then
    out=$(python3 "$root/bench/fold/measure.py" $pin sh -c "perl '$STACKCOLLAPSE_PERF' '$input' > '$work/perl.folded' 2>/dev/null" | grep '^wall-s')
    perl_s+=("$(echo "$out" | awk '{print $2}')"); perl_rss+=("$(echo "$out" | awk '{print $4}')")
  fi
done

# The median of field $2 (1-based) over the lines of array $1.
med() { local -n rows=$1; printf '%s\n' "${rows[@]}" | awk -v f="$2" '{print $f}' | median; }
# The figures of one build, one per line: in-process MB/s, MB per CPU s, whole-process MB/s, MB per CPU s, RSS, quarter RSS.
figures() {
  awk -v b="$bytes" -v fm="$(med "$1" 1)" -v cm="$(med "$1" 2)" -v ws="$(med "$1" 3)" -v wc="$(med "$1" 4)" -v rk="$(med "$1" 5)" -v qk="$(med "$1" 6)" \
    'BEGIN {printf "%.1f\n%.1f\n%.1f\n%.1f\n%.1f\n%.1f\n", b/1e6/(fm/1000), b/1e6/(cm/1000), b/1e6/ws, b/1e6/wc, rk/1024, qk/1024}'
}
mapfile -t mine < <(figures lab)
[ -n "$base" ] && mapfile -t theirs < <(figures baseline)
perl_mbs=- perl_mib=-
if [ -n "${STACKCOLLAPSE_PERF:-}" ]; then
  perl_mbs=$(printf '%s\n' "${perl_s[@]}" | median | awk -v b="$bytes" '{printf "%.1f", b/1e6/$1}')
  perl_mib=$(printf '%s\n' "${perl_rss[@]}" | median | awk '{printf "%.1f", $1/1024}')
fi

echo "bench/fold: $(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}') MB of perf-script, $runs runs each, medians, one core"
echo "load average: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after ($(nproc) CPUs)"
[ -n "$base" ] && echo "baseline: $base"
labels=("folding MB/s (in process)" "folding MB per CPU second" "whole process MB/s" "whole process MB per CPU second" "peak RSS MiB" "peak RSS MiB, quarter input")
row() { printf '%-34s %12s' "$1" "$2"; [ -n "$base" ] && printf ' %12s %8s' "$3" "$4"; [ -n "${STACKCOLLAPSE_PERF:-}" ] && printf ' %22s %8s' "$5" "$6"; printf '\n'; }
row "" "lab folder" "baseline" "ratio" "stackcollapse-perf.pl" "ratio"
for k in 0 1 2 3 4 5; do
  ratio=- perl=- pratio=-
  [ -n "$base" ] && ratio=$(awk -v a="${mine[$k]}" -v b="${theirs[$k]}" 'BEGIN {printf "%.2fx", a/b}')
  if [ -n "${STACKCOLLAPSE_PERF:-}" ] && [ "$k" = 2 ]; then perl=$perl_mbs; pratio=$(awk -v a="${mine[$k]}" -v p="$perl_mbs" 'BEGIN {printf "%.1fx", a/p}'); fi
  if [ -n "${STACKCOLLAPSE_PERF:-}" ] && [ "$k" = 4 ]; then perl=$perl_mib; pratio=$(awk -v a="${mine[$k]}" -v p="$perl_mib" 'BEGIN {printf "%.2fx", a/p}'); fi
  row "${labels[$k]}" "${mine[$k]}" "${theirs[$k]:--}" "$ratio" "$perl" "$pratio"
done
echo "(quarter input: $(awk -v b="$qbytes" 'BEGIN {printf "%.1f", b/1e6}') MB; targets: >= 400 MB/s folding, >= 200 MB/s whole process, <= 64 MiB)"
if [ -n "$base" ]; then
  if cmp -s "$work/lab.folded" "$work/baseline.folded"; then echo "outputs: identical bytes (this build vs baseline)"; else echo "outputs: DIFFER (this build vs baseline)"; fi
fi
if [ -n "${STACKCOLLAPSE_PERF:-}" ]; then
  dotnet "$dll" fold "$input" --perl --out "$work/lab-perl.folded" 2>/dev/null
  if cmp -s "$work/lab-perl.folded" "$work/perl.folded"; then echo "outputs: identical bytes (lab --perl vs stackcollapse-perf.pl)"; else echo "outputs: DIFFER (lab --perl vs stackcollapse-perf.pl)"; fi
else
  echo "(set STACKCOLLAPSE_PERF=/path/to/stackcollapse-perf.pl for the Perl script's figures and the ratios)"
fi
