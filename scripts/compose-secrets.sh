#!/usr/bin/env bash
# Creates the secret files compose.yaml mounts (random), unless they exist. Run once before
# `docker compose up`. The directory is mode 700 (no other user of the host reads them); the files are
# mode 644 because compose bind-mounts file secrets with the host's owner and mode, and the postgres image
# reads its secrets as its own user (uid 999), not as root.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p secrets && chmod 700 secrets
rand() { head -c 24 /dev/urandom | base64 | tr '+/' '-_'; }
umask 022
[ -s secrets/postgres-password ] || rand > secrets/postgres-password
[ -s secrets/lab-db.pgpass ] || printf '*:*:*:lab:%s\n' "$(rand)" > secrets/lab-db.pgpass
[ -s secrets/enrolment-secret ] || rand > secrets/enrolment-secret
echo "secrets in $(pwd)/secrets (directory mode 700)"
