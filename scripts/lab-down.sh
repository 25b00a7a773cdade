#!/usr/bin/env bash
# Stops what scripts/lab-up.sh started (server, agent, local PostgreSQL). Keeps the data.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${LAB_STATE:-$root/.lab}
for name in agent server; do
  pidfile="$state/$name.pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null && echo "stopped $name"
    rm -f "$pidfile"
  fi
done
"$root/scripts/pg-local.sh" stop "$state/pgdata" && echo "stopped postgresql"
