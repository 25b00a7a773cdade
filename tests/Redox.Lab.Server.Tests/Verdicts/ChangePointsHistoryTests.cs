using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Verdicts;

/// <summary>
/// Change points along the default branch on the real server and PostgreSQL, with a scripted agent: eight commits
/// pushed one by one, a 4% step at the fifth that no commit's own five boots can resolve (each verdict against
/// its predecessor is inconclusive), and ED-PELT over the per-commit medians opens one regression of subject
/// <c>history</c> naming where the step begins. The fifth push carries three commits the lab never tested before
/// its head, the second of them the one that made the step: the history regression bisects them to it.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ChangePointsHistoryTests(LabFixture lab) : IAsyncLifetime
{
    private const string Tag = "history-steps";

    private const string Pipeline = """
        name: history-steps
        build:
          commands: [make]
          artifacts: { image: kernel.bin }
        boot:
          count: 5
          machine: { tags: [history-steps] }
        judge:
          metrics:
            syscall.enosys.cycles: { threshold: 2% }
        """;

    // Five boots spread ±3% around each commit's median; the medians step by 4% after the 4th commit.
    private static readonly double[] Spread = [-30, -10, 0, 10, 30];
    private static readonly double[] Medians = [1000, 1003, 998, 1001, 1042, 1039, 1043, 1040];

    private GitRepo _repo = null!;
    private ScriptedAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _repo = await lab.RepoWithPipelineAsync(Pipeline);
        _agent = await ScriptedAgent.StartAsync(lab.EnrolAsync, "history-steps-agent", Tag);
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Judge_LastingStepNoCommitResolves_OneHistoryRegressionAtTheStep()
    {
        using var client = lab.Client();
        var commits = new List<string>();
        var runs = new List<RunVerdictsView>();
        var untestedCommits = new List<string>();
        for (var i = 0; i < Medians.Length; i++)
        {
            if (i == 4)
            {
                // Pushed together with the 5th commit, never tested alone: the step begins at the second.
                for (var u = 0; u < 3; u++)
                {
                    var untested = (await _repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = $"// 4.{u}\n" }, $"kernel 4.{u}")).Trim();
                    _agent.Kernels[untested] = new ScriptedKernel(u == 0 ? Medians[3] : Medians[4], Noise: 0);
                    untestedCommits.Add(untested);
                }
            }
            var commit = i == 0
                ? (await _repo.GitAsync("rev-parse", "HEAD")).Trim()
                : (await _repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = $"// {i}\n" }, $"kernel {i}")).Trim();
            _agent.Kernels[commit] = new ScriptedKernel(Medians[i], Sequence: Spread.Select(d => Medians[i] + d).ToList());
            commits.Add(commit);
            runs.Add(await Judged.VerdictsAsync(client, (await lab.PushAsync(_repo)).RunId));
        }

        // No commit's own verdict resolves the step, not even the one that makes it.
        foreach (var run in runs.Skip(1))
            Assert.Equal("inconclusive", run.Verdicts.Single(v => v.Subject == "metric" && v.Name == "syscall.enosys.cycles").Verdict);
        Assert.Equal("inconclusive", runs[4].Verdicts.Single(v => v.Subject == "metric" && v.Name == "syscall.enosys.cycles").Verdict);

        // The history does: one regression, on the run that revealed it, from the 4th commit to the 5th.
        var history = runs.SelectMany(r => r.Verdicts.Where(v => v.Subject == "history").Select(v => (Run: r, Verdict: v))).ToList();
        var (revealed, step) = Assert.Single(history);
        Assert.Equal("regression", step.Verdict);
        Assert.Equal("syscall.enosys.cycles", step.Name);
        Assert.Equal(commits[3], step.BaselineCommit);
        Assert.Contains($"lasting step at {commits[4][..12]}", step.Detail, StringComparison.Ordinal);
        Assert.InRange(step.RelativeShift!.Value, 0.035, 0.045);
        Assert.True(runs.IndexOf(revealed) >= 6, "a step needs three commits on each side");

        // Bisected over the commits between the two tested ones: the second untested commit made the step.
        var bisection = await Judged.UntilAsync(async () =>
            (await client.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{revealed.RunId}/verdicts", LabFixture.Json))!
                .Bisections.FirstOrDefault(b => b.Subject == "history" && b.State != "running"));
        Assert.Equal("done", bisection.State);
        Assert.Equal("syscall.enosys.cycles", bisection.Name);
        Assert.Equal(commits[3], bisection.GoodCommit);
        Assert.Equal(commits[4], bisection.BadCommit);
        Assert.Equal(untestedCommits[1], bisection.FirstBadCommit);
        Assert.Contains(bisection.Evidence, e => e.StartsWith($"{untestedCommits[1][..12]}: bad", StringComparison.Ordinal));
        Assert.Contains(bisection.Evidence, e => e.StartsWith($"{untestedCommits[0][..12]}: good", StringComparison.Ordinal));

        // It is listed with the lab's regressions.
        var regressions = (await client.GetFromJsonAsync<List<RegressionView>>("/api/regressions", LabFixture.Json))!;
        Assert.Contains(regressions, r => r.RunId == revealed.RunId && r.Verdict.Subject == "history" && r.Bisection?.FirstBadCommit == untestedCommits[1]);
    }
}
