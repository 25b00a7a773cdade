using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Bisection;

/// <summary>
/// Bisection on the real server and PostgreSQL with a scripted agent: a step whose first boots leave the verdict
/// inconclusive gets more boots, good commit then step, before the step is called good or bad (as Pinpoint does).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class BisectionServiceTests(LabFixture lab) : IAsyncLifetime
{
    private const string Tag = "bisect-rounds";

    private const string Pipeline = """
        name: bisect-rounds
        build:
          commands: [make]
          artifacts: { image: kernel.bin }
        boot:
          count: 5
          machine: { tags: [bisect-rounds] }
        judge:
          boots: { step: 2, max: 7 }
          metrics:
            syscall.enosys.cycles: { threshold: 2% }
        """;

    private GitRepo _repo = null!;
    private ScriptedAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _repo = await lab.RepoWithPipelineAsync(Pipeline);
        _agent = await ScriptedAgent.StartAsync(lab.EnrolAsync, "bisect-rounds-agent", Tag, seed: 5);
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Bisect_StepUnclearAfterFirstBoots_MoreBootsThenDecided()
    {
        using var client = lab.Client();
        var c0 = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        // Exact values, so the ranks below are known: five boots of c0, then the two of the step's extra round.
        _agent.Kernels[c0] = new ScriptedKernel(1000, Sequence: [1000, 1001, 1002, 1003, 1004, 1000.5, 1001.5]);
        await Judged.VerdictsAsync(client, (await lab.PushAsync(_repo)).RunId);

        // A branch of four: the 3rd is the first slow one, but its first boot is faster than one of c0's five, so
        // its first five boots are not significant at 1% (Mann-Whitney U = 24 of 25: p = 0.016); after a round of
        // two more each side (U = 48 of 49: p = 0.001) they are.
        await _repo.GitAsync("checkout", "--quiet", "-b", "topic", c0);
        var topic = new List<string>();
        ScriptedKernel[] kernels =
        [
            new(1000, Noise: 0.001),
            new(1000, Noise: 0.001),
            new(1300, Sequence: [1003.5, 1300, 1301, 1299, 1302, 1300, 1301]),
            new(1300, Noise: 0.001),
        ];
        for (var i = 0; i < kernels.Length; i++)
        {
            var c = (await _repo.CommitAsync(new Dictionary<string, string> { [$"topic{i}"] = $"{i}" }, $"topic {i}")).Trim();
            _agent.Kernels[c] = kernels[i];
            topic.Add(c);
        }
        var run = (await lab.PushAsync(_repo, "topic")).RunId;
        var verdicts = await Judged.VerdictsAsync(client, run);
        Assert.Equal("regression", verdicts.Verdicts.Single(v => v.Name == "syscall.enosys.cycles").Verdict);

        var bisection = await Judged.BisectionAsync(client, run);

        Assert.Equal("done", bisection.State);
        Assert.Equal(topic[2], bisection.FirstBadCommit);
        Assert.Equal(2, bisection.Steps); // the 2nd (good), then the 3rd: its extra round is not another step
        var third = Assert.Single(bisection.Evidence, e => e.StartsWith(topic[2][..12], StringComparison.Ordinal));
        Assert.True(third.Contains("bad: regression", StringComparison.Ordinal) && third.Contains("7 boots against 7", StringComparison.Ordinal), third);
        // The extra round alternated: the good commit, then the step, after the step's first job.
        var after = _agent.Served.SkipWhile(s => s.Commit != topic[2]).ToList();
        Assert.Equal([(topic[2], 5), (c0, 2), (topic[2], 2)], after);
    }
}
