using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Redox.Lab.Migrations;

// bench/dashboard: server time of the dashboard's pages over a large lab.
//   seed <connection> [boots]   migrates an empty database and fills it by binary COPY: one agent and
//                               machine, BOOTS boots (default 100,000) in runs of 5 boots, each boot with
//                               8 stages, 3 metrics and 6 tests; one run in 20 panics; 40 console lines per job.
//   measure <server-url>        GETs each page sequentially (5 warm-up, 40 timed) and prints p50 and p95 of
//                               the request time on loopback, beside /healthz (no page, one SELECT 1).
var mode = args.ElementAtOrDefault(0);
if (mode == "seed") await Seed.RunAsync(args[1], int.Parse(args.ElementAtOrDefault(2) ?? "100000", CultureInfo.InvariantCulture));
else if (mode == "measure") await Measure.RunAsync(args[1]);
else Console.Error.WriteLine("usage: seed <connection> [boots] | measure <server-url>");

internal static class Seed
{
    public const int BootsPerRun = 5;
    public static readonly string[] Stages = ["entry", "long-mode", "serial", "tsc", "mm", "smp", "bootstrap", "kmain-done"];
    public static readonly string[] Tests = ["mm.buddy", "mm.mmap", "tlb.shootdown", "sched.yield", "signal.frame", "syscall.getpid"];

    public static async Task RunAsync(string connection, int boots)
    {
        using var output = new StringWriter();
        if (await MigrateCommand.RunAsync(["--connection", connection], output, output) != 0) throw new InvalidOperationException(output.ToString());
        await using var db = NpgsqlDataSource.Create(connection);
        var clock = Stopwatch.StartNew();
        var random = new Random(42);
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var repo = Guid.CreateVersion7();
        var agent = Guid.CreateVersion7();
        var machine = Guid.CreateVersion7();
        var yaml = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "redox-reference.yaml"));
        await using (var batch = db.CreateBatch())
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO repositories (id, url, created_at) VALUES ($1, 'https://example.org/redox/kernel.git', $2)")
                { Parameters = { new() { Value = repo }, new() { Value = t0 } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO agents (id, name, token_hash, version, created_at, last_seen) VALUES ($1, 'bench-rack', $2, 'bench', $3, now())")
                { Parameters = { new() { Value = agent }, new() { Value = Guid.NewGuid().ToByteArray() }, new() { Value = t0 } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO machines (id, agent_id, name, driver, tags, cpus, memory_mib, active) VALUES ($1, $2, 'pc-0', 'pxe', ARRAY['x86_64','smp'], 4, 8192, true)")
                { Parameters = { new() { Value = machine }, new() { Value = agent } } });
            await batch.ExecuteNonQueryAsync();
        }

        var runs = boots / BootsPerRun;
        await using var conn = await db.OpenConnectionAsync();
        var runRows = new List<(Guid Run, Guid Job, DateTimeOffset At, bool Panic)>(runs);
        await using (var copy = await conn.BeginBinaryImportAsync("COPY runs (id, repository_id, branch, commit, pipeline_path, pipeline_yaml, outcome, detail, created_at, ended_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var r = 0; r < runs; r++)
            {
                var at = t0.AddMinutes(10 * r);
                var panic = r % 20 == 7;
                var run = Guid.CreateVersion7(at);
                runRows.Add((run, Guid.CreateVersion7(at), at, panic));
                await copy.StartRowAsync();
                await copy.WriteAsync(run, NpgsqlDbType.Uuid);
                await copy.WriteAsync(repo, NpgsqlDbType.Uuid);
                await copy.WriteAsync(r % 10 == 3 ? "feature" : "main", NpgsqlDbType.Text);
                await copy.WriteAsync(Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + "abcdef01", NpgsqlDbType.Varchar);
                await copy.WriteAsync("pipelines/redox-reference.yaml", NpgsqlDbType.Text);
                await copy.WriteAsync(yaml, NpgsqlDbType.Text);
                await copy.WriteAsync(panic ? "kernel-panic" : "passed", NpgsqlDbType.Varchar);
                await copy.WriteNullAsync();
                await copy.WriteAsync(at, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(at.AddMinutes(3), NpgsqlDbType.TimestampTz);
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await conn.BeginBinaryImportAsync("COPY jobs (id, run_id, variant, machine_id, attempt, agent_id, state, outcome, detail, created_at, assigned_at, ended_at, console_count) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (run, job, at, panic) in runRows)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(job, NpgsqlDbType.Uuid);
                await copy.WriteAsync(run, NpgsqlDbType.Uuid);
                await copy.WriteAsync("default", NpgsqlDbType.Text);
                await copy.WriteAsync(machine, NpgsqlDbType.Uuid);
                await copy.WriteAsync(1, NpgsqlDbType.Integer);
                await copy.WriteAsync(agent, NpgsqlDbType.Uuid);
                await copy.WriteAsync("ended", NpgsqlDbType.Varchar);
                await copy.WriteAsync(panic ? "kernel-panic" : "passed", NpgsqlDbType.Varchar);
                if (panic) await copy.WriteAsync("boot 4: kernel-panic: panic: KERNEL PANIC: double free", NpgsqlDbType.Text);
                else await copy.WriteNullAsync();
                await copy.WriteAsync(at, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(at.AddSeconds(5), NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(at.AddMinutes(3), NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(40L, NpgsqlDbType.Bigint);
            }
            await copy.CompleteAsync();
        }

        var bootIds = new List<(Guid Boot, bool Panic)>(boots);
        await using (var copy = await conn.BeginBinaryImportAsync("COPY boots (id, job_id, index, outcome, detail, started_at, ended_at, tsc_hz, corrupt_markers) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (_, job, at, panic) in runRows)
            {
                for (var b = 0; b < BootsPerRun; b++)
                {
                    var boot = Guid.CreateVersion7(at);
                    var bootPanic = panic && b == BootsPerRun - 1;
                    bootIds.Add((boot, bootPanic));
                    await copy.StartRowAsync();
                    await copy.WriteAsync(boot, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(job, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(b, NpgsqlDbType.Integer);
                    await copy.WriteAsync(bootPanic ? "kernel-panic" : "passed", NpgsqlDbType.Varchar);
                    await copy.WriteAsync(bootPanic ? "panic: KERNEL PANIC: double free" : "6 tests passed", NpgsqlDbType.Text);
                    await copy.WriteAsync(at.AddSeconds(10 + 20 * b), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(at.AddSeconds(12 + 20 * b), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(2_893_112_000L, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(0, NpgsqlDbType.Integer);
                }
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await conn.BeginBinaryImportAsync("COPY boot_stages (boot_id, name, source, kernel_ns, host_ns, ordinal) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (boot, panic) in bootIds)
            {
                long host = 300_000_000;
                for (var s = 0; s < (panic ? 5 : Stages.Length); s++)
                {
                    host += (Stages[s] == "smp" ? 180 : 30) * 1_000_000L + random.Next(0, 8_000_000);
                    await copy.StartRowAsync();
                    await copy.WriteAsync(boot, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(Stages[s], NpgsqlDbType.Text);
                    await copy.WriteAsync("marker", NpgsqlDbType.Text);
                    await copy.WriteAsync(host - 300_000_000, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(host, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(s, NpgsqlDbType.Integer);
                }
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await conn.BeginBinaryImportAsync("COPY metrics (boot_id, name, value, unit, samples, stat) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (boot, _) in bootIds)
            {
                foreach (var (name, value, unit) in new[] { ("alloc.frame.cycles", 95.0, "cycles"), ("syscall.getpid.ns", 180.0, "ns"), ("shootdown.rtt.ns", 2400.0, "ns") })
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(boot, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(name, NpgsqlDbType.Text);
                    await copy.WriteAsync(value * (0.9 + 0.2 * random.NextDouble()), NpgsqlDbType.Double);
                    await copy.WriteAsync(unit, NpgsqlDbType.Text);
                    await copy.WriteAsync(1000L, NpgsqlDbType.Bigint);
                    await copy.WriteAsync("median", NpgsqlDbType.Text);
                }
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await conn.BeginBinaryImportAsync("COPY test_results (boot_id, name, result, detail) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (boot, _) in bootIds)
            {
                foreach (var test in Tests)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(boot, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(test, NpgsqlDbType.Text);
                    await copy.WriteAsync("pass", NpgsqlDbType.Text);
                    await copy.WriteNullAsync();
                }
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await conn.BeginBinaryImportAsync("COPY console_lines (job_id, line_no, boot, host_time, text) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (_, job, at, panic) in runRows)
            {
                for (var l = 0; l < 40; l++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(job, NpgsqlDbType.Uuid);
                    await copy.WriteAsync((long)l, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(l / 8, NpgsqlDbType.Integer);
                    await copy.WriteAsync(at.AddSeconds(10 + l), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(panic && l == 39 ? "KERNEL PANIC: double free" : $"@@LAB stage name={Stages[l % 8]} *00000000", NpgsqlDbType.Text);
                }
            }
            await copy.CompleteAsync();
        }
        // What autovacuum leaves on a lab that has run for a while: statistics and the visibility map.
        await using (var analyze = db.CreateCommand("VACUUM ANALYZE")) await analyze.ExecuteNonQueryAsync();
        Console.WriteLine($"seeded {runs:N0} runs, {bootIds.Count:N0} boots of one machine ({bootIds.Count * Stages.Length:N0} stages, {bootIds.Count * 3:N0} metrics, {bootIds.Count * Tests.Length:N0} tests, {runs * 40:N0} console lines) in {clock.Elapsed.TotalSeconds:0.0} s");
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "bench-dashboard-ids.txt"), $"{runRows[^1].Run} {runRows[^1].Job} {runRows[runs / 2].At.UtcTicks}.{runRows[runs / 2].Run:N}");
    }
}

internal static class Measure
{
    private const int WarmUp = 5, Timed = 40;

    public static async Task RunAsync(string server)
    {
        var ids = (await File.ReadAllTextAsync(Path.Combine(Path.GetTempPath(), "bench-dashboard-ids.txt"))).Split(' ');
        var (run, job, middle) = (ids[0], ids[1], ids[2]);
        using var http = new HttpClient { BaseAddress = new Uri(server), Timeout = TimeSpan.FromMinutes(2) };
        var pages = new (string Name, string Url, double? Target)[]
        {
            ("baseline /healthz", "/healthz", null),
            ("overview", "/", 100),
            ("runs list", "/runs", 100),
            ("runs list, page 200 (keyset)", $"/runs?before={middle}", 100),
            ("runs list, failed only", "/runs?outcome=failed", 100),
            ("boot time, 60 commits", "/charts/boot-time", 100),
            ("boot time, 500 commits", "/charts/boot-time?commits=500", null),
            ("metric, 60 commits", "/charts/metrics?name=syscall.getpid.ns", null),
            ("run", $"/runs/{run}", null),
            ("console", $"/jobs/{job}/console", null),
            ("machines", "/machines", null),
        };
        Console.WriteLine($"{"page",-30} {"p50 ms",8} {"p95 ms",8} {"x baseline",10} {"target",8}");
        double? baseline = null;
        foreach (var (name, url, target) in pages)
        {
            var times = new List<double>();
            for (var i = 0; i < WarmUp + Timed; i++)
            {
                var clock = Stopwatch.StartNew();
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseContentRead);
                clock.Stop();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{url}: {(int)response.StatusCode}");
                if (i >= WarmUp) times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            var p50 = times[times.Count / 2];
            var p95 = times[(int)Math.Ceiling(0.95 * times.Count) - 1];
            baseline ??= p50;
            var verdict = target is { } t ? (p50 < t ? $"<{t} ok" : $"<{t} MISSED") : "";
            Console.WriteLine($"{name,-30} {p50,8:0.0} {p95,8:0.0} {p50 / baseline,10:0.0} {verdict,8}");
        }
    }
}
