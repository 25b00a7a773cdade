#!/usr/bin/env bash
# README command 2: every test. Installs what is missing, builds everything with warnings as
# errors, runs the kernel's host unit tests and every .NET test project (unit, integration on a
# real PostgreSQL, end-to-end with the real server, agent, QEMU and kernel), and ends with one
# summary line "tests: N passed, M failed, K skipped". Exits non-zero when anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log=$(mktemp -d)/test-all
mkdir -p "$log"
passed=0; failed=0; skipped=0; broken=0

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
bash scripts/install-deps.sh || exit 1

step "build (warnings are errors)"
dotnet build Redox.Lab.sln -warnaserror -nologo -clp:ErrorsOnly -v quiet || exit 1
make -s -C kernel || exit 1

step "kernel host unit tests (make -C kernel test)"
make -s --no-print-directory -C kernel test 2>&1 | tee "$log/kernel.txt"
[ "${PIPESTATUS[0]}" = 0 ] || broken=1
if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/kernel.txt" | tail -1); then
  passed=$((passed + $(echo "$line" | awk '{print $1}')))
  failed=$((failed + $(echo "$line" | awk '{print $3}')))
else
  echo "kernel host tests printed no summary line"; broken=1
fi

step ".NET tests"
for proj in $(ls tests/*/*.csproj | sort); do
  name=$(basename "$proj" .csproj)
  echo "-- $name"
  dotnet test "$proj" --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee "$log/$name.txt" | grep -E '^\s*(Failed|Skipped) |^Total tests|^ +(Passed|Failed|Skipped): '
  [ "${PIPESTATUS[0]}" = 0 ] || broken=1
  # The console logger's closing block: "Total tests: N", then "Passed: N", "Failed: N", "Skipped: N".
  total=$(grep -E '^Total tests: [0-9]+' "$log/$name.txt" | tail -1 | grep -oE '[0-9]+')
  if [ -z "$total" ]; then echo "   no test summary from $name (did the test host crash?)"; broken=1; continue; fi
  num() { grep -E "^ +$1: [0-9]+" "$log/$name.txt" | tail -1 | grep -oE '[0-9]+' || echo 0; }
  passed=$((passed + $(num Passed))); failed=$((failed + $(num Failed))); skipped=$((skipped + $(num Skipped)))
done

echo
echo "logs: $log"
# The dashboard's browser tests save a screenshot of every page (tests/Redox.Lab.Dashboard.Tests).
shots=${LAB_SCREENSHOTS:-$root/artifacts/dashboard-screenshots}
[ -d "$shots" ] && echo "dashboard screenshots: $shots ($(ls "$shots" | wc -l) pages)"
# The end-to-end cases of other kernels write what their runs and run pages showed (tests/Redox.Lab.EndToEnd.Tests/CaseReport.cs).
cases=${LAB_E2E_CASES:-$root/artifacts/e2e-cases}
[ -d "$cases" ] && echo "end-to-end cases: $cases ($(ls "$cases" | wc -l) runs)"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$broken" = 0 ]
