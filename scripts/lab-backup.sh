#!/usr/bin/env bash
# Backs up a lab: its PostgreSQL database (every run, job, boot, console line, artifact, user and Hangfire's
# queue) with pg_dump, and the server's data dir (Lab:DataDir: the git mirrors). scripts/BACKUP.md explains.
#   scripts/lab-backup.sh --db CONNINFO --out BACKUP_DIR [--data-dir SERVER_DATA_DIR]
# CONNINFO is a libpq connection string or URI, e.g. "host=127.0.0.1 port=5432 user=lab dbname=redox_lab".
# A password comes from ~/.pgpass or PGPASSFILE, never from the command line. The server may keep running:
# pg_dump reads one consistent snapshot.
set -euo pipefail
db="" out="" data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=${2:?--db needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --data-dir) data=${2:?--data-dir needs a value}; shift 2 ;;
    *) echo "lab-backup: unknown argument $1 (usage: lab-backup.sh --db CONNINFO --out DIR [--data-dir DIR])" >&2; exit 2 ;;
  esac
done
[ -n "$db" ] && [ -n "$out" ] || { echo "lab-backup: --db and --out are required" >&2; exit 2; }
# A password on the command line is readable by every local user (ps, /proc/PID/cmdline): refuse one.
if [[ "$db" =~ (^|[[:space:]])password[[:space:]]*= ]] || [[ "$db" =~ ^postgres(ql)?://[^@/]*:[^@/]*@ ]]; then
  echo "lab-backup: --db holds a password, which any local user can read on a command line; put it in ~/.pgpass or a passfile= file (scripts/BACKUP.md)" >&2; exit 2
fi

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local b; b=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1)
  [ -n "$b" ] && { echo "$b"; return; }
  echo "lab-backup: $1 not found (install postgresql-client)" >&2; exit 1
}
PG_DUMP=$(find_bin pg_dump); PSQL=$(find_bin psql)

if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "lab-backup: $out is not empty; a backup goes into a new directory" >&2; exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The migration the database is at: a restore needs a server of that version (or newer: it migrates forward).
migration=$("$PSQL" -X -At -d "$db" -c 'SELECT max("MigrationId") FROM "__EFMigrationsHistory"')

# Custom format: compressed, restorable table by table, and checked by pg_restore --list.
"$PG_DUMP" --format=custom --compress=6 --file="$out/lab.dump.partial" --dbname="$db"
mv "$out/lab.dump.partial" "$out/lab.dump"

if [ -n "$data" ] && [ -d "$data" ]; then
  tar -C "$data" -czf "$out/data.tar.gz" .
fi

{
  echo "created $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "migration $migration"
  echo "pg_dump $("$PG_DUMP" --version | awk '{print $NF}')"
  (cd "$out" && sha256sum lab.dump $( [ -f data.tar.gz ] && echo data.tar.gz ))
} > "$out/MANIFEST"
echo "lab-backup: $out ($(du -sh "$out" | cut -f1)), database at migration $migration"
