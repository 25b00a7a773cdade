using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Findings;

/// <summary>
/// A bug's fixed state on the real server and PostgreSQL, with a scripted agent: the lab boots old buggy commits
/// again (a branch's merge base as its baseline, its extra rounds), and those boots must neither restart the count
/// of clean default-branch boots nor reopen a fixed bug; a newer commit that contains the fix and shows the bug does.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class BugTrackerTests(LabFixture lab) : IAsyncLifetime
{
    private const string Tag = "bug-tracker";

    // Eight clean boots of main to call a bug fixed: more than one push gives, so the count spans pushes.
    private const string Pipeline = """
        name: bug-tracker
        build:
          commands: [make]
          artifacts: { image: kernel.bin }
        boot:
          count: 5
          machine: { tags: [bug-tracker] }
        judge:
          boots: { step: 2, max: 7 }
          fixed-after: 8
          metrics:
            syscall.enosys.cycles: { threshold: 2% }
        """;

    private GitRepo _repo = null!;
    private ScriptedAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _repo = await lab.RepoWithPipelineAsync(Pipeline);
        _agent = await ScriptedAgent.StartAsync(lab.EnrolAsync, "bug-tracker-agent", Tag, seed: 99);
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task BugState_OldBuggyCommitBootedAgain_CountNotRestartedNotReopened_NewerCommitReopens()
    {
        using var client = lab.Client();
        var c0 = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        _agent.Kernels[c0] = new ScriptedKernel(1000);
        await JudgedAsync(client, "main");

        // 1. c1 double-frees: a new bug.
        var c1 = await CommitAsync("free", "twice", new ScriptedKernel(1000, DoubleFree: true));
        var v1 = await JudgedAsync(client, "main");
        var bugId = v1.Verdicts.Single(v => v.Subject == "bug").BugId!.Value;

        // 2. c2 fixes it (and is much faster: clear verdicts, no extra rounds): 5 clean boots, not yet 8.
        var c2 = await CommitAsync("free", "once", new ScriptedKernel(700));
        await JudgedAsync(client, "main");
        Assert.NotEqual("fixed", (await BugAsync(client, bugId)).State);

        // 3. A branch off c1, older than the fix, with a noisy kernel: its verdict against c1 (the merge base) is
        //    unclear, so the lab boots c1 again in extra rounds. Those boots are newer than c2's but c1 is not.
        await _repo.GitAsync("checkout", "--quiet", "-b", "old", c1);
        var o1 = await CommitAsync("old", "1", new ScriptedKernel(1000, DoubleFree: true, Noise: 0.10));
        var vo1 = await JudgedAsync(client, "old");
        Assert.Equal(c1, vo1.BaselineCommit);
        Assert.True(vo1.Verdicts.Single(v => v.Name == "syscall.enosys.cycles").Rounds > 0);
        Assert.Contains(_agent.Served.SkipWhile(s => s.Commit != o1).Skip(1), s => s.Commit == c1); // c1 re-booted after o1
        Assert.Equal("known", vo1.Verdicts.Single(v => v.Subject == "bug").Verdict);

        // 4. c3 on main, clean: c2's 5 and c3's 5 clean boots make 8; the re-boots of c1 did not restart the count.
        await _repo.GitAsync("checkout", "--quiet", "main");
        await CommitAsync("tidy", "1", new ScriptedKernel(700));
        await JudgedAsync(client, "main");
        var fixedBug = await BugAsync(client, bugId);
        Assert.Equal("fixed", fixedBug.State);
        Assert.Equal(c2, fixedBug.FixedCommit);

        // 5. The old branch again: c1 and o2 show the bug after it was marked fixed, but neither contains c2.
        await _repo.GitAsync("checkout", "--quiet", "old");
        await CommitAsync("old", "2", new ScriptedKernel(1000, DoubleFree: true, Noise: 0.10));
        await JudgedAsync(client, "old");
        var still = await BugAsync(client, bugId);
        Assert.Equal(("fixed", c2), (still.State, still.FixedCommit));

        // 6. A main commit after the fix double-frees again: the bug is back.
        await _repo.GitAsync("checkout", "--quiet", "main");
        var c4 = await CommitAsync("free", "twice-again", new ScriptedKernel(700, DoubleFree: true));
        var v4 = await JudgedAsync(client, "main");
        Assert.Equal("regression", v4.Verdicts.Single(v => v.Subject == "bug").Verdict);
        var back = await BugAsync(client, bugId);
        Assert.Equal("known", back.State);
        Assert.Null(back.FixedCommit);
        Assert.Contains(c4, back.Commits);
    }

    private async Task<string> CommitAsync(string file, string content, ScriptedKernel kernel)
    {
        var commit = (await _repo.CommitAsync(new Dictionary<string, string> { [file] = content }, $"{file}: {content}")).Trim();
        _agent.Kernels[commit] = kernel;
        return commit;
    }

    private async Task<RunVerdictsView> JudgedAsync(HttpClient client, string branch) =>
        await Judged.VerdictsAsync(client, (await lab.PushAsync(_repo, branch)).RunId);

    private static async Task<BugView> BugAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<BugDetailView>($"/api/bugs/{id}", LabFixture.Json))!.Bug;
}
