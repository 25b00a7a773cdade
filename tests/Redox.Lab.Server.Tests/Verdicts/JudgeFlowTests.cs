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

    private GitRepo _repo = null!;
    private ScriptedAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _repo = await lab.RepoWithPipelineAsync(Pipeline);
        _agent = await ScriptedAgent.StartAsync(lab.EnrolAsync, "judge-flow-agent", Tag);
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Judge_HistoryWithRegressionsAndBranch_VerdictsBugsBisectionCompareCalibration()
    {
        var c0 = await Head();
        _agent.Kernels[c0] = new ScriptedKernel(1000, false);
        var run0 = await PushAsync("main");
        var v0 = await JudgedAsync(run0);
        Assert.Null(v0.BaselineCommit); // the first tested commit has nothing to compare with
        Assert.Empty(v0.Verdicts);

        // 1. A 30% slower syscall: a regression with its shift against the previous tested commit.
        var c1 = await _repo.CommitAsync(new Dictionary<string, string> { ["prologue"] = "heavy" }, "heavy prologue");
        _agent.Kernels[c1.Trim()] = new ScriptedKernel(1300, false);
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
        _agent.Kernels[c2] = new ScriptedKernel(1300, true);
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
        Assert.True(same.CandidateBoots == bug.Bug.Count, System.Text.Json.JsonSerializer.Serialize(new { v1, v2, bug, served = _agent.Served.ToArray() }, LabFixture.Json));
        Assert.Equal([c2], bug.Bug.Commits);
        Assert.Equal("new", bug.Bug.State);
        Assert.Equal("double-free: frame N freed twice", bug.Bug.Title);

        // 3. A 0.5% shift under 1% noise: inconclusive, so extra rounds, baseline then candidate, up to the cap.
        var c3 = (await _repo.CommitAsync(new Dictionary<string, string> { ["tweak"] = "1" }, "tiny tweak")).Trim();
        _agent.Kernels[c3] = new ScriptedKernel(1306.5, true);
        var run3 = await PushAsync("main");
        var v3 = await JudgedAsync(run3);
        var tiny = v3.Verdicts.Single(v => v.Name == "syscall.enosys.cycles");
        Assert.True(tiny.Rounds > 0, $"{tiny.Verdict} after {tiny.BaselineBoots}/{tiny.CandidateBoots} boots");
        // The baseline side pools every boot of c2 (its own push's extra rounds too); the candidate grows by a step per round.
        Assert.Equal(5 + 2 * tiny.Rounds, tiny.CandidateBoots);
        Assert.InRange(tiny.CandidateBoots, 7, 9);
        var extra = _agent.Served.SkipWhile(s => s.Commit != c3).Skip(1).ToList(); // after the push's own job
        Assert.Equal(Enumerable.Range(0, tiny.Rounds).SelectMany(_ => new[] { c2, c3 }), extra.Take(2 * tiny.Rounds).Select(s => s.Commit));
        // The bug is known now: seen on the baseline's boots too.
        Assert.Equal("known", v3.Verdicts.Single(v => v.Subject == "bug").Verdict);

        // 3b. The double free fixed on main: an improvement, and the bug is fixed after 3 clean boots (fixed-after).
        var c4 = (await _repo.CommitAsync(new Dictionary<string, string> { ["free"] = "once" }, "free once")).Trim();
        _agent.Kernels[c4] = new ScriptedKernel(1000, false); // also much faster: clear verdicts, no extra rounds that would boot the buggy c3 again
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
            _agent.Kernels[c] = new ScriptedKernel(i >= 5 ? 1300 : 1000);
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
        var calibration = await Judged.UntilAsync(async () =>
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
        return await Judged.VerdictsAsync(client, runId);
    }

    private async Task<BisectionView> BisectedAsync(Guid runId)
    {
        using var client = lab.Client();
        return await Judged.BisectionAsync(client, runId);
    }
}
