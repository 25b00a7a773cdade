using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// Issue 14's "done when", as a kernel developer meets it: a self-hosted bare repository with
/// scripts/git-hooks/post-receive installed as its header says, registered with `lab repo add` and `lab repo hook`
/// (statuses to a GitLab commit status API: a local HTTP server that records the requests), a real `git push`,
/// `lab watch` and `lab logs --follow` following the run the hook started, to its end.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ForgeHookTests(LabFixture lab)
{
    private const string Repository = "hooked-kernel";
    private const string Project = "redox/kernel";
    private const string Pipeline = "pipelines/hook-e2e.yaml";

    private static readonly string[] Stages = ["entry", "long-mode", "serial", "tsc", "mm", "smp", "bootstrap", "kmain-done"];

    [Fact]
    public async Task GitPush_PostReceiveHookInstalled_WatchedToTheEndAndStatusesPendingRunningSuccess()
    {
        await using var forge = new RecordingForge();
        var dir = Directory.CreateDirectory(Path.Combine(lab.WorkDir, "hooked")).FullName;

        // The lab command line's configuration, as README's "The lab command line" describes: a config file naming the
        // server and the token's file (mode 600); no token in an argument or an environment variable.
        var config = Path.Combine(dir, "lab-config");
        File.WriteAllText(config, $"server = {lab.ServerUrl}\ntoken-file = {lab.AdminTokenFile}\n");

        // The self-hosted repository, its hook installed as scripts/git-hooks/post-receive's header says.
        var bare = Path.Combine(dir, "kernel.git");
        Run("git", dir, "init", "-q", "--bare", "-b", "main", bare);
        Run("cp", dir, Path.Combine(LabFixture.RepoRoot, "scripts/git-hooks/post-receive"), Path.Combine(bare, "hooks/post-receive"));
        var hookSecret = WriteSecret(Path.Combine(dir, "kernel.hook-secret"), "hook-" + Guid.NewGuid().ToString("N"));
        var statusToken = WriteSecret(Path.Combine(dir, "gitlab-status-token"), "glpat-" + Guid.NewGuid().ToString("N"));
        Run("git", bare, "config", "lab.server", lab.ServerUrl);
        Run("git", bare, "config", "lab.repository", Repository);
        Run("git", bare, "config", "lab.secretFile", hookSecret.Path);

        await LabAsync(config, "repo", "add", "--name", Repository, "--url", bare, "--branch", "main", "--trusted");
        await LabAsync(config, "repo", "hook", Repository, "--forge", "git", "--project", Project, "--pipelines", Pipeline,
            "--branches", "main", "--secret-file", hookSecret.Path, "--status-api", forge.Url + "/api/v4", "--status-forge", "gitlab",
            "--status-token-file", statusToken.Path);

        // A developer's clone: the reference kernel and a pipeline of one job and one boot, pushed for real.
        var clone = Path.Combine(dir, "clone");
        Run("git", dir, "clone", "-q", bare, clone);
        foreach (var folder in new[] { "kernel", "bootstrap" })
            LabFixture.CopyTree(Path.Combine(LabFixture.RepoRoot, folder), Path.Combine(clone, folder));
        var reference = File.ReadAllText(Path.Combine(LabFixture.RepoRoot, "pipelines/redox-reference.yaml"));
        Directory.CreateDirectory(Path.Combine(clone, "pipelines"));
        File.WriteAllText(Path.Combine(clone, Pipeline), reference[..reference.IndexOf("\nvariants:", StringComparison.Ordinal)] + "\n");
        Run("git", clone, "-c", "user.email=dev@redox-lab.local", "-c", "user.name=dev", "add", "-A");
        Run("git", clone, "-c", "user.email=dev@redox-lab.local", "-c", "user.name=dev", "commit", "-q", "-m", "kernel with the hook pipeline");
        var head = Run("git", clone, "rev-parse", "HEAD").Trim();
        var pushOutput = Run("git", clone, "push", "origin", "main");

        // The hook showed the pusher the lab's answer: the run it started.
        var started = Regex.Match(pushOutput, @"remote: redox-lab: main: 202 (\{.*\})");
        Assert.True(started.Success, "the hook did not report a started run:\n" + pushOutput + "\n" + lab.Diagnostics());
        var delivery = JsonSerializer.Deserialize<HookDeliveryResult>(started.Groups[1].Value, LabApi.Json)!;
        Assert.Equal("started", delivery.Result);
        var runId = Assert.Single(delivery.Runs);

        // lab watch follows the run from now on, as lab logs --follow does its job's console once the job exists.
        using var watch = StartLab(config, "watch", runId.ToString());
        var run = await PollAsync(async () => await lab.GetRunAsync(runId) is { Jobs.Count: > 0 } r ? r : null, TimeSpan.FromMinutes(5));
        Assert.Equal((Repository, "main", head, Pipeline), (run.Repository, run.Branch, run.Commit, run.Pipeline));
        var jobId = Assert.Single(run.Jobs).Id;
        using var logs = StartLab(config, "logs", jobId.ToString(), "--follow");

        // Generous bounds for a kernel build and a boot under TCG on a shared machine; not timing assertions.
        var watchExit = await watch.WaitAsync(TimeSpan.FromMinutes(20));
        var logsExit = await logs.WaitAsync(TimeSpan.FromMinutes(5));
        run = await lab.GetRunAsync(runId);
        Assert.True(run.Outcome == Outcome.Passed, $"run ended {run.Outcome}: {run.Detail}\n{watch.Output}\n{lab.Diagnostics()}");
        Assert.True(watchExit == 0, $"lab watch exited {watchExit}:\n{watch.Output}");

        // Live: the job was seen before it ended, then its stages as the console showed them, then its end, the run's end
        // and the results with the verdict's headline.
        var lines = watch.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int Line(string pattern) => lines.FindIndex(l => Regex.IsMatch(l, pattern));
        var jobBefore = Line(@"  job default@[^:]+: (queued|running)\b");
        var stageLines = Stages.Select(s => Line($@"    default@\S+ boot 0: stage {Regex.Escape(s)}$")).ToList();
        var bootLine = Line(@"    default@\S+ boot 0: passed\b.*\(\d+ stages, kmain-done at [0-9.]+ ms\)");
        var jobEnded = Line(@"  job default@[^:]+: passed\b");
        var runEnded = Line(@"  run ended: passed\b");
        var results = Line($@"^run {runId}  commit {head[..12]}  main  outcome: passed");
        var verdict = Line(@"^  verdict: ");
        var order = new[] { jobBefore }.Concat(stageLines).Concat([bootLine, jobEnded, runEnded, results, verdict]).ToList();
        Assert.True(order.All(i => i >= 0) && order.SequenceEqual(order.Order()), $"lab watch printed, out of order or missing ({string.Join(",", order)}):\n{watch.Output}");

        // lab logs --follow printed each console line of the job once, to its end marker.
        Assert.True(logsExit == 0, $"lab logs exited {logsExit}:\n{logs.Output}");
        var console = await lab.GetConsoleAsync(jobId);
        var printed = logs.Output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d\d:\d\d:\d\d\.\d{3} \[-?\d+\] ")).ToList();
        Assert.Equal(console.Count, printed.Count);
        Assert.Contains(printed, l => l.Contains("@@LAB end", StringComparison.Ordinal));

        // The forge was told pending, running, then success, in that order, with the summary and the link to the run.
        var statuses = await PollAsync(() => Task.FromResult(forge.Accepted.Count >= 3 ? forge.Accepted : null), TimeSpan.FromMinutes(5));
        Assert.Equal(3, statuses.Count);
        Assert.Equal(["pending", "running", "success"], statuses.Select(s => s.Body.GetProperty("state").GetString()));
        Assert.All(statuses, s =>
        {
            Assert.Equal($"/api/v4/projects/{Uri.EscapeDataString(Project)}/statuses/{head}", s.Path);
            Assert.Equal(statusToken.Value, s.Headers["PRIVATE-TOKEN"]);
            Assert.Equal($"{lab.ServerUrl}/runs/{runId}", s.Body.GetProperty("target_url").GetString());
            Assert.StartsWith("redox-lab/hook-e2e/default@", s.Body.GetProperty("name").GetString(), StringComparison.Ordinal);
        });
        var summary = statuses[2].Body.GetProperty("description").GetString()!;
        var boot = Assert.Single(Assert.Single(run.Jobs).Boots);
        var bootMs = (boot.Stages[^1].KernelNs ?? boot.Stages[^1].HostNs) / 1e6;
        Assert.Equal($"passed, boot {bootMs.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} ms (no baseline), no new bugs", summary);
        var posted = (await lab.Http.GetFromJsonAsync<List<CommitStatusView>>($"/api/runs/{runId}/statuses", LabApi.Json))!;
        Assert.All(posted, s => Assert.NotNull(s.PostedAt));
    }

    private async Task LabAsync(string config, params string[] args)
    {
        using var cli = StartLab(config, args);
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"lab {string.Join(' ', args)} exited {code}:\n{cli.Output}");
    }

    private static ChildProcess StartLab(string config, params string[] args) =>
        ChildProcess.StartDll("lab " + args[0], LabFixture.LabDll, args, new Dictionary<string, string> { ["LAB_CONFIG"] = config });

    private static (string Path, string Value) WriteSecret(string path, string value)
    {
        File.WriteAllText(path, value + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (path, value);
    }

    private Task<T> PollAsync<T>(Func<Task<T?>> probe, TimeSpan timeout)
        where T : class => lab.PollAsync(probe, timeout, TimeSpan.FromMilliseconds(500));

    /// <summary>Runs a program to its end; its output (stdout then stderr: git push prints the hook's lines there).</summary>
    private static string Run(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        var output = stdout.Result + stderr.Result;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {output}");
        return output;
    }
}
