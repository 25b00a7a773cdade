#!/usr/bin/env bash
# Restores a lab backed up by scripts/lab-backup.sh into an EMPTY database (and an empty server data dir).
# scripts/BACKUP.md explains.
#   scripts/lab-restore.sh --db CONNINFO --in BACKUP_DIR [--data-dir SERVER_DATA_DIR]
# Refuses a database that already has tables, a data dir that is not empty and a backup whose checksums do not
# match, before it changes anything. The restore is one transaction: it lands whole or not at all.
set -euo pipefail
db="" in="" data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=${2:?--db needs a value}; shift 2 ;;
    --in) in=${2:?--in needs a value}; shift 2 ;;
    --data-dir) data=${2:?--data-dir needs a value}; shift 2 ;;
    *) echo "lab-restore: unknown argument $1 (usage: lab-restore.sh --db CONNINFO --in DIR [--data-dir DIR])" >&2; exit 2 ;;
  esac
done
[ -n "$db" ] && [ -n "$in" ] || { echo "lab-restore: --db and --in are required" >&2; exit 2; }
# A password on the command line is readable by every local user (ps, /proc/PID/cmdline): refuse one.
if [[ "$db" =~ (^|[[:space:]])password[[:space:]]*= ]] || [[ "$db" =~ ^postgres(ql)?://[^@/]*:[^@/]*@ ]]; then
  echo "lab-restore: --db holds a password, which any local user can read on a command line; put it in ~/.pgpass or a passfile= file (scripts/BACKUP.md)" >&2; exit 2
fi

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local b; b=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1)
  [ -n "$b" ] && { echo "$b"; return; }
  echo "lab-restore: $1 not found (install postgresql-client)" >&2; exit 1
}
PG_RESTORE=$(find_bin pg_restore); PSQL=$(find_bin psql)

[ -f "$in/MANIFEST" ] && [ -f "$in/lab.dump" ] || { echo "lab-restore: $in holds no backup (MANIFEST, lab.dump)" >&2; exit 1; }
(cd "$in" && grep -E '^[0-9a-f]{64}  ' MANIFEST | sha256sum --check --quiet) \
  || { echo "lab-restore: $in does not match its MANIFEST checksums; not restoring" >&2; exit 1; }

tables=$("$PSQL" -X -At -d "$db" -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
if [ "$tables" != 0 ]; then
  echo "lab-restore: the target database has $tables tables; restore into a new, empty database" >&2; exit 1
fi
if [ -n "$data" ] && [ -f "$in/data.tar.gz" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
  echo "lab-restore: $data is not empty" >&2; exit 1
fi

# No owners or grants from the old lab: the restoring role owns everything (scripts/BACKUP.md).
"$PG_RESTORE" --no-owner --no-acl --exit-on-error --single-transaction --dbname="$db" "$in/lab.dump"

if [ -n "$data" ] && [ -f "$in/data.tar.gz" ]; then
  mkdir -p "$data"
  tar -C "$data" -xzf "$in/data.tar.gz"
fi

"$PSQL" -X -At -d "$db" -F ' ' -c "
  SELECT 'runs', count(*) FROM runs UNION ALL SELECT 'jobs', count(*) FROM jobs
  UNION ALL SELECT 'boots', count(*) FROM boots UNION ALL SELECT 'console lines', sum(console_count) FROM jobs
  UNION ALL SELECT 'artifacts', count(*) FROM artifacts" | sed 's/^/lab-restore: restored /'
echo "lab-restore: $(grep '^migration' "$in/MANIFEST"); start the server (its migrate step brings a newer version forward)"
