#!/usr/bin/env bash
# Starts (or stops) a local PostgreSQL on loopback, for the one-machine lab and the tests.
#   scripts/pg-local.sh start <data-dir> <port> [durable|throwaway]   -> prints the connection string on stdout
#   scripts/pg-local.sh stop  <data-dir>
# Uses the PostgreSQL binaries on PATH (initdb, pg_ctl, psql); as root it runs them as the 'postgres' user,
# because PostgreSQL refuses to run as root. Idempotent: an already running cluster is reused.
#
# Authentication (issue 10): the lab connects as the role 'lab', which is NOT a superuser: it may log in and
# create databases (the migrate command creates and then owns the lab's database and its schemas), nothing
# more. It authenticates with a SCRAM-SHA-256 password over TCP on 127.0.0.1; the password is random, kept
# in <data-dir>.pgpass (PostgreSQL's password-file format, mode 600), and the printed connection string
# names that file (Npgsql's Passfile=) instead of holding the password. The superuser is the cluster's
# OS owner ('postgres' as root), reachable only through the Unix socket inside the data dir (peer
# authentication); it has no password and cannot log in over TCP.
#
# Durability: fsync stays on. 'throwaway' (the test fixtures' clusters, deleted after the run) also sets
# synchronous_commit=off: a crash may lose the last commits of a cluster nobody keeps, but never corrupts
# it; the tests that restart PostgreSQL stop it cleanly. The lab's own cluster (lab-start.sh) is 'durable'.
set -euo pipefail
cmd=${1:?usage: pg-local.sh start|stop <data-dir> [port] [durable|throwaway]}
dir=${2:?data dir}
port=${3:-55432}
mode=${4:-durable}
case "$mode" in durable|throwaway) ;; *) echo "pg-local: mode must be durable or throwaway, not '$mode'" >&2; exit 2 ;; esac

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local b; b=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1)
  [ -n "$b" ] && { echo "$b"; return; }
  echo "pg-local: $1 not found (install postgresql)" >&2; exit 1
}
INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl); PSQL=$(find_bin psql)

if [ "$(id -u)" = 0 ]; then owner=postgres; else owner=$(id -un); fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
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
    pgpass="$dir.pgpass"
    if [ -f "$dir/PG_VERSION" ] && ! grep -q '^# pg-local: scram$' "$dir/pg_hba.conf" 2>/dev/null; then
      echo "pg-local: $dir was made by an older pg-local.sh (trust authentication, superuser 'lab')." >&2
      echo "  Keep its data with pg_dump, then remove it (or use another data dir / LAB_STATE); nothing was changed." >&2
      exit 1
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$INITDB" -D "$dir" -U "$owner" --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
      echo "# pg-local: scram" | as_owner tee -a "$dir/pg_hba.conf" >/dev/null
    fi
    if [ ! -s "$pgpass" ]; then
      (umask 077; printf '*:*:*:lab:%s\n' "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')" > "$pgpass")
    fi
    chmod 600 "$pgpass"
    sync_commit=on; [ "$mode" = throwaway ] && sync_commit=off
    if ! as_owner "$PG_CTL" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$PG_CTL" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200 -c fsync=on -c synchronous_commit=$sync_commit -c password_encryption=scram-sha-256" \
        start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    # The port of a reused cluster may differ from the one asked for: read the one it runs on.
    port=$(sed -n '4p' "$dir/postmaster.pid")
    # The lab's role: created once, its password (re)set from the password file on every start. The SQL,
    # password included, goes to psql on stdin, never on a command line.
    password=$(cut -d: -f5- "$pgpass")
    as_owner "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U "$owner" -d postgres >/dev/null <<SQL
SET password_encryption = 'scram-sha-256';
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lab') THEN CREATE ROLE lab; END IF;
END \$\$;
ALTER ROLE lab WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$password';
SQL
    echo "Host=127.0.0.1;Port=$port;Username=lab;Database=postgres;Passfile=$pgpass"
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] && as_owner "$PG_CTL" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: pg-local.sh start|stop <data-dir> [port] [durable|throwaway]" >&2; exit 2 ;;
esac
