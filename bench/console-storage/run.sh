#!/usr/bin/env bash
# bench/console-storage: bytes a boot's console costs in PostgreSQL, as raw rows (console_lines) and after the
# server's CompactConsoleJob packed it into Brotli chunks (console_chunks). lab-server/ConsoleStorage/STORAGE.md.
# Starts a private PostgreSQL and the real lab-server, uploads consoles through the agent API (seed.py): one
# FLOOD_MB (50) MB console, and TYPICAL (100) typical Redox boots (the real Redox console logs in
# tests/Redox.Lab.Contracts.Tests/.../Logs, one per boot), measures the console tables (every partition, with
# indexes and TOAST), restarts the server with compaction due at once, waits until it has packed everything,
# VACUUMs and measures again. Prints one table.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
flood_mb=${FLOOD_MB:-50}
typical=${TYPICAL:-100}
port=${BENCH_PORT:-5191}
pg_port=${BENCH_PG_PORT:-55591}
scratch=$(mktemp -d /tmp/bench-console-storage.XXXXXX)
server_pid=
find_bin() { command -v "$1" 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/"$1" | sort -V | tail -1; }
PSQL=$(find_bin psql)
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=; }
cleanup() {
  stop_server || true
  bash "$root/scripts/pg-local.sh" stop "$scratch/pg" || true
  rm -rf "$scratch"
}
trap cleanup EXIT

dotnet build "$root/lab-server" -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$root/migrations" -nologo -v quiet -clp:ErrorsOnly >/dev/null
admin=$(bash "$root/scripts/pg-local.sh" start "$scratch/pg" "$pg_port" throwaway)
# The lab role's password is in the cluster's password file (pg-local.sh); libpq and Npgsql read it from there.
passfile=$(sed -n 's/.*Passfile=\([^;]*\).*/\1/p' <<<"$admin")
db="host=127.0.0.1 port=$pg_port user=lab dbname=bench passfile=$passfile"
"$PSQL" "host=127.0.0.1 port=$pg_port user=lab dbname=postgres passfile=$passfile" -qc "CREATE DATABASE bench" >/dev/null
conn="${admin/Database=postgres/Database=bench}"
mig="$root/migrations/bin/Debug/net10.0/Redox.Lab.Migrations.dll"
dotnet "$mig" --connection "$conn" >/dev/null
dotnet "$mig" create-token --connection "$conn" --user admin --role admin --out "$scratch/admin-token" >/dev/null

repo="$scratch/repo"
mkdir -p "$repo/pipelines"
sed -e 's/tags: \[x86_64\]/tags: [x86_64, bench]/' -e '/^variants:/,$d' "$root/pipelines/redox-reference.yaml" > "$repo/pipelines/bench.yaml"
git -C "$repo" init -q -b main && git -C "$repo" add -A && git -C "$repo" -c user.email=b@b -c user.name=b commit -qm bench

start_server() { # $1: minutes after a job's end before its console is packed
  ( cd "$root/lab-server" && exec dotnet bin/Debug/net10.0/Redox.Lab.Server.dll --urls "http://127.0.0.1:$port" \
      --ConnectionStrings:Lab="$conn" --Lab:DataDir="$scratch/server" --Lab:EnrolmentSecret=bench-secret \
      --Lab:Retention:CompactAfterMinutes="$1" --Logging:LogLevel:Default=Warning ) >>"$scratch/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 1; done
  echo "server did not start"; tail -20 "$scratch/server.log"; exit 1
}

start_server 100000
python3 "$root/bench/console-storage/seed.py" "http://127.0.0.1:$port" "$(cat "$scratch/admin-token")" "$repo" bench-secret \
  "$flood_mb" "$typical" "$root"/tests/Redox.Lab.Contracts.Tests/Console/Adapters/Logs/redox-*.log > "$scratch/jobs.txt"
flood_job=$(awk '$1 == "flood" {print $2}' "$scratch/jobs.txt")
flood_lines=$(awk '$1 == "flood" {print $3}' "$scratch/jobs.txt")
flood_bytes=$(awk '$1 == "flood" {print $4}' "$scratch/jobs.txt")
typical_lines=$(awk '$1 == "typical" {n += $3} END {print n + 0}' "$scratch/jobs.txt")
stop_server

q() { "$PSQL" "$db" -XAtqc "$1"; }
# Bytes of every partition of a console table (heap, indexes, TOAST), after VACUUM.
size() { q "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('$1') WHERE isleaf"; }
# The flood job's share of a table, by its rows' share of the text (the typical jobs share partitions with it).
q "VACUUM ANALYZE" >/dev/null
lines_before=$(size console_lines)
flood_text=$(q "SELECT sum(octet_length(text)) FROM console_lines WHERE job_id = '$flood_job'")
all_text=$(q "SELECT sum(octet_length(text)) FROM console_lines")

start_server 0
for _ in $(seq 600); do
  [ "$(q "SELECT count(*) FROM (SELECT 1 FROM console_lines LIMIT 1) x")" = 0 ] && break
  sleep 2
done
stop_server
q "VACUUM FULL console_lines" >/dev/null; q "VACUUM ANALYZE" >/dev/null
lines_after=$(size console_lines)
chunks_after=$(size console_chunks)
flood_chunks=$(q "SELECT sum(octet_length(data)) FROM console_chunks WHERE job_id = '$flood_job'")
all_chunks=$(q "SELECT sum(octet_length(data)) FROM console_chunks")
other=$(q "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(ARRAY['boots','boot_stages','metrics','test_results','findings','jobs','runs']) t")

python3 - "$flood_mb" "$typical" "$flood_lines" "$flood_bytes" "$typical_lines" "$lines_before" "$flood_text" "$all_text" \
  "$lines_after" "$chunks_after" "$flood_chunks" "$all_chunks" "$other" <<'PY'
import sys
(mb, typical, flines, fbytes, tlines, before, ftext, alltext, lafter, cafter, fchunks, allchunks, other) = map(int, sys.argv[1:])
boots = typical + 1
def share(total, part, whole): return total * part / whole
print(f"console storage: 1 boot with a {mb} MB console ({flines:,} lines, {fbytes:,} bytes of text) and {typical} typical Redox boots ({tlines/typical:.0f} lines each)")
print(f"{'':34}{'raw rows':>16}{'compressed':>16}{'ratio':>8}")
fb, fa = share(before, ftext, alltext), share(cafter, fchunks, allchunks) + share(lafter, ftext, alltext)
print(f"{'flood boot, bytes':34}{fb:16,.0f}{fa:16,.0f}{fb / fa:8.1f}")
tb = (before - fb) / typical
ta = (cafter + lafter - fa) / typical
print(f"{'typical boot, bytes per boot':34}{tb:16,.0f}{ta:16,.0f}{tb / ta:8.1f}")
print(f"{'console tables, total bytes':34}{before:16,}{cafter + lafter:16,}{before / (cafter + lafter):8.1f}")
print(f"{'other tables (runs..metrics)/boot':34}{other / boots:16,.0f}")
PY
