#!/usr/bin/env bash
# bench/dispatch: dispatch latency of the lab with an idle agent (see Program.cs for what is timed).
# Starts a private lab (own state dir and ports), commits an already-built reference kernel into a
# scratch repository, pushes RUNS runs (default 20) one after the other, prints median and p95,
# and stops the lab.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-20}
scratch=$(mktemp -d /tmp/bench-dispatch.XXXXXX)
export LAB_STATE="$scratch/lab" LAB_PORT=${LAB_PORT:-5180} LAB_PG_PORT=${LAB_PG_PORT:-55532}
trap 'bash "$root/scripts/lab-down.sh" >/dev/null; rm -rf "$scratch"' EXIT

bash "$root/scripts/lab-start.sh" >"$scratch/start.log" 2>&1 || { tail -30 "$scratch/start.log"; exit 1; }

repo="$scratch/repo"
mkdir -p "$repo/prebuilt" "$repo/pipelines"
cp "$root/kernel/build/kernel.bin" "$root/kernel/build/kernel.elf" "$root/kernel/build/initfs.img" "$repo/prebuilt/"
cat > "$repo/pipelines/prebuilt.yaml" <<'YAML'
name: prebuilt
build:
  commands: ["test -f prebuilt/kernel.bin"]
  artifacts: { image: prebuilt/kernel.bin, elf: prebuilt/kernel.elf, modules: [prebuilt/initfs.img] }
boot: { timeout: 120s, machine: { cpus: 4 } }
YAML
git -C "$repo" init -q -b main && git -C "$repo" add -A
git -C "$repo" -c user.email=bench@lab -c user.name=bench commit -q -m prebuilt

export LAB_TOKEN_FILE="$LAB_STATE/admin-token"
dotnet "$root/lab-cli/bin/Debug/net10.0/lab.dll" --server "http://127.0.0.1:$LAB_PORT" repo add --name bench-dispatch --url "$repo" --pipelines pipelines/prebuilt.yaml --trusted >/dev/null
dotnet "$root/bench/dispatch/bin/Debug/net10.0/Redox.Lab.Bench.Dispatch.dll" "http://127.0.0.1:$LAB_PORT" "$repo" pipelines/prebuilt.yaml "$runs"
