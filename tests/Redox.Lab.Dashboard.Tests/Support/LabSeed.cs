using System.Net;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Dashboard.Tests.Support;

/// <summary>
/// The lab the browser tests look at, made through the server's real API as an agent would report it:
/// five commits of <c>main</c> that passed (three boots per job, so the charts have a spread), one
/// whose p2buddy boot panicked printing hostile HTML, a <c>feature</c> branch whose test failed, a
/// <c>noise</c> branch whose kernel printed garbage, a 2,500-line console, and a run still queued.
/// </summary>
public sealed class LabSeed
{
    /// <summary>Text a hostile kernel prints; it must reach the browser as text, never as markup.</summary>
    public const string Hostile = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">";

    public static readonly string[] Stages = ["entry", "long-mode", "serial", "tsc", "mm", "smp", "bootstrap", "kmain-done"];

    public required string Tag { get; init; }
    public required string Agent { get; init; }
    public string Machine => $"{Agent}/qemu-0";
    public required string RepoPath { get; init; }
    public required List<Guid> PassedRuns { get; init; }
    public required Guid PanicRun { get; init; }
    public required Guid PanicJob { get; init; }
    public required Guid FailedRun { get; init; }
    public required Guid GarbageRun { get; init; }
    public required Guid GarbageJob { get; init; }
    public required Guid LongConsoleJob { get; init; }
    public required Guid QueuedRun { get; init; }
    public required HttpClient AgentClient { get; init; }

    /// <summary>
    /// An authenticated agent request, so that the server sees the agent now (pages call a machine offline
    /// when its agent has been silent for minutes; on a loaded machine the tests can take that long).
    /// The agent's token is checked (which records when the agent was seen) before the heartbeat for an
    /// ended job is answered; its answer does not matter and changes nothing.
    /// </summary>
    public async Task TouchAgentAsync()
    {
        using var response = await AgentClient.PostAsync($"/api/agent/jobs/{PanicJob}/heartbeat", null);
        Assert.NotEqual(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    public const int LongConsoleLines = 2500;

    /// <summary>Jobs no agent has taken yet, over every run, as the API gives them.</summary>
    public static async Task<int> QueuedJobsAsync(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var count = 0;
        foreach (var run in (await client.GetFromJsonAsync<List<RunSummary>>("/api/runs?limit=1000", DashboardFixture.Json))!.Where(r => r.EndedAt is null))
            count += (await client.GetFromJsonAsync<RunView>($"/api/runs/{run.Id}", DashboardFixture.Json))!.Jobs.Count(j => j.AssignedAt is null && j.EndedAt is null);
        return count;
    }

    public static async Task<LabSeed> CreateAsync(DashboardFixture lab)
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var agentName = "rack-1";
        var agent = await lab.EnrolAsync(agentName,
        [
            new MachineInfo("qemu-0", "qemu", ["x86_64", "qemu", tag], 4, 256),
            new MachineInfo("arm-0", "qemu", ["aarch64"], 2, 512),
        ]);
        var yaml = Repo.ReferencePipeline.Replace("tags: [x86_64]", $"tags: [x86_64, {tag}]", StringComparison.Ordinal);
        yaml = yaml.Replace("  panic: ['KERNEL PANIC']", "  panic: ['KERNEL PANIC']", StringComparison.Ordinal);
        // Passed jobs report three boots; the server takes boot reports only below the pipeline's boot.count.
        yaml = yaml.Replace("  count: 1\n", "  count: 3\n", StringComparison.Ordinal);
        var repo = await GitRepo.CreateAsync(lab.TempDir, new Dictionary<string, string>
        {
            ["pipelines/redox-reference.yaml"] = yaml,
            ["README.md"] = "kernel under test\n",
        });
        using var client = lab.Client();
        var registered = await client.PostAsJsonAsync("/api/repositories",
            new RepositoryView("dashboard-kernel", repo.Path, "main", ["pipelines/*.yaml"], true, ["*"]), DashboardFixture.Json);
        Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
        var random = new Random(8);

        var passed = new List<Guid>();
        Guid longJob = default;
        for (var c = 0; c < 5; c++)
        {
            if (c > 0) await repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = $"// version {c}\n" }, $"kernel: step {c}");
            var run = await PushAsync(client, repo.Path, "main");
            foreach (var job in await ClaimAsync(agent, 2))
            {
                // Commit 3 makes smp slower on rmm: the chart should show the step.
                var slow = c >= 3 && job.Variant == "rmm" ? 1.6 : 1.0;
                var lines = c == 4 && job.Variant == "p2buddy" ? LongConsoleLines : 0;
                if (lines > 0) longJob = job.JobId;
                await ReportPassedAsync(agent, job, random, slow, lines);
            }
            passed.Add(run.RunId);
        }

        // A panic: p2buddy panics printing hostile HTML, rmm passes.
        await repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = "// panics\n" }, "mm: free the frame twice");
        var panicRun = await PushAsync(client, repo.Path, "main");
        Guid panicJob = default;
        foreach (var job in await ClaimAsync(agent, 2))
        {
            if (job.Variant != "p2buddy")
            {
                await ReportPassedAsync(agent, job, random, 1.0, 0);
                continue;
            }
            panicJob = job.JobId;
            var t0 = DateTimeOffset.UtcNow;
            var console = BootLines(0, t0, 4).ToList();
            console.Add(new ConsoleLine(0, t0.AddMilliseconds(900), "KERNEL PANIC: double free of frame 0x7f000 " + Hostile));
            console.Add(new ConsoleLine(0, t0.AddMilliseconds(901), "@@LAB finding kind=panic msg=double-free rip=0xffffffff80012345 bt=0xffffffff80012345,0xffffffff80023456 *00000000"));
            console.Add(new ConsoleLine(0, t0.AddMilliseconds(902), "  backtrace: 0xffffffff80012345 0xffffffff80023456"));
            await PostConsoleAsync(agent, job.JobId, console);
            var finding = new FindingReport("panic", new Dictionary<string, string>
            {
                ["msg"] = "double-free " + Hostile,
                ["rip"] = "0xffffffff80012345",
                ["bt"] = "0xffffffff80012345,0xffffffff80023456",
            }, console.Count - 2);
            var detail = "panic: KERNEL PANIC: double free of frame 0x7f000 " + Hostile;
            await ReportBootAsync(agent, job.JobId, Boot(0, Outcome.KernelPanic, detail, t0, random, 1.0, 5, tests: [], findings: [finding]));
            await CompleteAsync(agent, job.JobId, Outcome.KernelPanic, "boot 0: kernel-panic: " + detail);
        }

        // A failed test on another branch.
        await repo.GitAsync("checkout", "--quiet", "-b", "feature");
        await repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = "// feature\n" }, "sched: new yield");
        var failedRun = await PushAsync(client, repo.Path, "feature");
        foreach (var job in await ClaimAsync(agent, 2))
        {
            var t0 = DateTimeOffset.UtcNow;
            var console = BootLines(0, t0, Stages.Length).ToList();
            console.Add(new ConsoleLine(0, t0.AddMilliseconds(950), "@@LAB test name=sched.yield result=fail detail=ran-twice *00000000"));
            console.Add(new ConsoleLine(0, t0.AddMilliseconds(960), "@@LAB end status=fail code=1 *00000000"));
            await PostConsoleAsync(agent, job.JobId, console);
            var tests = Tests(failed: "sched.yield");
            await ReportBootAsync(agent, job.JobId, Boot(0, Outcome.TestFailed, "1 of 6 tests failed: sched.yield", t0, random, 1.0, Stages.Length, tests, []));
            await CompleteAsync(agent, job.JobId, Outcome.TestFailed, "boot 0: test-failed: 1 of 6 tests failed: sched.yield");
        }

        // Garbage: a kernel that prints noise, control characters and escape sequences.
        await repo.GitAsync("checkout", "--quiet", "-b", "noise");
        await repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = "// wrong baud rate\n" }, "serial: wrong divisor");
        var garbageRun = await PushAsync(client, repo.Path, "noise");
        Guid garbageJob = default;
        foreach (var job in await ClaimAsync(agent, 2))
        {
            garbageJob = job.JobId;
            var t0 = DateTimeOffset.UtcNow;
            var noise = Enumerable.Range(0, 40)
                .Select(i => new ConsoleLine(0, t0.AddMilliseconds(20 * i), $"\u001b[3{i % 8}m\uFFFD\uFFFD\u0007<\u0001>{(char)(0x80 + i)}\uFFFD</pre>" + (i == 7 ? Hostile : "")))
                .ToList();
            await PostConsoleAsync(agent, job.JobId, noise);
            var detail = "1650 of 2400 bytes unprintable";
            await ReportBootAsync(agent, job.JobId, Boot(0, Outcome.Garbage, detail, t0, random, 1.0, 0, [], []));
            await CompleteAsync(agent, job.JobId, Outcome.Garbage, "boot 0: garbage: " + detail);
        }

        // One more push that nobody claims: the queue.
        var queued = await PushAsync(client, repo.Path, "noise");
        for (var i = 0; i < 100; i++)
        {
            var view = await client.GetFromJsonAsync<RunView>($"/api/runs/{queued.RunId}", DashboardFixture.Json);
            if (view!.Jobs.Count == 2) break;
            await Task.Delay(100);
        }

        // The judge takes every ended run in and schedules the extra and baseline boots its verdicts ask for (nobody
        // serves them here): wait until it has looked at each, so the queue the pages show holds still.
        foreach (var run in (await client.GetFromJsonAsync<List<RunSummary>>("/api/runs?limit=1000", DashboardFixture.Json))!.Where(r => r.EndedAt is not null))
        {
            for (var i = 0; i < 600; i++)
            {
                var verdicts = await client.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{run.Id}/verdicts", DashboardFixture.Json);
                if (verdicts is { Judged: true } or { Pending: > 0 }) break;
                await Task.Delay(100);
            }
        }

        return new LabSeed
        {
            Tag = tag,
            Agent = agentName,
            RepoPath = repo.Path,
            PassedRuns = passed,
            PanicRun = panicRun.RunId,
            PanicJob = panicJob,
            FailedRun = failedRun.RunId,
            GarbageRun = garbageRun.RunId,
            GarbageJob = garbageJob,
            LongConsoleJob = longJob,
            QueuedRun = queued.RunId,
            AgentClient = agent,
        };
    }

    private static async Task<PushResponse> PushAsync(HttpClient client, string repo, string branch)
    {
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repo, branch), DashboardFixture.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PushResponse>(DashboardFixture.Json))!;
    }

    private static async Task<List<JobAssignment>> ClaimAsync(HttpClient agent, int count)
    {
        var jobs = new List<JobAssignment>();
        for (var attempt = 0; jobs.Count < count && attempt < 20; attempt++)
        {
            var response = await agent.GetAsync("/api/agent/jobs/next?wait=10");
            if (response.StatusCode == HttpStatusCode.NoContent) continue;
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            jobs.Add((await response.Content.ReadFromJsonAsync<JobAssignment>(DashboardFixture.Json))!);
        }
        Assert.Equal(count, jobs.Count);
        return jobs;
    }

    private static async Task ReportPassedAsync(HttpClient agent, JobAssignment job, Random random, double slow, int extraLines)
    {
        var console = new List<ConsoleLine> { new(-1, DateTimeOffset.UtcNow, "make -C kernel ALLOCATOR=" + job.Variant) };
        var boots = new List<BootReport>();
        for (var b = 0; b < 3; b++)
        {
            var t0 = DateTimeOffset.UtcNow.AddSeconds(b * 3);
            console.AddRange(BootLines(b, t0, Stages.Length));
            if (b == 0)
                console.AddRange(Enumerable.Range(0, extraLines).Select(i => new ConsoleLine(0, t0.AddMilliseconds(1000 + i), $"[selftest] iteration {i} ok <i>{i}</i>")));
            console.Add(new ConsoleLine(b, t0.AddMilliseconds(990), "@@LAB end status=pass code=0 *00000000"));
            boots.Add(Boot(b, Outcome.Passed, "6 tests passed", t0, random, slow, Stages.Length, Tests(failed: null), []));
        }
        await PostConsoleAsync(agent, job.JobId, console);
        foreach (var boot in boots) await ReportBootAsync(agent, job.JobId, boot);
        await CompleteAsync(agent, job.JobId, Outcome.Passed, null);
    }

    private static IEnumerable<ConsoleLine> BootLines(int boot, DateTimeOffset t0, int stages)
    {
        yield return new ConsoleLine(boot, t0, "SeaBIOS (version 1.16.2-debian)");
        yield return new ConsoleLine(boot, t0.AddMilliseconds(40), "@@LAB hello proto=1 kernel=redox-lab-ref version=0.1 *00000000");
        for (var s = 0; s < stages; s++)
        {
            yield return new ConsoleLine(boot, t0.AddMilliseconds(100 + 100 * s), $"kernel: {Stages[s]} done");
            yield return new ConsoleLine(boot, t0.AddMilliseconds(101 + 100 * s), $"@@LAB stage name={Stages[s]} *00000000");
        }
    }

    private static List<TestReport> Tests(string? failed) =>
        new[] { "mm.buddy", "mm.mmap", "tlb.shootdown", "sched.yield", "signal.frame", "syscall.getpid" }
            .Select(n => new TestReport(n, n == failed ? "fail" : "pass", n == failed ? "ran twice " + Hostile : null)).ToList();

    private static BootReport Boot(int index, Outcome outcome, string? detail, DateTimeOffset t0, Random random, double slow, int stages, List<TestReport> tests, List<FindingReport> findings)
    {
        long host = 0;
        var reports = new List<StageReport>();
        for (var s = 0; s < stages; s++)
        {
            var step = Stages[s] switch
            {
                "smp" => 180 * slow,
                "mm" => 90,
                "bootstrap" => 60,
                _ => 25,
            };
            host += (long)((step + random.Next(0, 12)) * 1_000_000);
            reports.Add(new StageReport(Stages[s], "marker", (long)(host * 0.82), host + 300_000_000));
        }
        List<MetricReport> metrics = stages == 0 ? [] :
        [
            new("alloc.frame.cycles", 95 + random.Next(0, 10) * slow, "cycles", 10000, "median"),
            new("syscall.getpid.ns", 180 + random.Next(0, 20), "ns", 100000, "median"),
            new("shootdown.rtt.ns", 2400 + random.Next(0, 300), "ns", 1000, "p50"),
        ];
        return new BootReport(index, outcome, detail, t0, t0.AddMilliseconds(1000 + host / 1_000_000), 2_893_112_000, reports, metrics, tests, findings, 0);
    }

    private static async Task PostConsoleAsync(HttpClient agent, Guid job, List<ConsoleLine> lines)
    {
        for (var offset = 0; offset < lines.Count; offset += 1000)
        {
            var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job}/console", new ConsoleChunk(offset, lines.Skip(offset).Take(1000).ToList()), DashboardFixture.Json);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    private static async Task ReportBootAsync(HttpClient agent, Guid job, BootReport boot)
    {
        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job}/boots/{boot.Index}", boot, DashboardFixture.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task CompleteAsync(HttpClient agent, Guid job, Outcome outcome, string? detail)
    {
        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job}/complete", new JobCompletion(outcome, detail), DashboardFixture.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
