#!/usr/bin/env bash
# Starts (or stops) a throw-away local PostgreSQL on loopback, for the one-machine lab and the tests.
#   scripts/pg-local.sh start <data-dir> <port>   -> prints the connection string on stdout
#   scripts/pg-local.sh stop  <data-dir>
# Uses the PostgreSQL binaries on PATH (initdb, pg_ctl); as root it runs them as the 'postgres' user,
# because PostgreSQL refuses to run as root. Idempotent: an already running cluster is reused.
set -euo pipefail
cmd=${1:?usage: pg-local.sh start|stop <data-dir> [port]}
dir=${2:?data dir}
port=${3:-55432}

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local b; b=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1)
  [ -n "$b" ] && { echo "$b"; return; }
  echo "pg-local: $1 not found (install postgresql)" >&2; exit 1
}
INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl)

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
      # PostgreSQL runs as 'postgres' and must be able to walk down to its data dir: grant
      # traverse-only (o+x, no listing) on the parents that block it, e.g. a mktemp dir or /root.
      p=$(dirname "$dir")
      while ! runuser -u postgres -- test -x "$p" 2>/dev/null && [ "$p" != / ]; do
        blocked=$p
        while [ "$(dirname "$blocked")" != / ] && ! runuser -u postgres -- test -x "$(dirname "$blocked")"; do
          blocked=$(dirname "$blocked")
        done
        echo "pg-local: granting traverse (o+x) on $blocked so the postgres user reaches $dir" >&2
        chmod o+x "$blocked"
      done
      chown postgres "$dir" && chmod 700 "$dir"
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$INITDB" -D "$dir" -U lab --auth=trust -E UTF8 --locale=C >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$PG_CTL" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$PG_CTL" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
        start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    # The port of a reused cluster may differ from the one asked for: read the one it runs on.
    port=$(sed -n '4p' "$dir/postmaster.pid")
    echo "Host=127.0.0.1;Port=$port;Username=lab;Database=postgres"
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] && as_owner "$PG_CTL" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: pg-local.sh start|stop <data-dir> [port]" >&2; exit 2 ;;
esac
