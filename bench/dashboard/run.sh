#!/usr/bin/env bash
# bench/dashboard: server time of the dashboard's pages with 100,000 boots of one machine stored.
# Starts a private PostgreSQL (own data dir and port), seeds it by binary COPY (Program.cs seed),
# starts the real lab-server on its own port, GETs each page (Program.cs measure) and prints p50/p95
# beside the /healthz baseline, then stops both. BOOTS=... changes the size.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
boots=${BOOTS:-100000}
port=${BENCH_PORT:-5190}
pg_port=${BENCH_PG_PORT:-55590}
scratch=$(mktemp -d /tmp/bench-dashboard.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  bash "$root/scripts/pg-local.sh" stop "$scratch/pg" || true
  rm -rf "$scratch"
}
trap cleanup EXIT

dotnet build "$root/bench/dashboard" -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$root/lab-server" -nologo -v quiet -clp:ErrorsOnly >/dev/null
admin=$(bash "$root/scripts/pg-local.sh" start "$scratch/pg" "$pg_port" throwaway)
PGPASSFILE="$scratch/pg.pgpass" psql "host=127.0.0.1 port=$pg_port user=lab dbname=postgres" -qc "CREATE DATABASE bench" >/dev/null
conn="Host=127.0.0.1;Port=$pg_port;Username=lab;Database=bench;Passfile=$scratch/pg.pgpass"
cp "$root/pipelines/redox-reference.yaml" "$root/bench/dashboard/bin/Debug/net10.0/"
dotnet "$root/bench/dashboard/bin/Debug/net10.0/Redox.Lab.Bench.Dashboard.dll" seed "$conn" "$boots"

( cd "$root/lab-server" && exec dotnet bin/Debug/net10.0/Redox.Lab.Server.dll --urls "http://127.0.0.1:$port" \
    --ConnectionStrings:Lab="$conn" --Lab:DataDir="$scratch/server" --Logging:LogLevel:Default=Warning ) >"$scratch/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
dotnet "$root/bench/dashboard/bin/Debug/net10.0/Redox.Lab.Bench.Dashboard.dll" measure "http://127.0.0.1:$port"
