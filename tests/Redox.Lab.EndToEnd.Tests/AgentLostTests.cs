using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>An agent that dies while it holds a job: the job ends as agent-lost, not running forever.</summary>
[Collection(LabCollection.Name)]
public sealed class AgentLostTests(LabFixture lab)
{
    [Fact]
    public async Task AgentKilledDuringJob_LeaseExpires_JobFailedAsAgentLost()
    {
        // A build that takes long enough for the agent to be killed while it holds the job.
        var commit = lab.Commit("pipelines/slow-build.yaml", """
            name: slow-build
            build:
              commands: ["echo building slowly; sleep 120"]
              artifacts: { image: kernel/build/kernel.bin }
            """, "a slow build");
        try
        {
            var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/slow-build.yaml"));
            await WaitUntilAssignedAsync(pushed.RunId);
            lab.Agent.Kill();

            var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(2));

            Assert.Equal(Outcome.AgentLost, run.Outcome);
            Assert.Equal(OutcomeKind.Infrastructure, run.Outcome.Kind());
            Assert.Contains(await lab.GetConsoleAsync(run.Jobs[0].Id), l => l.Text.Contains("building slowly", StringComparison.Ordinal));
        }
        finally
        {
            lab.StartAgent("e2e-agent");
        }
    }

    private async Task WaitUntilAssignedAsync(Guid runId)
    {
        var until = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < until)
        {
            var run = await lab.GetRunAsync(runId);
            var job = run.Jobs.FirstOrDefault();
            if (job?.AssignedAt is not null && (await lab.GetConsoleAsync(job.Id)).Count > 0)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the job was never assigned\n" + lab.Diagnostics());
    }
}
