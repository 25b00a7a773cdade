using System.Diagnostics;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Xunit;
using Xunit.Abstractions;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// Issue 10: a pushed branch's build is hostile. The repository is registered untrusted, so the pipeline (and its
/// <c>sh build.sh</c> command) comes from the default branch, but <c>build.sh</c> is the branch's own: it tries to read
/// the agent's token, the enrolment secret and the database password, to find them in its environment, to reach the
/// server and the database over loopback, to write outside its checkout and to leave a daemon. The real server,
/// the real agent and the real bubblewrap sandbox; no boot (the build fails, as the script ends with exit 1).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class HostileBuildTests(LabFixture lab, ITestOutputHelper output)
{
    private const string RepoName = "e2e-hostile";
    private const string Pipeline = "pipelines/hostile.yaml";

    [Fact]
    public async Task PushHostileBranch_EveryAttackFailsIsRecordedAndAgentUnharmed()
    {
        var origin = CreateRepository();
        await lab.RegisterRepositoryAsync(new RepositoryView(RepoName, origin, "main", [Pipeline], false, ["*"]));
        var state = lab.AgentStateDir("e2e-agent");
        var tokensBefore = await EnrolledTokensAsync(state);
        var cs = new NpgsqlConnectionStringBuilder(lab.ConnectionString);
        var serverPort = new Uri(lab.ServerUrl).Port;
        var daemon = $"hd-{Guid.NewGuid():N}"[..11];
        var planted = new[]
        {
            Path.Combine(state, "pwned"), Path.Combine(lab.WorkDir, "pwned"), Path.Combine(origin, "pwned"),
            $"/tmp/hostile-{daemon}", "/usr/local/bin/" + daemon,
        };
        // Each must print FAILED: it found or reached nothing.
        var attacks = new Dictionary<string, string>
        {
            ["read-token"] = $"cat {state}/tokens/*.json",
            ["list-agent-state"] = $"ls {state}/tokens {state}/repos",
            ["read-enrolment-secret-file"] = $"cat {lab.SecretFile}",
            ["read-db-password-file"] = $"cat {cs.Passfile}",
            ["env-has-secrets"] = "env | grep -i -e secret -e token -e connectionstrings -e passfile -e agent__ -e lab__",
            ["proc-environ-has-secrets"] = "cat /proc/[0-9]*/environ | tr '\\0' '\\n' | grep -i -e secret -e connectionstrings -e agent__",
            ["reach-server"] = $"curl -sS -m 10 -o /dev/null http://127.0.0.1:{serverPort}/healthz",
            ["reach-database"] = $"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{cs.Port}'",
            ["write-system"] = $"echo pwned > {planted[4]}",
        };
        // These may "succeed" inside the sandbox (its private /tmp, its own root): what counts is that no host file appears.
        var writes = new Dictionary<string, string>
        {
            ["write-agent-state"] = $"echo pwned > {planted[0]}",
            ["write-lab-files"] = $"echo pwned > {planted[1]}",
            ["write-origin-repository"] = $"echo pwned > {planted[2]}",
            ["write-host-tmp"] = $"echo pwned > {planted[3]}",
        };
        var script = "#!/bin/sh\n"
            + "try() { name=$1; shift; if sh -c \"$*\" >/tmp/out 2>&1; then echo \"ATTACK $name: SUCCEEDED\"; else echo \"ATTACK $name: FAILED\"; fi; head -c 300 /tmp/out | sed 's/^/    /'; }\n"
            + string.Concat(attacks.Concat(writes).Select(a => $"try {a.Key} \"{a.Value.Replace("\"", "\\\"", StringComparison.Ordinal)}\"\n"))
            // Two daemons (setsid, double fork), and the build waits until both run before it ends.
            + $"cp /bin/sleep ./{daemon}\n"
            + $"setsid ./{daemon} 600 </dev/null >/dev/null 2>&1 &\n"
            + $"( ( ./{daemon} 601 </dev/null >/dev/null 2>&1 & ) & )\n"
            + $"n=0; for i in $(seq 40); do n=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -cx {daemon}); [ \"$n\" -ge 2 ] && break; sleep 0.5; done\n"
            + "echo \"ATTACK daemon: $n running\"\n"
            + "exit 1\n";
        Git(origin, "checkout", "-q", "-b", "evil");
        File.WriteAllText(Path.Combine(origin, "build.sh"), script);
        Git(origin, "commit", "-q", "-am", "a build that attacks the lab");
        Git(origin, "checkout", "-q", "main");

        var pushed = await lab.PushAsync(new PushRequest(origin, Branch: "evil", Pipeline: Pipeline));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(5));

        var job = Assert.Single(run.Jobs);
        Assert.True(run.Outcome == Outcome.BuildFailed, $"{run.Outcome}: {job.Detail}\n{lab.Diagnostics()}");
        Assert.Empty(job.Boots);
        var console = (await lab.GetConsoleAsync(job.Id)).Select(l => l.Text).ToList();
        var text = string.Join('\n', console);
        output.WriteLine(text); // the attack table of the note: what each attempt got
        // The run records every attempt, and every attempt failed.
        foreach (var name in attacks.Keys)
            Assert.True(console.Contains($"ATTACK {name}: FAILED"), $"{name} did not fail:\n{text}");
        Assert.All(writes.Keys, name => Assert.Contains(console, l => l.StartsWith($"ATTACK {name}: ", StringComparison.Ordinal)));
        Assert.Contains("ATTACK daemon: 2 running", console);
        Assert.Contains(console, l => l.Contains("not registered trusted", StringComparison.Ordinal));
        // Nothing secret reached the console anyone with read access sees.
        Assert.DoesNotContain(LabFixture.Secret, text, StringComparison.Ordinal);
        Assert.All(tokensBefore.Values, token => Assert.DoesNotContain(Json(token), text, StringComparison.Ordinal));
        Assert.DoesNotContain(File.ReadAllText(cs.Passfile!).Trim().Split(':')[^1], text, StringComparison.Ordinal);
        // Nothing was written outside the checkout, nothing of the build is running, and the agent is as it was.
        Assert.All(planted, p => Assert.False(File.Exists(p), $"{p} was written"));
        Assert.Empty(Processes(daemon));
        Assert.False(lab.Agent.HasExited, lab.Agent.Tail());
        Assert.Equal(tokensBefore, Tokens(state));

        // ... and it still takes the next job: the default branch's harmless build.
        var next = await lab.PushAsync(new PushRequest(origin, Branch: "main", Pipeline: Pipeline));
        var after = await lab.WaitForRunAsync(next.RunId, TimeSpan.FromMinutes(5));
        var nextJob = Assert.Single(after.Jobs);
        Assert.True(after.Outcome == Outcome.BuildFailed, $"{after.Outcome}: {nextJob.Detail}");
        Assert.Contains(await lab.GetConsoleAsync(nextJob.Id), l => l.Text == "harmless build");
    }

    private string CreateRepository()
    {
        var dir = Path.Combine(lab.WorkDir, "hostile-origin");
        Directory.CreateDirectory(Path.Combine(dir, "pipelines"));
        File.WriteAllText(Path.Combine(dir, Pipeline), """
            name: hostile
            build:
              commands: ["sh build.sh"]
              network: true          # asked for, but the repository is not trusted
              artifacts:
                image: out/kernel.bin
              timeout: 3m
            boot:
              timeout: 30s
            """);
        File.WriteAllText(Path.Combine(dir, "build.sh"), "echo harmless build\nexit 3\n");
        Git(dir, "init", "-q", "-b", "main");
        Git(dir, "-c", "user.email=e2e@redox-lab.local", "-c", "user.name=e2e", "add", "-A");
        Git(dir, "-c", "user.email=e2e@redox-lab.local", "-c", "user.name=e2e", "commit", "-q", "-m", "harmless default branch");
        Git(dir, "config", "user.email", "e2e@redox-lab.local");
        Git(dir, "config", "user.name", "e2e");
        return dir;
    }

    /// <summary>The agent's token files once it has enrolled (it starts with the fixture and may still be enrolling).</summary>
    private async Task<Dictionary<string, string>> EnrolledTokensAsync(string state)
    {
        for (var until = DateTime.UtcNow.AddMinutes(2); DateTime.UtcNow < until; await Task.Delay(250))
        {
            if (Tokens(state) is { Count: > 0 } tokens)
                return tokens;
        }

        throw new TimeoutException($"the agent wrote no token under {state}\n{lab.Diagnostics()}");
    }

    private static Dictionary<string, string> Tokens(string state) =>
        Directory.Exists(Path.Combine(state, "tokens"))
            ? Directory.EnumerateFiles(Path.Combine(state, "tokens"), "*.json").ToDictionary(f => f, File.ReadAllText)
            : [];

    /// <summary>The token inside a token file (<c>{"Token": "..."}</c>).</summary>
    private static string Json(string tokenFile) =>
        System.Text.Json.JsonDocument.Parse(tokenFile).RootElement.GetProperty("Token").GetString()!;

    private static List<string> Processes(string comm) =>
        Directory.EnumerateDirectories("/proc")
            .Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Where(d =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(d, "comm")).Trim() == comm;
                }
                catch (IOException)
                {
                    return false; // the process ended while we looked
                }
            })
            .ToList();

    private static void Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', args)}: {error}");
    }
}
