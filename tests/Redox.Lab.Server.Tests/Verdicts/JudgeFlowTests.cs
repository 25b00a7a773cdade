using System.Collections.Concurrent;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Verdicts;

/// <summary>
/// The judge on the real server and PostgreSQL, with a scripted agent over the real agent API that reports boots
/// whose metrics and findings depend on the commit it was given: baselines, performance and correctness verdicts,
/// bugs deduplicated across boots, extra boots alternating baseline and candidate, bisection, compare and
/// calibration. (The end-to-end tests do the same with the real agent, QEMU and the reference kernel.)
/// </summary>
[Collection(LabCollection.Name)]
public sealed class JudgeFlowTests(LabFixture lab) : IAsyncLifetime
{
    private const string Tag = "judge-flow";

    private const string Pipeline = """
        name: judge-flow
        build:
          commands: [make]
          artifacts: { image: kernel.bin }
        boot:
          count: 5
          machine: { tags: [judge-flow] }
        judge:
          boots: { step: 2, max: 9 }
          metrics:
            syscall.enosys.cycles: { threshold: 2% }
        """;

    // What the scripted kernel measures at each commit: the mean of syscall.enosys.cycles, and whether it double-frees.
    private readonly ConcurrentDictionary<string, (double Mean, bool DoubleFree)> _kernel = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(string Commit, int Boots)> _served = new();
    private GitRepo _repo = null!;
    private HttpClient _agent = null!;
    private Task _loop = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _repo = await lab.RepoWithPipelineAsync(Pipeline);
        (_, _agent) = await lab.EnrolAsync("judge-flow-agent", [Tag]);
        _loop = Task.Run(() => ServeAsync(_stop.Token));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _agent.Dispose();
    }

    [Fact]
    public async Task Judge_HistoryWithRegressionsAndBranch_VerdictsBugsBisectionCompareCalibration()
    {
        var c0 = await Head();
        _kernel[c0] = (1000, false);
        var run0 = await PushAsync("main");
        var v0 = await JudgedAsync(run0);
        Assert.Null(v0.BaselineCommit); // the first tested commit has nothing to compare with
        Assert.Empty(v0.Verdicts);

        // 1. A 30% slower syscall: a regression with its shift against the previous tested commit.
        var c1 = await _repo.CommitAsync(new Dictionary<string, string> { ["prologue"] = "heavy" }, "heavy prologue");
        _kernel[c1.Trim()] = (1300, false);
        var run1 = await PushAsync("main");
        var v1 = await JudgedAsync(run1);
        Assert.Equal(c0, v1.BaselineCommit);
        Assert.StartsWith("previous tested commit on main", v1.BaselineReason, StringComparison.Ordinal);
        var slow = v1.Verdicts.Single(v => v.Name == "syscall.enosys.cycles");
        Assert.Equal("regression", slow.Verdict);
        Assert.InRange(slow.RelativeShift!.Value, 0.25, 0.35);
        Assert.InRange(300.0, slow.ShiftLow!.Value, slow.ShiftHigh!.Value);
        Assert.True(slow.P <= 0.01);
        Assert.Equal((5, 5), (slow.BaselineBoots, slow.CandidateBoots));

        // 2. A double free in every boot: one correctness regression, one bug for all five findings.
        var c2 = (await _repo.CommitAsync(new Dictionary<string, string> { ["free"] = "twice" }, "double free")).Trim();
        _kernel[c2] = (1300, true);
        var run2 = await PushAsync("main");
        var v2 = await JudgedAsync(run2);
        var bugVerdict = Assert.Single(v2.Verdicts, v => v.Subject == "bug");
        Assert.Equal("regression", bugVerdict.Verdict);
        Assert.Equal("regression", v2.Verdicts.Single(v => v.Subject == "test" && v.Name == "mm.selftest").Verdict);
        var same = v2.Verdicts.Single(v => v.Name == "syscall.enosys.cycles");
        Assert.Contains(same.Verdict, new[] { "no-change", "inconclusive" });
        using var client = lab.Client();
        var bug = (await client.GetFromJsonAsync<BugDetailView>($"/api/bugs/{bugVerdict.BugId}", LabFixture.Json))!;
        // One finding per boot of c2, extra boots included.
        Assert.True(same.CandidateBoots == bug.Bug.Count, System.Text.Json.JsonSerializer.Serialize(new { v1, v2, bug, served = _served.ToArray() }, LabFixture.Json));
        Assert.Equal([c2], bug.Bug.Commits);
        Assert.Equal("new", bug.Bug.State);
        Assert.Equal("double-free: frame N freed twice", bug.Bug.Title);

        // 3. A 0.5% shift under 1% noise: inconclusive, so extra rounds, baseline then candidate, up to the cap.
        var c3 = (await _repo.CommitAsync(new Dictionary<string, string> { ["tweak"] = "1" }, "tiny tweak")).Trim();
        _kernel[c3] = (1306.5, true);
        var run3 = await PushAsync("main");
        var v3 = await JudgedAsync(run3);
        var tiny = v3.Verdicts.Single(v => v.Name == "syscall.enosys.cycles");
        Assert.True(tiny.Rounds > 0, $"{tiny.Verdict} after {tiny.BaselineBoots}/{tiny.CandidateBoots} boots");
        // The baseline side pools every boot of c2 (its own push's extra rounds too); the candidate grows by a step per round.
        Assert.Equal(5 + 2 * tiny.Rounds, tiny.CandidateBoots);
        Assert.InRange(tiny.CandidateBoots, 7, 9);
        var extra = _served.SkipWhile(s => s.Commit != c3).Skip(1).ToList(); // after the push's own job
        Assert.Equal(Enumerable.Range(0, tiny.Rounds).SelectMany(_ => new[] { c2, c3 }), extra.Take(2 * tiny.Rounds).Select(s => s.Commit));
        // The bug is known now: seen on the baseline's boots too.
        Assert.Equal("known", v3.Verdicts.Single(v => v.Subject == "bug").Verdict);

        // 3b. The double free fixed on main: an improvement, and the bug is fixed after 3 clean boots (fixed-after).
        var c4 = (await _repo.CommitAsync(new Dictionary<string, string> { ["free"] = "once" }, "free once")).Trim();
        _kernel[c4] = (1000, false); // also much faster: clear verdicts, no extra rounds that would boot the buggy c3 again
        var v4fix = await JudgedAsync(await PushAsync("main"));
        Assert.Equal("improvement", v4fix.Verdicts.Single(v => v.Subject == "bug").Verdict);
        var fixedBug = (await client.GetFromJsonAsync<BugDetailView>($"/api/bugs/{bugVerdict.BugId}", LabFixture.Json))!;
        Assert.Equal("fixed", fixedBug.Bug.State);
        Assert.Equal(new[] { c2, c3 }.Order(StringComparer.Ordinal), fixedBug.Bug.Commits);

        // 4. A branch of 8 commits off c0 whose 5th is slow: regression against the merge base, bisected to the 5th.
        await _repo.GitAsync("checkout", "--quiet", "-b", "topic", c0);
        var topic = new List<string>();
        for (var i = 1; i <= 8; i++)
        {
            var c = (await _repo.CommitAsync(new Dictionary<string, string> { [$"topic{i}"] = $"{i}" }, $"topic {i}")).Trim();
            _kernel[c] = (i >= 5 ? 1300 : 1000, false);
            topic.Add(c);
        }
        var run4 = await PushAsync("topic");
        var v4 = await JudgedAsync(run4);
        Assert.Equal(c0, v4.BaselineCommit);
        Assert.StartsWith("merge base of topic with main", v4.BaselineReason, StringComparison.Ordinal);
        var bisection = await BisectedAsync(run4);
        Assert.Equal("done", bisection.State);
        Assert.Equal(topic[4], bisection.FirstBadCommit);
        Assert.Equal("syscall.enosys.cycles", bisection.Name);
        Assert.InRange(bisection.Steps, 1, 3);
        Assert.Equal(bisection.Steps, bisection.Evidence.Count);

        // 5. Compare: any two runs, with the same verdict code.
        var compare = (await client.GetFromJsonAsync<CompareView>($"/api/compare?a={run0}&b={run2}", LabFixture.Json))!;
        Assert.True(compare.HasRegression);
        Assert.Single(compare.BugsAdded);
        var back = (await client.GetFromJsonAsync<CompareView>($"/api/compare?a={run2}&b={run0}", LabFixture.Json))!;
        Assert.Equal("improvement", back.Verdicts.Single(v => v.Name == "syscall.enosys.cycles").Verdict);
        Assert.Single(back.BugsRemoved);

        // 6. Calibration: an A/A pair of c0 records one comparison per judged series.
        var scheduled = await client.PostAsJsonAsync("/api/calibrations", new CalibrationRequest(run0), LabFixture.Json);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, scheduled.StatusCode);
        var calibration = await WaitAsync(async () =>
            (await client.GetFromJsonAsync<List<CalibrationView>>("/api/calibrations", LabFixture.Json))!
                .FirstOrDefault(c => c.Name == "syscall.enosys.cycles" && c.Comparisons >= 1));
        Assert.InRange(calibration.FalsePositiveRate, 0, 1);
        Assert.InRange(calibration.Noise, 0.001, 0.05); // the scripted kernel's noise is 1%
    }

    private async Task<string> Head() => (await _repo.GitAsync("rev-parse", "HEAD")).Trim();

    private async Task<Guid> PushAsync(string branch) => (await lab.PushAsync(_repo, branch)).RunId;

    private async Task<RunVerdictsView> JudgedAsync(Guid runId)
    {
        using var client = lab.Client();
        return await WaitAsync(async () =>
        {
            var v = await client.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", LabFixture.Json);
            return v is { Judged: true } ? v : null;
        });
    }

    private async Task<BisectionView> BisectedAsync(Guid runId)
    {
        using var client = lab.Client();
        return await WaitAsync(async () =>
        {
            var v = await client.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", LabFixture.Json);
            return v?.Bisections.FirstOrDefault(b => b.State != "running");
        });
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        // Generous: the judge runs every 5 s and each step waits for the scripted agent; not a timing assertion.
        for (var i = 0; i < 1200; i++)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(250);
        }
        throw new TimeoutException("the judge did not get there in 5 minutes");
    }

    /// <summary>The scripted agent: claims jobs, reports the commit's boots with 1% noise, completes.</summary>
    private async Task ServeAsync(CancellationToken ct)
    {
        var random = new Random(1234);
        while (!ct.IsCancellationRequested)
        {
            var job = await LabFixture.NextJobAsync(_agent, 1);
            if (job is null) continue;
            var (mean, doubleFree) = _kernel.GetValueOrDefault(job.Commit, (1000, false));
            var boots = job.BootCount ?? 5;
            _served.Enqueue((job.Commit, boots));
            for (var i = 0; i < boots; i++)
            {
                var value = mean * (1 + 0.01 * Gaussian(random));
                var now = DateTimeOffset.UtcNow;
                var report = new BootReport(i, doubleFree ? Outcome.TestFailed : Outcome.Passed, null, now, now, 1_000_000_000,
                    [new StageReport("entry", "marker", 1_000_000, 2_000_000)],
                    [new MetricReport("syscall.enosys.cycles", value, "cycles", 1000, "median"), new MetricReport("mm.free.frames", 64861, "frames", 1, "value")],
                    [new TestReport("mm.selftest", doubleFree ? "fail" : "pass", null)],
                    doubleFree ? [new FindingReport("double-free", new Dictionary<string, string> { ["frame"] = $"0x{0x1000 * (i + 1):x}", ["msg"] = $"frame {0x1000 * (i + 1)} freed twice" }, 10)] : [],
                    0);
                (await _agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/{i}", report, LabFixture.Json, ct)).EnsureSuccessStatusCode();
            }
            (await _agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete",
                new JobCompletion(doubleFree ? Outcome.TestFailed : Outcome.Passed, null), LabFixture.Json, ct)).EnsureSuccessStatusCode();
        }
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
