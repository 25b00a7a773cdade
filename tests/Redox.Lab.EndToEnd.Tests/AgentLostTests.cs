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
