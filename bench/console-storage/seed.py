#!/usr/bin/env python3
"""bench/console-storage client: uploads consoles through the real agent API, as an agent does.

usage: seed.py SERVER ADMIN_TOKEN REPO_PATH SECRET FLOOD_MB TYPICAL_BOOTS LOG...
Registers REPO_PATH, enrols an agent, pushes one run per boot and, for each claimed job, posts the console in
chunks of 5,000 lines, one boot report and the completion. One run's console is FLOOD_MB of the LOG files'
lines repeated (a kernel that floods); the other TYPICAL_BOOTS runs' consoles are one LOG file each (a
typical Redox boot). Prints the job ids of both kinds.
"""
import json, sys, urllib.request, urllib.error, datetime, itertools

server, admin, repo, secret = sys.argv[1:5]
flood_mb, typical = int(sys.argv[5]), int(sys.argv[6])
logs = [open(p, encoding="utf-8", errors="replace").read().splitlines() for p in sys.argv[7:]]

def call(method, path, body=None, token=admin, ok=(200, 201, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        r = urllib.request.urlopen(req, timeout=300)
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")
    with r:
        if r.status not in ok:
            raise SystemExit(f"{method} {path}: {r.status}")
        raw = r.read()
        return json.loads(raw) if raw else None

call("POST", "/api/repositories", {"name": "bench", "url": repo, "defaultBranch": "main",
                                   "pipelines": ["pipelines/*.yaml"], "trusted": True, "pushers": ["*"]})
enrolled = call("POST", "/api/agents/enrol", {"name": "bench-agent", "secret": secret, "version": "bench",
                "machines": [{"name": "qemu-0", "driver": "qemu", "tags": ["x86_64", "bench"], "cpus": 1, "memoryMiB": 256}]})
agent = enrolled["token"]
t0 = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)

def run_one(lines):
    call("POST", "/api/runs", {"repository": repo, "branch": "main", "pipeline": "pipelines/bench.yaml"})
    job = None
    while job is None:
        job = call("GET", "/api/agent/jobs/next?wait=30", token=agent)
    jid = job["jobId"]
    for offset in range(0, len(lines), 5000):
        chunk = [{"boot": 0, "hostTime": (t0 + datetime.timedelta(milliseconds=3 * (offset + k))).isoformat(), "text": t}
                 for k, t in enumerate(lines[offset:offset + 5000])]
        call("POST", f"/api/agent/jobs/{jid}/console", {"offset": offset, "lines": chunk}, token=agent)
    now = t0.isoformat()
    call("POST", f"/api/agent/jobs/{jid}/boots/0", {"index": 0, "outcome": "passed", "detail": None, "startedAt": now, "endedAt": now,
         "tscHz": 2000000000, "stages": [{"name": "entry", "source": "marker", "kernelNs": 1000, "hostNs": 1500}],
         "metrics": [{"name": "boot.ms", "value": 1234.5, "unit": "ms", "samples": 1, "stat": "p50"}],
         "tests": [], "findings": [], "corruptMarkers": 0}, token=agent)
    call("POST", f"/api/agent/jobs/{jid}/complete", {"outcome": "passed", "detail": "1 boot passed"}, token=agent)
    return jid

every = list(itertools.chain.from_iterable(logs))
flood, size, i = [], 0, 0
while size < flood_mb * 1_000_000:
    line = f"[{i * 0.000137:12.6f}] {every[i % len(every)]}"
    flood.append(line)
    size += len(line.encode()) + 1
    i += 1
print("flood", run_one(flood), len(flood), size, flush=True)
for n in range(typical):
    print("typical", run_one(logs[n % len(logs)]), len(logs[n % len(logs)]), flush=True)
