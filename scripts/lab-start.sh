#!/usr/bin/env bash
# Starts the lab on this machine and leaves it running: installs what is missing, builds, starts a
# local PostgreSQL (unless LAB_DB gives a connection string), migrates, and starts the server and
# one agent with a QEMU machine. Used by scripts/lab-up.sh (README command 1) and the benchmarks.
#   LAB_STATE (default .lab)   database, logs, pid files, agent work dirs
#   LAB_PORT (5080), LAB_PG_PORT (55432), LAB_DB, LAB_ENROLMENT_SECRET, LAB_CONFIGURATION (Debug)
# Secrets live in mode-600 files under LAB_STATE, never in the environment the server, the agent and their
# children (git, QEMU, builds) inherit: the enrolment secret in enrolment-secret (Lab:/Agent:EnrolmentSecretFile),
# the database password in pgdata.pgpass (named by Passfile= in the connection string, pg-local.sh), or, for a
# LAB_DB with Password=, in lab-db.pgpass. Connection strings reach the migrator on stdin, never on its command line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=${LAB_STATE:-$root/.lab}
mkdir -p "$state"; state=$(cd "$state" && pwd)
port=${LAB_PORT:-5080}
url="http://127.0.0.1:$port"
secret=${LAB_ENROLMENT_SECRET:-$(cat "$state/enrolment-secret" 2>/dev/null || head -c 18 /dev/urandom | base64 | tr '+/' '-_')}
config=${LAB_CONFIGURATION:-Debug}
mkdir -p "$state/logs"
(umask 077; echo "$secret" > "$state/enrolment-secret") && chmod 600 "$state/enrolment-secret"
unset secret LAB_ENROLMENT_SECRET   # from here on the secret is only in its file

step() { printf '\n== %s\n' "$*"; }

step "1. dependencies"
bash scripts/install-deps.sh

step "2. build (lab: dotnet, kernel: make)"
dotnet build Redox.Lab.sln -c "$config" -warnaserror -nologo -clp:ErrorsOnly -v quiet
make -s -C kernel

step "3. database"
migrator="migrations/bin/$config/net10.0/Redox.Lab.Migrations.dll"
if [ -n "${LAB_DB:-}" ]; then
  # A Password= in LAB_DB moves to a mode-600 pgpass file (read on stdin, never a command line): the connection
  # string used from here on names the file (Passfile=), so neither ps nor any process's environment shows it.
  db=$(printf '%s\n' "$LAB_DB" | dotnet "$migrator" passfile --out "$state/lab-db.pgpass")
else
  base=$(scripts/pg-local.sh start "$state/pgdata" "${LAB_PG_PORT:-55432}" durable)
  db="${base/Database=postgres/Database=redox_lab}"
fi
unset LAB_DB   # exported by the caller: the server, the agent and their children must not inherit it
printf '%s\n' "$db" | dotnet "$migrator" --connection-file -

step "4. server and agent"
start() { # name, dll, args...
  local name=$1 dll=$2; shift 2
  if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
    kill "$(cat "$state/$name.pid")"; sleep 1
  fi
  (cd "$(dirname "$dll")" && exec dotnet "$(basename "$dll")" "$@") >"$state/logs/$name.log" 2>&1 &
  echo $! > "$state/$name.pid"
}
# Each process gets only its own settings (assignments before the call, not exports): the agent never sees the
# connection string; no secret is in either's environment, only the paths of the files that hold them.
ConnectionStrings__Lab="$db" Lab__EnrolmentSecretFile="$state/enrolment-secret" Lab__DataDir="$state/server" \
start server "$root/lab-server/bin/$config/net10.0/Redox.Lab.Server.dll" --urls "$url"
for _ in $(seq 1 60); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 1; done
curl -fs "$url/healthz" >/dev/null || { echo "server did not start; see $state/logs/server.log" >&2; tail -20 "$state/logs/server.log" >&2; exit 1; }
# The install's admin token: made once by the install command, kept in a mode-600 file, checked on every start
# (a new database voids the old one). lab reads it from LAB_TOKEN_FILE; it is never on a command line.
cli() { dotnet "$root/lab-cli/bin/$config/net10.0/lab.dll" --server "$url" "$@"; }
export LAB_TOKEN_FILE="$state/admin-token"
if ! cli whoami >/dev/null 2>&1; then
  rm -f "$LAB_TOKEN_FILE"
  printf '%s\n' "$db" | dotnet "$root/$migrator" create-token --connection-file - --user admin --role admin --out "$LAB_TOKEN_FILE"
fi
# This checkout is the operator's own code: registered trusted, so its pushed commit's pipeline is used.
if ! cli repo list | grep -q '^redox-lab '; then
  cli repo add --name redox-lab --url "$root" --branch "$(git rev-parse --abbrev-ref HEAD | sed 's/^HEAD$/main/')" --pipelines 'pipelines/*.yaml' --trusted
fi
agent_name=${LAB_AGENT_NAME:-$(hostname)}
Agent__Server="$url" Agent__EnrolmentSecretFile="$state/enrolment-secret" Agent__StateDir="$state/agent" Agent__Name="$agent_name" \
start agent "$root/lab-agent/bin/$config/net10.0/Redox.Lab.Agent.dll"
echo "server $url (log $state/logs/server.log), agent $agent_name (log $state/logs/agent.log)"
# the agent enrols and starts its long poll
sleep 2

