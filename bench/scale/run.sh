#!/usr/bin/env bash
# bench/scale: the lab under AGENTS simulated agents (default 100; the issue's figure is 500) and JOBS jobs
# (default 2,000; the issue's 20,000), speaking the real agent protocol over HTTP on loopback (no QEMU), against the
# real lab-server and its own PostgreSQL. Bounded: at most MAX_SECONDS (default 900) of pushing. Prints dispatch
# latency p50/p95/p99 (push -> job received), push and end -> visible latencies, console ingest lines/s beside raw
# binary COPY into the same database, the server's CPU and RSS over the run, and the database size.
#   AGENTS=500 JOBS=20000 bash bench/scale/run.sh      # the issue's scale
# Other knobs: JOBS_PER_PUSH (20: machines per pipeline group), INGEST_LINES (2000 per agent in the ingest phase),
# CONFIGURATION (Release: the server as it is deployed; Debug runs it unoptimised), BENCH_PORT, BENCH_PG_PORT.
# Run it nice'd on a shared machine; the load average is printed with the figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
agents=${AGENTS:-100}
jobs=${JOBS:-2000}
max_seconds=${MAX_SECONDS:-900}
per_push=${JOBS_PER_PUSH:-20}
ingest_lines=${INGEST_LINES:-2000}
config=${CONFIGURATION:-Release}
port=${BENCH_PORT:-5195}
pg_port=${BENCH_PG_PORT:-55595}
scratch=$(mktemp -d /tmp/bench-scale.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  bash "$root/scripts/pg-local.sh" stop "$scratch/pg" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

dotnet build "$root/bench/scale" -c "$config" -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$root/lab-server" -c "$config" -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$root/migrations" -c "$config" -nologo -v quiet -clp:ErrorsOnly >/dev/null
bash "$root/scripts/pg-local.sh" start "$scratch/pg" "$pg_port" throwaway >/dev/null
PGPASSFILE="$scratch/pg.pgpass" psql "host=127.0.0.1 port=$pg_port user=lab dbname=postgres" -qc "CREATE DATABASE bench" >/dev/null
conn="Host=127.0.0.1;Port=$pg_port;Username=lab;Database=bench;Passfile=$scratch/pg.pgpass"
dotnet "$root/migrations/bin/$config/net10.0/Redox.Lab.Migrations.dll" --connection "$conn" >/dev/null
dotnet "$root/migrations/bin/$config/net10.0/Redox.Lab.Migrations.dll" create-token --connection "$conn" --user admin --role admin --out "$scratch/admin-token" >/dev/null
cp "$root/tests/Redox.Lab.Contracts.Tests/Console/Adapters/Logs/linux-poweroff.log" "$root/bench/scale/bin/$config/net10.0/console.log"

# The pushed repository: one pipeline per group of JOBS_PER_PUSH machines (tag gN), and one for every machine.
repo="$scratch/repo"
mkdir -p "$repo/pipelines"
pipeline() { # name, tag
  cat > "$repo/pipelines/$1.yaml" <<YAML
name: scale-$1
build:
  commands: ["true"]
  artifacts: { image: kernel.bin }
boot: { timeout: 90s, machine: { tags: [x86_64, $2] } }
YAML
}
groups=$(( agents / per_push )); [ "$groups" -ge 1 ] || groups=1
for g in $(seq 0 $((groups - 1))); do pipeline "g$g" "g$g"; done
pipeline all scale
git -C "$repo" init -q -b main && git -C "$repo" add -A
git -C "$repo" -c user.email=bench@lab -c user.name=bench commit -q -m scale

secret=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
# Connection pool above the agents' concurrency; the database allows 200 connections (scripts/pg-local.sh).
# The per-client rate limits (Infrastructure/RateLimits.cs) are lifted: every simulated agent enrols from 127.0.0.1 and
# every push is the one admin's, where a real lab's agents and pushers are many clients.
( cd "$root/lab-server" && exec dotnet bin/$config/net10.0/Redox.Lab.Server.dll --urls "http://127.0.0.1:$port" \
    --ConnectionStrings:Lab="$conn;Maximum Pool Size=150" --Lab:DataDir="$scratch/server" --Lab:EnrolmentSecret="$secret" \
    --Lab:RateLimits:EnrolPerMinute=100000 --Lab:RateLimits:PushPerMinute=100000 \
    --Logging:LogLevel:Default=Warning ) >"$scratch/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
dotnet "$root/bench/scale/bin/$config/net10.0/Redox.Lab.Bench.Scale.dll" "http://127.0.0.1:$port" "$conn" "$scratch/admin-token" "$secret" \
  "$repo" "$server_pid" "$agents" "$jobs" "$max_seconds" "$per_push" "$ingest_lines" "$(head -1 "$scratch/pg/postmaster.pid")" || { tail -40 "$scratch/server.log"; exit 1; }
grep -c " fail: \|Exception" "$scratch/server.log" | sed 's/^/server log errors: /' || true
