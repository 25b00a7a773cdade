#!/usr/bin/env bash
# The agent anyone can install: one self-contained file (no .NET needed on the target), plus its
# systemd unit. Usage: scripts/publish-agent.sh [output-dir]   (default ./out/lab-agent)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/lab-agent}
dotnet publish "$root/lab-agent" -c Release -r linux-x64 --self-contained true \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -o "$out" -nologo -v quiet
mv "$out/Redox.Lab.Agent" "$out/lab-agent"
cp "$root/lab-agent/deploy/redox-lab-agent.service" "$out/"
echo "published $out/lab-agent; install: cp $out/lab-agent /usr/local/bin/ && cp $out/redox-lab-agent.service /etc/systemd/system/"
echo "then: lab-agent init --server URL --secret-file FILE [--machines machines.yaml] && systemctl enable --now redox-lab-agent"
