#!/bin/sh
# Run once by the postgres image when it creates its data directory (compose.yaml mounts it into
# /docker-entrypoint-initdb.d/). Creates the lab's role: not a superuser, may log in and owns the lab's
# database; its SCRAM password is the last field of the lab-db.pgpass secret (*:*:*:lab:<password>).
# The SQL goes to psql on stdin, so the password is never on a command line.
set -eu
password=$(cut -d: -f5- /run/secrets/lab-db.pgpass | head -1)
[ -n "$password" ] || { echo "postgres-init: /run/secrets/lab-db.pgpass holds no password" >&2; exit 1; }
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
SET password_encryption = 'scram-sha-256';
CREATE ROLE lab WITH LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD '$password';
CREATE DATABASE redox_lab OWNER lab;
SQL
