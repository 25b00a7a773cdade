#!/usr/bin/env bash
# README command 1: the whole lab on this machine (scripts/lab-start.sh), then pushes this
# repository's current commit, waits for the result, and prints the measured boot stages and
# where to look. Everything keeps running; scripts/lab-down.sh stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/lab-start.sh

step "5. push $(git rev-parse --short HEAD) and wait for the boot"
set +e
cli push --repo redox-lab --commit "$(git rev-parse HEAD)" --wait --timeout 900
status=$?
set -e

step "6. where to look"
echo "admin token:      $LAB_TOKEN_FILE (mode 600; lab reads it via LAB_TOKEN_FILE or --token-file;"
echo "                  paste it at $url/login to open the dashboard and /hangfire in a browser)"
echo "dashboard:        $url/"
echo "boot-time chart:  $url/charts/boot-time"
echo "hangfire:         $url/hangfire"
echo "logs:             $state/logs/   stop everything: bash scripts/lab-down.sh"
exit $status
