using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;
using Redox.Lab.Contracts.Api;

// bench/scale: the lab under many agents, with simulated agents speaking the real agent protocol over HTTP
// (enrol, long-poll jobs/next, heartbeat, console by offset, boot report, complete) against the real server and
// PostgreSQL on loopback; no QEMU. run.sh starts the database and server and passes:
//   <server-url> <connection> <admin-token-file> <enrolment-secret> <repository> <server-pid> <agents> <jobs> <max-seconds>
//   <jobs-per-push> <ingest-lines>
// Phase 1 (dispatch): agents are split into groups of <jobs-per-push> machines, each group with its own pipeline
//   (tags [x86_64, gN]); one pusher per group pushes the branch, waits until its agents received and finished the
//   run's jobs, and pushes again, until <jobs> jobs ended or <max-seconds> passed. Every job uploads a real console
//   (a recorded Linux boot with the lab's @@LAB markers, 357 lines) in chunks, one boot report and its completion.
//   Timed: push (POST /api/runs answered), dispatch (push sent -> the agent's long poll returns the job), end ->
//   visible (complete sent -> GET /api/runs/{id} shows the job ended).
// Phase 2 (ingest): one push for every agent at once; each uploads <ingest-lines> lines in chunks of 500; the
//   server's rate (lines stored / wall time) beside one raw binary COPY of as many rows into the same table.
// Throughout: the server's CPU and RSS from /proc every second; at the end the database size.
var a = new Args(args);
await Bench.RunAsync(a);

internal sealed record Args(string Url, string Connection, string TokenFile, string Secret, string Repository, int ServerPid,
    int Agents, int Jobs, int MaxSeconds, int JobsPerPush, int IngestLines, int PostgresPid)
{
    public Args(string[] a) : this(a[0], a[1], a[2], a[3], a[4], I(a[5]), I(a[6]), I(a[7]), I(a[8]), I(a[9]), I(a[10]), a.Length > 11 ? I(a[11]) : 0) { }

    private static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    public int Groups => Math.Max(1, Agents / JobsPerPush);
}

internal static class Bench
{
    public static readonly JsonSerializerOptions Json = CreateJson();
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    })
    { Timeout = TimeSpan.FromMinutes(5) };

    public static async Task RunAsync(Args a)
    {
        Http.BaseAddress = new Uri(a.Url);
        var admin = (await File.ReadAllTextAsync(a.TokenFile)).Trim();
        var console = ConsoleText.Load();
        using var sampler = new ProcessSampler(a.ServerPid);
        using var cpu = new SchedulerSample(a.ServerPid, a.PostgresPid);

        // Register the repository and enrol the agents (not timed).
        var repoName = "bench-scale";
        var reg = await Send(HttpMethod.Post, "/api/repositories", admin,
            new RepositoryView(repoName, a.Repository, "main", ["pipelines/*.yaml"], true, ["*"]));
        if (reg.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"register: {(int)reg.StatusCode} {await reg.Content.ReadAsStringAsync()}");
        var agents = new SimAgent[a.Agents];
        var setup = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, a.Agents), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var group = i % a.Groups;
            var machine = new MachineInfo("sim-0", "qemu", ["x86_64", "scale", $"g{group}"], 4, 256);
            var r = await Send(HttpMethod.Post, "/api/agents/enrol", null, new EnrolRequest($"sim-{i:D4}", a.Secret, [machine], "bench-scale"));
            r.EnsureSuccessStatusCode();
            var enrolled = (await r.Content.ReadFromJsonAsync<EnrolResponse>(Json))!;
            agents[i] = new SimAgent(enrolled.Token, group, console, admin);
        });
        Console.WriteLine($"enrolled {a.Agents} agents in {setup.Elapsed.TotalSeconds:0.0} s; {a.Groups} groups of {a.JobsPerPush}");

        using var stop = new CancellationTokenSource();
        var loops = agents.Select(x => Task.Run(() => x.LoopAsync(stop.Token))).ToArray();

        // Phase 1: dispatch under load.
        var runs = new ConcurrentDictionary<Guid, RunState>();
        SimAgent.Runs = runs;
        var pushLatency = new ConcurrentBag<double>();
        var phase1 = Stopwatch.StartNew();
        sampler.Mark("phase 1 start");
        var jobsEnded = 0;
        var rounds = Math.Max(1, a.Jobs / (a.Groups * a.JobsPerPush));
        var timedOut = 0;
        var pushers = Enumerable.Range(0, a.Groups).Select(g => Task.Run(async () =>
        {
            var expected = agents.Count(x => x.Group == g);
            for (var r = 0; r < rounds && phase1.Elapsed.TotalSeconds < a.MaxSeconds; r++)
            {
                var sent = Stopwatch.GetTimestamp();
                using var response = await Send(HttpMethod.Post, "/api/runs", admin, new PushRequest(repoName, "main", null, $"pipelines/g{g}.yaml"));
                pushLatency.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"push: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(Json))!;
                var state = runs.GetOrAdd(pushed.RunId, _ => new RunState());
                state.Expect(sent, expected);
                if (await Task.WhenAny(state.Done, Task.Delay(TimeSpan.FromSeconds(300))) != state.Done) Interlocked.Increment(ref timedOut);
                Interlocked.Add(ref jobsEnded, state.Ended);
            }
        })).ToArray();
        await Task.WhenAll(pushers);
        var phase1Seconds = phase1.Elapsed.TotalSeconds;
        sampler.Mark("phase 1 end");

        // Phase 2: every agent uploads a long console at once.
        SimAgent.IngestLines = a.IngestLines;
        sampler.Mark("phase 2 start");
        using var all = await Send(HttpMethod.Post, "/api/runs", admin, new PushRequest(repoName, "main", null, "pipelines/all.yaml"));
        var allRun = (await all.Content.ReadFromJsonAsync<PushResponse>(Json))!;
        var allState = runs.GetOrAdd(allRun.RunId, _ => new RunState());
        allState.Expect(Stopwatch.GetTimestamp(), a.Agents);
        await Task.WhenAny(allState.Done, Task.Delay(TimeSpan.FromSeconds(Math.Max(600, a.MaxSeconds))));
        sampler.Mark("phase 2 end");
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException)
        {
        }

        var waited = cpu.Since();
        var ingestLines = SimAgent.IngestStored;
        var ingestSeconds = Stopwatch.GetElapsedTime(SimAgent.IngestFirst, SimAgent.IngestLast).TotalSeconds;
        var copySeconds = await RawCopyAsync(a.Connection, allRun.RunId, ingestLines);
        var (dbBytes, consoleBytes, consoleRows) = await SizesAsync(a.Connection);
        var breakdown = await DispatchBreakdownAsync(a.Connection, allRun.RunId);

        // Report.
        var load = File.ReadAllText("/proc/loadavg").Split(' ').Take(3);
        var dispatch = runs.Values.Where(r => r != allState).SelectMany(r => r.DispatchMs()).ToList();
        var visible = SimAgent.Visible.ToList();
        Console.WriteLine();
        Console.WriteLine($"bench/scale: {a.Agents} agents, {jobsEnded} jobs ended of {rounds * a.Groups * a.JobsPerPush} asked ({runs.Count - 1} pushes of {a.JobsPerPush}) in {phase1Seconds:0} s" +
                          $" (limit {a.MaxSeconds} s; {timedOut} pushes not finished within 300 s); load average {string.Join(' ', load)}");
        Console.WriteLine($"{"",-40}{"n",8}{"p50",10}{"p95",10}{"p99",10}   target");
        Row("push answered (ms)", pushLatency.ToList(), "p95 < 50");
        Row("dispatch: push -> job received (ms)", dispatch, "p95 < 50");
        Row("end -> visible in API (ms)", visible, "");
        Console.WriteLine("where dispatch goes (server timestamps, phase 1):");
        foreach (var (name, values) in breakdown) Row("  " + name, values, "");
        var serverRate = ingestLines / Math.Max(ingestSeconds, 1e-9);
        var copyRate = ingestLines / Math.Max(copySeconds, 1e-9);
        Console.WriteLine($"console ingest: server {serverRate,10:N0} lines/s ({ingestLines:N0} lines from {a.Agents} agents in {ingestSeconds:0.0} s)");
        Console.WriteLine($"                raw COPY {copyRate,8:N0} lines/s ({ingestLines:N0} rows, one binary COPY, {copySeconds:0.0} s)   ratio {serverRate / copyRate:0.00}   target >= 0.5");
        Console.WriteLine($"server: CPU {sampler.MeanCpuPercent:0}% of one core on average, peak RSS {sampler.PeakRssMb:0} MB (VmHWM); RSS over time (MB):");
        Console.WriteLine("  " + sampler.Timeline(12));
        Console.WriteLine("CPU over the whole run (s on a CPU / s runnable but waiting for one; from /proc/PID/task/*/schedstat):");
        foreach (var (who, ran, wait) in waited)
            Console.WriteLine($"  {who,-28}{ran,9:0.0} s ran {wait,9:0.0} s waited for a CPU  ({wait / Math.Max(ran, 1e-9):0.00} s waited per s ran)");
        Console.WriteLine($"database: {dbBytes / 1048576.0:0} MB; console_lines {consoleBytes / 1048576.0:0} MB for {consoleRows:N0} rows ({consoleBytes / Math.Max(1.0, consoleRows):0} bytes/row)");
        Console.WriteLine($"agent-side errors (non-2xx other than 409 resends): {SimAgent.Errors}");
    }

    private static void Row(string name, List<double> ms, string target)
    {
        ms.Sort();
        Console.WriteLine($"{name,-40}{ms.Count,8}{P(ms, 0.50),10:0.0}{P(ms, 0.95),10:0.0}{P(ms, 0.99),10:0.0}   {target}");
    }

    private static double P(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    public static async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? bearer, object? body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        return await Http.SendAsync(request, ct);
    }

    /// <summary>The same rows as the agents' uploads, in one binary COPY on one connection; removed afterwards.</summary>
    private static async Task<double> RawCopyAsync(string connection, Guid runId, long lines)
    {
        await using var db = NpgsqlDataSource.Create(connection);
        await using var conn = await db.OpenConnectionAsync();
        var jobs = new List<Guid>();
        await using (var cmd = new NpgsqlCommand("SELECT id FROM jobs WHERE run_id = $1", conn) { Parameters = { new() { Value = runId } } })
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) jobs.Add(reader.GetGuid(0));
        if (jobs.Count == 0 || lines == 0) return double.NaN;
        var text = ConsoleText.Load();
        var perJob = lines / jobs.Count;
        var now = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        await using (var copy = await conn.BeginBinaryImportAsync("COPY console_lines (job_id, line_no, boot, host_time, text) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var job in jobs)
                for (long i = 0; i < perJob; i++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(job, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(1_000_000_000 + i, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(0, NpgsqlDbType.Integer);
                    await copy.WriteAsync(now, NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(text[(int)(i % text.Count)], NpgsqlDbType.Text);
                }
            await copy.CompleteAsync();
        }
        var seconds = clock.Elapsed.TotalSeconds * lines / (perJob * jobs.Count);
        await using (var delete = new NpgsqlCommand("DELETE FROM console_lines WHERE line_no >= 1000000000", conn)) await delete.ExecuteNonQueryAsync();
        return seconds;
    }

    /// <summary>
    /// The push's way to an agent in the server's own timestamps: waiting for a worker of the <c>git</c> queue (Hangfire's
    /// job created -> processing), reading git (processing -> the run's jobs created), creating the jobs (-> the
    /// ResolvePushJob succeeded), and a queued job until an agent claimed it.
    /// </summary>
    private static async Task<List<(string Name, List<double> Ms)>> DispatchBreakdownAsync(string connection, Guid ingestRun)
    {
        await using var db = NpgsqlDataSource.Create(connection);
        await using var cmd = db.CreateCommand("""
            WITH resolve AS (
                SELECT r.id AS run_id, hj.createdat AS enqueued,
                       (SELECT min(s.createdat) FROM hangfire.state s WHERE s.jobid = hj.id AND s.name = 'Processing') AS started,
                       (SELECT max(s.createdat) FROM hangfire.state s WHERE s.jobid = hj.id AND s.name = 'Succeeded') AS succeeded
                FROM runs r JOIN hangfire.job hj
                  ON hj.invocationdata::text LIKE '%ResolvePushJob%' AND hj.arguments::text LIKE '%' || r.id::text || '%'
                WHERE r.id <> $1)
            SELECT extract(epoch FROM rs.started - rs.enqueued) * 1000,
                   extract(epoch FROM min(j.created_at) - rs.started) * 1000,
                   extract(epoch FROM rs.succeeded - min(j.created_at)) * 1000,
                   array_agg(extract(epoch FROM j.assigned_at - j.created_at) * 1000)
            FROM resolve rs JOIN jobs j ON j.run_id = rs.run_id AND j.assigned_at IS NOT NULL
            GROUP BY rs.run_id, rs.enqueued, rs.started, rs.succeeded
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ingestRun });
        var wait = new List<double>();
        var git = new List<double>();
        var create = new List<double>();
        var claim = new List<double>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (!reader.IsDBNull(0)) wait.Add((double)reader.GetDecimal(0));
            if (!reader.IsDBNull(1)) git.Add((double)reader.GetDecimal(1));
            if (!reader.IsDBNull(2)) create.Add((double)reader.GetDecimal(2));
            claim.AddRange(reader.GetFieldValue<decimal[]>(3).Select(d => (double)d));
        }
        return [("git queue wait (per push)", wait), ("git: fetch, resolve, read (per push)", git),
            ("create jobs (per push)", create), ("job queued -> claimed (per job)", claim)];
    }

    private static async Task<(long Db, long Console, long Rows)> SizesAsync(string connection)
    {
        await using var db = NpgsqlDataSource.Create(connection);
        await using (var vacuum = db.CreateCommand("VACUUM ANALYZE console_lines")) await vacuum.ExecuteNonQueryAsync();
        // console_lines is partitioned (by month): its size is its partitions'.
        await using var cmd = db.CreateCommand("""
            SELECT pg_database_size(current_database()),
                   pg_total_relation_size('console_lines') + coalesce((SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'console_lines'::regclass), 0)::bigint,
                   (SELECT count(*) FROM console_lines)
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return o;
    }
}

/// <summary>One pushed run as the bench sees it: when it was pushed, when each of its jobs reached an agent, how many ended.</summary>
internal sealed class RunState
{
    private readonly ConcurrentBag<long> _received = [];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pushed;
    private int _expected = int.MaxValue;
    private int _ended;

    public Task Done => _done.Task;
    public int Ended => Volatile.Read(ref _ended);

    public void Expect(long pushedTimestamp, int jobs)
    {
        Volatile.Write(ref _pushed, pushedTimestamp);
        Volatile.Write(ref _expected, jobs);
        if (Ended >= jobs) _done.TrySetResult();
    }

    public void Received(long timestamp) => _received.Add(timestamp);

    public void JobEnded()
    {
        if (Interlocked.Increment(ref _ended) >= Volatile.Read(ref _expected)) _done.TrySetResult();
    }

    public IEnumerable<double> DispatchMs() => _received.Select(t => Stopwatch.GetElapsedTime(_pushed, t).TotalMilliseconds);
}

/// <summary>One simulated agent with one machine: long-polls, and runs each job it gets through the real protocol.</summary>
internal sealed class SimAgent(string token, int group, IReadOnlyList<string> console, string viewer)
{
    public static ConcurrentDictionary<Guid, RunState> Runs = new();
    public static readonly ConcurrentBag<double> Visible = [];
    public static int IngestLines;
    public static long IngestStored;
    public static long IngestFirst = long.MaxValue;
    public static long IngestLast;
    public static int Errors;
    private static int _visibleSample;

    public int Group { get; } = group;

    public async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            HttpResponseMessage response;
            try
            {
                response = await Bench.Send(HttpMethod.Get, "/api/agent/jobs/next?wait=30", token, null, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var received = Stopwatch.GetTimestamp();
            JobAssignment job;
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.NoContent) continue;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref Errors);
                    await Task.Delay(1000, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }
                job = (await response.Content.ReadFromJsonAsync<JobAssignment>(Bench.Json, ct))!;
            }
            var run = Runs.GetOrAdd(job.RunId, _ => new RunState());
            run.Received(received);
            await RunJobAsync(job, run, ct);
        }
    }

    private async Task RunJobAsync(JobAssignment job, RunState run, CancellationToken ct)
    {
        var ingest = job.PipelinePath.EndsWith("all.yaml", StringComparison.Ordinal);
        var started = DateTimeOffset.UtcNow;
        await Call(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/heartbeat", null, ct);

        var total = ingest ? IngestLines : console.Count;
        var chunk = ingest ? 500 : 120;
        for (var offset = 0; offset < total; offset += chunk)
        {
            var lines = Enumerable.Range(offset, Math.Min(chunk, total - offset))
                .Select(i => new ConsoleLine(0, started.AddMilliseconds(i), console[i % console.Count])).ToList();
            var sent = Stopwatch.GetTimestamp();
            if (ingest) InterlockedMin(ref IngestFirst, sent);
            var status = await Call(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/console", new ConsoleChunk(offset, lines), ct);
            if (ingest && status == HttpStatusCode.OK)
            {
                Interlocked.Add(ref IngestStored, lines.Count);
                InterlockedMax(ref IngestLast, Stopwatch.GetTimestamp());
            }
        }

        var stages = new[] { "entry", "long-mode", "serial", "tsc", "mm", "smp", "bootstrap", "kmain-done" }
            .Select((s, i) => new StageReport(s, "marker", 1_000_000L * (i + 1) * 7, 1_000_000L * (i + 1) * 9)).ToList();
        var report = new BootReport(0, Outcome.Passed, null, started, DateTimeOffset.UtcNow, 2_400_000_000, stages,
            [new MetricReport("alloc.cycles", 812 + Group, "cycles", 4096, "median"), new MetricReport("shootdown.rtt", 5400, "ns", 256, "median"),
             new MetricReport("syscall.getpid", 190, "cycles", 10000, "median")],
            [new TestReport("mm.buddy", "pass", null), new TestReport("tlb.shootdown", "pass", null), new TestReport("signal.frame", "pass", null)],
            [], 0);
        await Call(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/boots/0", report, ct);

        var ending = Stopwatch.GetTimestamp();
        await Call(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), ct);
        // End -> visible, sampled (one job in ten): a viewer reads the run until the job shows as ended.
        if (!ingest && Interlocked.Increment(ref _visibleSample) % 10 == 0)
        {
            while (!ct.IsCancellationRequested)
            {
                using var view = await Bench.Send(HttpMethod.Get, $"/api/runs/{job.RunId}", viewer, null, ct);
                var runView = await view.Content.ReadFromJsonAsync<RunView>(Bench.Json, ct);
                if (runView!.Jobs.Any(j => j.Id == job.JobId && j.EndedAt is not null)) break;
                await Task.Delay(5, ct);
            }
            Visible.Add(Stopwatch.GetElapsedTime(ending).TotalMilliseconds);
        }
        run.JobEnded();
    }

    private async Task<HttpStatusCode> Call(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await Bench.Send(method, path, token, body, ct);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.Conflict) Interlocked.Increment(ref Errors);
        return response.StatusCode;
    }

    private static void InterlockedMin(ref long target, long value)
    {
        long seen;
        while (value < (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}

/// <summary>A realistic console: a recorded Linux boot (the contracts tests' log) with the lab's @@LAB markers among it.</summary>
internal static class ConsoleText
{
    public static IReadOnlyList<string> Load()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "console.log")).ToList();
        string[] stages = ["entry", "long-mode", "serial", "tsc", "mm", "smp", "bootstrap", "kmain-done"];
        for (var i = 0; i < stages.Length; i++) lines.Insert(Math.Min(lines.Count, i * lines.Count / stages.Length), $"@@LAB stage {stages[i]}");
        lines.Add("@@LAB metric alloc.cycles value=812 unit=cycles samples=4096 stat=median");
        lines.Add("@@LAB test mm.buddy pass");
        lines.Add("@@LAB end pass");
        return lines;
    }
}

/// <summary>
/// Time on a CPU and time runnable but waiting for one (the kernel's schedstat), summed over the threads of the server,
/// of PostgreSQL's processes and of this load generator, from construction to <see cref="Since"/>: how much of a
/// latency is queueing for a CPU on a shared machine rather than work. Every thread is read once a second and its
/// growth added, so a thread that exits loses at most its last second.
/// </summary>
internal sealed class SchedulerSample : IDisposable
{
    private readonly int _serverPid;
    private readonly int _postgresPid;
    private readonly Dictionary<string, (double Ran, double Waited)> _last = [];
    private readonly Dictionary<string, (double Ran, double Waited)> _totals = [];
    private readonly Timer _timer;

    public SchedulerSample(int serverPid, int postgresPid)
    {
        _serverPid = serverPid;
        _postgresPid = postgresPid;
        Tick(baseline: true);
        _timer = new Timer(_ => Tick(baseline: false), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public List<(string Who, double Ran, double Waited)> Since()
    {
        Tick(baseline: false);
        lock (_totals) return _totals.Select(t => (t.Key, t.Value.Ran, t.Value.Waited)).ToList();
    }

    public void Dispose() => _timer.Dispose();

    private void Tick(bool baseline)
    {
        var groups = new List<(string Group, IEnumerable<string> Files)>
        {
            ("lab-server", Tasks(_serverPid)),
            ("load generator (this)", Tasks(Environment.ProcessId)),
        };
        // PostgreSQL's backends are its postmaster's children.
        if (_postgresPid > 0)
            groups.Add(("postgresql (all processes)", Directory.EnumerateDirectories("/proc")
                .Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsAsciiDigit)).Select(n => int.Parse(n, CultureInfo.InvariantCulture))
                .Where(pid => pid == _postgresPid || ParentOf(pid) == _postgresPid).Select(pid => $"/proc/{pid}/schedstat").ToList()));
        lock (_totals)
        {
            foreach (var (group, files) in groups)
            {
                var total = _totals.GetValueOrDefault(group);
                foreach (var file in files)
                {
                    if (Read(file) is not { } now) continue;
                    // A thread first seen after the start counts from its birth (its counters start at zero).
                    var before = _last.TryGetValue(file, out var seen) ? seen : baseline ? now : (0, 0);
                    _last[file] = now;
                    total = (total.Ran + now.Ran - before.Ran, total.Waited + now.Waited - before.Waited);
                }
                _totals[group] = total;
            }
        }
    }

    private static List<string> Tasks(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid}/task").Select(t => Path.Combine(t, "schedstat")).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>schedstat: nanoseconds on a CPU, nanoseconds waiting on a run queue, time slices; null once the thread ended.</summary>
    private static (double Ran, double Waited)? Read(string file)
    {
        try
        {
            var f = File.ReadAllText(file).Split(' ');
            return (long.Parse(f[0], CultureInfo.InvariantCulture) / 1e9, long.Parse(f[1], CultureInfo.InvariantCulture) / 1e9);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>The server's CPU and memory from /proc, once a second.</summary>
internal sealed class ProcessSampler : IDisposable
{
    private readonly int _pid;
    private readonly Timer _timer;
    private readonly List<(double Seconds, double CpuPercent, double RssMb)> _samples = [];
    private readonly List<(double Seconds, string Label)> _marks = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _lastCpu = double.NaN;
    private double _lastAt;

    public ProcessSampler(int pid)
    {
        _pid = pid;
        _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    public double PeakRssMb { get; private set; }

    public double MeanCpuPercent
    {
        get
        {
            lock (_samples) return _samples.Count == 0 ? double.NaN : _samples.Average(s => s.CpuPercent);
        }
    }

    public void Mark(string label)
    {
        lock (_samples) _marks.Add((_clock.Elapsed.TotalSeconds, label));
    }

    /// <summary>RSS at <paramref name="points"/> evenly spaced times of the whole run, with the phase marks.</summary>
    public string Timeline(int points)
    {
        lock (_samples)
        {
            if (_samples.Count == 0) return "(no samples)";
            var parts = new List<string>();
            for (var p = 0; p < points; p++)
            {
                var s = _samples[(int)((long)p * (_samples.Count - 1) / Math.Max(1, points - 1))];
                parts.Add($"{s.Seconds:0}s:{s.RssMb:0}");
            }
            return string.Join("  ", parts) + "   marks: " + string.Join(", ", _marks.Select(m => $"{m.Label} {m.Seconds:0}s"));
        }
    }

    private void Sample()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the command name; in clock ticks (100/s).
            var cpu = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            var status = File.ReadAllLines($"/proc/{_pid}/status");
            double Kb(string key) => double.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            var now = _clock.Elapsed.TotalSeconds;
            lock (_samples)
            {
                if (!double.IsNaN(_lastCpu))
                    _samples.Add((now, 100 * (cpu - _lastCpu) / Math.Max(1e-3, now - _lastAt), Kb("VmRSS:") / 1024));
                _lastCpu = cpu;
                _lastAt = now;
                PeakRssMb = Kb("VmHWM:") / 1024;
            }
        }
        catch (IOException)
        {
            // The server exited; the last samples stand.
        }
    }

    public void Dispose() => _timer.Dispose();
}
