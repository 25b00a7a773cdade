using System.Diagnostics;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// The lab judges, end to end: real server, agent, QEMU and the reference kernel, in a repository of its own
/// (a clone of the test repository) whose history is the issue's: a base commit; a commit making the heavy
/// syscall prologue the default (a performance regression on syscall.enosys.cycles); a commit making the double
/// free the default (one correctness regression: one bug for all its boots); and a branch of 8 commits off the
/// base whose 5th turns the heavy prologue on (a regression against the merge base, bisected to the 5th).
/// Each commit changes only the kernel Makefile's default for BUG (or a note), as a developer's commit would.
/// Boots are kept short (fewer bootstrap iterations, a 100 ms TLB stress, 2 CPUs) and 4 per job.
/// </summary>
/// <remarks>
/// The jobs go to a machine of their own, a QEMU with <c>-icount</c> (tag <c>icount</c>), on a second agent:
/// under plain TCG the guest's TSC is host time, so on this shared, loaded host a syscall's cycles swing by a
/// factor of ten between boots (bench/verdict measured a spread of 637..5689 cycles for one kernel) and four
/// boots per side cannot tell the heavy prologue (1.9x on a quiet host) from the load. With -icount the TSC
/// follows the guest's instructions, which is what this test is about. The tag keeps other tests' pipelines off
/// the machine, and its agent stops at the end.
/// </remarks>
[Collection(LabCollection.Name)]
public sealed class VerdictsTests(LabFixture lab) : IDisposable
{
    private ChildProcess? _icountAgent;

    /// <summary>
    /// Stops the icount agent and withdraws its machine (an empty machine list under the agent's own token):
    /// a stopped agent's machine would otherwise still match the untagged pipelines of later tests in the
    /// collection, and their jobs for it would wait for ever.
    /// </summary>
    public void Dispose()
    {
        if (_icountAgent is null) return;
        _icountAgent.Dispose();
        var tokens = Path.Combine(IcountStateDir, "tokens");
        if (!Directory.Exists(tokens)) return;
        foreach (var file in Directory.EnumerateFiles(tokens, "*.json"))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var token = doc.RootElement.GetProperty("Token").GetString();
            using var http = new HttpClient { BaseAddress = new Uri(lab.ServerUrl), Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = http.PutAsJsonAsync("/api/agent/machines", new MachinesUpdate([]), LabApi.Json).GetAwaiter().GetResult();
            response.EnsureSuccessStatusCode();
        }
    }

    private string IcountStateDir => Path.Combine(Path.GetDirectoryName(lab.TestRepo)!, "agent-icount");

    private const string PipelinePath = "pipelines/verdicts.yaml";

    private const string Pipeline = """
        # The reference kernel, judged: short boots, 4 per job; the syscall latency needs a 10% shift to count.
        name: verdicts
        build:
          commands:
            - make -C kernel
          env: { BOOTSTRAP_ITERS: "1024", BOOTSTRAP_ROUNDS: "3", CFLAGS_EXTRA: "-DTLB_STRESS_MS=100" }
          artifacts:
            image: kernel/build/kernel.bin
            elf: kernel/build/kernel.elf
            modules: [kernel/build/initfs.img]
          timeout: 10m
        boot:
          count: 4
          timeout: 240s
          machine: { tags: [icount], cpus: 2, memory: 256M }
        job:
          timeout: 40m
        console:
          panic: ['KERNEL PANIC']
        judge:
          alpha: 5%
          metrics:
            syscall.enosys.cycles: { threshold: 10% }
        """;

    [Fact]
    public async Task History_HeavyPrologueDoubleFreeAndBranch_RegressionBugAndBisectionToFifthCommit()
    {
        await StartIcountAgentAsync();
        var repo = CloneTestRepo();
        await lab.RegisterRepositoryAsync(new RepositoryView("verdicts-" + Guid.NewGuid().ToString("N")[..8], repo, "main", [PipelinePath], true, ["*"]));
        var baseCommit = Commit(repo, PipelinePath, Pipeline, "judged pipeline");

        // 1. The base, then the heavy prologue made the default on main: a performance regression.
        await PushAndWaitAsync(repo, "main");
        var heavy = Commit(repo, "kernel/Makefile", WithBugDefault(repo, "heavy-prologue"), "syscall: heavy prologue by default");
        var heavyRun = await PushAndWaitAsync(repo, "main");
        var v1 = await JudgedAsync(heavyRun);
        Assert.True(baseCommit == v1.BaselineCommit, $"baseline {v1.BaselineCommit ?? "none"}: {v1.BaselineReason}");
        var syscall = v1.Verdicts.Single(v => v.Name == "syscall.enosys.cycles");
        Assert.True(syscall.Verdict == "regression", Describe(v1));
        Assert.True(syscall.RelativeShift > 0.10, Describe(v1));
        Assert.NotNull(syscall.ShiftLow);
        Assert.True(syscall.ShiftLow > 0, "the whole interval is a slowdown");
        Assert.Equal((4, 4), (syscall.BaselineBoots, syscall.CandidateBoots));

        // 2. The double free made the default: one correctness regression, one bug deduplicated over the boots.
        Commit(repo, "kernel/Makefile", WithBugDefault(repo, "double-free"), "mm: double free by default");
        var freeRun = await PushAndWaitAsync(repo, "main");
        var v2 = await JudgedAsync(freeRun);
        Assert.Equal(heavy, v2.BaselineCommit);
        var bugVerdict = Assert.Single(v2.Verdicts, v => v.Subject == "bug");
        Assert.Equal("regression", bugVerdict.Verdict);
        var bug = (await lab.Http.GetFromJsonAsync<BugDetailView>($"/api/bugs/{bugVerdict.BugId}", LabApi.Json))!;
        Assert.Equal("double-free", bug.Bug.Kind);
        Assert.Contains("p2buddy_free", bug.Bug.Title, StringComparison.Ordinal);
        Assert.True(bug.Bug.Count >= 4, $"one finding per boot at least: {bug.Bug.Count}");
        Assert.Equal(4, bug.Sightings.Select(s => (s.JobId, s.Boot)).Distinct().Count());
        Assert.Single(bug.Bug.Commits);

        // 3. A branch off the base: 8 commits, the 5th turns the heavy prologue on. Regression against the merge
        //    base, bisected on the same machine to the 5th commit.
        Git(repo, "checkout", "-q", "-b", "topic", baseCommit);
        var topic = new List<string>();
        for (var i = 1; i <= 8; i++)
        {
            topic.Add(i == 5
                ? Commit(repo, "kernel/Makefile", WithBugDefault(repo, "heavy-prologue"), "topic 5: heavy prologue")
                : Commit(repo, $"notes/topic-{i}.txt", $"step {i}\n", $"topic {i}"));
        }
        var topicRun = await PushAndWaitAsync(repo, "topic");
        var bisection = await BisectedAsync(topicRun);
        var v3 = await JudgedAsync(topicRun);
        Assert.Equal(baseCommit, v3.BaselineCommit);
        Assert.StartsWith("merge base of topic with main", v3.BaselineReason, StringComparison.Ordinal);
        Assert.Equal("regression", v3.Verdicts.Single(v => v.Name == "syscall.enosys.cycles").Verdict);
        Assert.True(bisection.State == "done", string.Join("\n", bisection.Evidence));
        Assert.Equal(topic[4], bisection.FirstBadCommit);
        Assert.Equal(bisection.Steps, bisection.Evidence.Count);

        // 4. Compare any two runs: the heavy prologue's run against the base's.
        var runs = (await lab.Http.GetFromJsonAsync<List<RunSummary>>("/api/runs?limit=1000", LabApi.Json))!;
        var baseRun = runs.Single(r => r.Commit == baseCommit && r.Pipeline == PipelinePath && r.Branch == "main").Id;
        var compare = (await lab.Http.GetFromJsonAsync<CompareView>($"/api/compare?a={baseRun}&b={heavyRun}", LabApi.Json))!;
        Assert.True(compare.HasRegression);
    }

    /// <summary>
    /// Starts the icount agent and waits until its machine is enrolled: a push before that finds no machine with the
    /// tag and its run ends without jobs (so the first push, the baseline, would have no boots).
    /// </summary>
    private async Task StartIcountAgentAsync()
    {
        var configuration =
#if DEBUG
            "Debug";
#else
            "Release";
#endif
        var dll = Path.Combine(LabFixture.RepoRoot, "lab-agent", "bin", configuration, "net10.0", "Redox.Lab.Agent.dll");
        _icountAgent = ChildProcess.StartDll("icount-agent", dll, [], new Dictionary<string, string>
        {
            ["Agent__Server"] = lab.ServerUrl,
            ["Agent__EnrolmentSecretFile"] = lab.SecretFile,
            ["Agent__Name"] = "e2e-icount",
            ["Agent__StateDir"] = IcountStateDir,
            ["Agent__Machines__0__Name"] = "icount-0",
            ["Agent__Machines__0__Tags__0"] = "icount",
            ["Agent__Machines__0__Cpus"] = "2",
            ["Agent__Machines__0__ExtraArgs__0"] = "-icount",
            ["Agent__Machines__0__ExtraArgs__1"] = "shift=0,sleep=off",
        });
        await PollAsync(async () => (await lab.Http.GetFromJsonAsync<List<MachineView>>("/api/machines", LabApi.Json))!
            .FirstOrDefault(m => m.Agent == "e2e-icount" && m.Name == "icount-0" && m.Active), TimeSpan.FromMinutes(3));
    }

    private static string Describe(RunVerdictsView v) =>
        string.Join("\n", v.Verdicts.Select(x => $"{x.Subject} {x.Name}: {x.Verdict} {x.BaselineMedian} -> {x.CandidateMedian} p={x.P} [{x.ShiftLow}, {x.ShiftHigh}] {x.Detail}"));

    private async Task<Guid> PushAndWaitAsync(string repo, string branch)
    {
        var pushed = await lab.PushAsync(new PushRequest(repo, Branch: branch, Pipeline: PipelinePath));
        await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(15));
        return pushed.RunId;
    }

    private async Task<RunVerdictsView> JudgedAsync(Guid runId) =>
        await PollAsync(async () => await lab.Http.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", LabApi.Json) is { Judged: true } v ? v : null, TimeSpan.FromMinutes(30));

    private async Task<BisectionView> BisectedAsync(Guid runId) =>
        await PollAsync(async () => (await lab.Http.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", LabApi.Json))?
            .Bisections.FirstOrDefault(b => b.State != "running"), TimeSpan.FromMinutes(40));

    private Task<T> PollAsync<T>(Func<Task<T?>> probe, TimeSpan timeout)
        where T : class => lab.PollAsync(probe, timeout, TimeSpan.FromSeconds(1), () => _icountAgent?.Tail(60) ?? "");

    /// <summary>The kernel Makefile of the checked-out commit with another default for BUG.</summary>
    private static string WithBugDefault(string repo, string bug)
    {
        var makefile = File.ReadAllText(Path.Combine(repo, "kernel/Makefile"));
        var lines = makefile.Split('\n');
        var at = Array.FindIndex(lines, l => l.StartsWith("BUG ", StringComparison.Ordinal) && l.Contains("?=", StringComparison.Ordinal));
        Assert.True(at >= 0, "kernel/Makefile has a BUG ?= default");
        lines[at] = $"BUG       ?= {bug}";
        return string.Join('\n', lines);
    }

    private string CloneTestRepo()
    {
        var path = Path.Combine(Path.GetDirectoryName(lab.TestRepo)!, "verdicts-repo");
        Run("git", "clone", "-q", lab.TestRepo, path);
        Git(path, "config", "user.email", "e2e@redox-lab.local");
        Git(path, "config", "user.name", "e2e");
        return path;
    }

    private static string Commit(string repo, string file, string content, string message)
    {
        var full = Path.Combine(repo, file);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        Git(repo, "add", "-A");
        Git(repo, "commit", "-q", "-m", message);
        return Git(repo, "rev-parse", "HEAD").Trim();
    }

    private static string Git(string repo, params string[] args) => Run("git", ["-C", repo, .. args]);

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {stderr.Result}");
        return stdout.Result;
    }
}
