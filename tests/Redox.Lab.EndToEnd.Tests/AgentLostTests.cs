using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// An agent that dies while it holds a job: the job ends as agent-lost (not running forever), its
/// console is kept, and the lab retries it as a new attempt once an agent is back.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class AgentLostTests(LabFixture lab)
{
    [Fact]
    public async Task AgentKilledDuringJob_LeaseExpires_AgentLostThenRetriedOnReturn()
    {
        // A build that runs long enough for the agent to be killed while it holds the job, and then
        // fails (it produces no image), so the retry ends quickly on its own.
        var commit = lab.Commit("pipelines/slow-build.yaml", """
            name: slow-build
            build:
              commands: ["echo building slowly; sleep 15"]
              artifacts: { image: out/never-built.bin }
            """, "a slow build");
        var restarted = false;
        try
        {
            var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/slow-build.yaml"));
            await WaitForJobAsync(pushed.RunId, j => j.AssignedAt is not null, console: "building slowly");
            lab.Agent.Kill();

            var lost = await WaitForJobAsync(pushed.RunId, j => j.Attempt == 1 && j.Outcome == Outcome.AgentLost);
            Assert.Equal(OutcomeKind.Infrastructure, lost.Outcome.Kind());
            Assert.Contains(await lab.GetConsoleAsync(lost.Id), l => l.Text.Contains("building slowly", StringComparison.Ordinal));
            var waiting = await lab.GetRunAsync(pushed.RunId);
            Assert.Equal(Outcome.Pending, waiting.Outcome);
            Assert.Contains(waiting.Jobs, j => j.Attempt == 2 && j.Outcome == Outcome.Pending);

            lab.StartAgent("e2e-agent");
            restarted = true;
            var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(2));

            Assert.Equal(Outcome.BuildFailed, run.Outcome);
            Assert.Equal([(1, Outcome.AgentLost), (2, Outcome.BuildFailed)], run.Jobs.Select(j => (j.Attempt, j.Outcome)));
        }
        finally
        {
            if (!restarted)
            {
                lab.StartAgent("e2e-agent");
            }
        }
    }

    [Fact]
    public async Task AgentKilledDuringBoot_ItsQemuDiesWithItBeforeTheAgentIsBack()
    {
        // A kernel that prints a line and then halts for good: QEMU runs until something stops it.
        lab.Commit("foreign/hang-kernel.S", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Assets", "replay-kernel.S")), "a halting kernel");
        lab.Commit("foreign/hang.txt", "hang-kernel: halted for good\n", "its console");
        var commit = lab.Commit("pipelines/hang.yaml", """
            name: hang
            build:
              commands: ["cp foreign/hang.txt foreign/console.txt && as --32 -o foreign/hang.o foreign/hang-kernel.S && ld -m elf_i386 -Ttext 0x100000 -e start -o foreign/hang.elf foreign/hang.o"]
              artifacts: { image: foreign/hang.elf }
            boot: { timeout: 10m, silence: 10m }
            """, "a pipeline whose boot never ends");
        var restarted = false;
        try
        {
            var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/hang.yaml"));
            await WaitForJobAsync(pushed.RunId, j => j.AssignedAt is not null, console: "hang-kernel: halted for good");
            var workDir = lab.AgentStateDir("e2e-agent");
            var qemu = QemuUnder(workDir);
            Assert.True(qemu.Count > 0, $"no QEMU process of the agent under {workDir}");

            // SIGKILL to the agent alone: nothing of the agent runs after this to stop its machine.
            lab.Agent.KillProcessOnly();
            // The user does not want the hanging boot again: cancel it, so the restarted agent gets no retry.
            (await lab.Http.PostAsync($"/api/runs/{pushed.RunId}/cancel", null)).EnsureSuccessStatusCode();

            // The kernel gives QEMU its parent-death signal (setpriv --pdeathsig): it is gone before any agent starts.
            var until = DateTime.UtcNow.AddMinutes(1);
            while (qemu.Any(Alive) && DateTime.UtcNow < until) await Task.Delay(200);
            Assert.False(qemu.Any(Alive), $"QEMU {string.Join(", ", qemu)} outlived its SIGKILLed agent");

            lab.StartAgent("e2e-agent");
            restarted = true;
            var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(2));
            Assert.Equal(Outcome.Cancelled, run.Outcome);
        }
        finally
        {
            if (!restarted) lab.StartAgent("e2e-agent");
        }
    }

    /// <summary>QEMU processes whose command line names <paramref name="dir"/> (the agent's work directory).</summary>
    private static List<int> QemuUnder(string dir) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Alive(pid))
            .Where(pid =>
            {
                try
                {
                    var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                    return cmdline.StartsWith("qemu-system-", StringComparison.Ordinal) && cmdline.Contains(dir, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .ToList();

    /// <summary>Running: the process exists and is not a zombie (a killed QEMU reparented to an init that has not reaped it yet).</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task<JobView> WaitForJobAsync(Guid runId, Func<JobView, bool> condition, string? console = null)
    {
        var until = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < until)
        {
            var run = await lab.GetRunAsync(runId);
            foreach (var job in run.Jobs.Where(condition))
            {
                if (console is null || (await lab.GetConsoleAsync(job.Id)).Any(l => l.Text.Contains(console, StringComparison.Ordinal)))
                {
                    return job;
                }
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"run {runId}: no job reached the expected state\n{lab.Diagnostics()}");
    }
}
