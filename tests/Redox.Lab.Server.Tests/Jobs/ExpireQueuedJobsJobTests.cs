using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

/// <summary>A dead agent's machines get no jobs, and the jobs that wait for it expire (issue 10: cancel and expiry).</summary>
[Collection(LabCollection.Name)]
public sealed class ExpireQueuedJobsJobTests(LabFixture lab)
{
    private async Task SetLastSeenAsync(Guid agentId, DateTimeOffset lastSeen)
    {
        await using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
        await db.Agents.Where(a => a.Id == agentId).ExecuteUpdateAsync(s => s.SetProperty(a => a.LastSeen, lastSeen));
    }

    /// <summary>Runs the job as the recurring job would at <paramref name="now"/>.</summary>
    private async Task<int> ExpireAsync(DateTimeOffset now)
    {
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LabDbContext>();
        var job = new ExpireQueuedJobsJob(db, new RunRollup(db), new FakeTimeProvider(now), sp.GetRequiredService<IOptions<LabOptions>>(),
            sp.GetRequiredService<ILogger<ExpireQueuedJobsJob>>());
        return await job.RunAsync(CancellationToken.None);
    }

    [Fact]
    public async Task CreateJobs_OneOfTwoAgentsOffline_JobsOnlyForTheOnlineMachine()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (deadId, _) = await lab.EnrolAsync("dead-" + tag, ["x86_64", tag]);
        var (_, alive) = await lab.EnrolAsync("alive-" + tag, ["x86_64", tag]);
        await SetLastSeenAsync(deadId, DateTimeOffset.UtcNow.AddHours(-1));

        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));

        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count > 0, timeoutMs: 60_000);
        Assert.All(run.Jobs, j => Assert.StartsWith("alive-", j.Agent, StringComparison.Ordinal));
        Assert.Equal(Repo.ReferenceVariants.Count, run.Jobs.Count);
        Assert.NotNull(await LabFixture.NextJobAsync(alive, 10));
    }

    [Fact]
    public async Task Expire_OnlyMachinesAgentDead_JobEndsInfraErrorSayingSoNotRetried()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (agentId, _) = await lab.EnrolAsync("gone-" + tag, ["x86_64", tag]);
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        // Queued while the agent was alive; then it stopped calling.
        var queued = await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count == Repo.ReferenceVariants.Count, timeoutMs: 60_000);
        var expiry = lab.Services.GetRequiredService<IOptions<LabOptions>>().Value.QueuedJobExpiry;
        var lastSeen = queued.Jobs.Max(j => j.CreatedAt);
        await SetLastSeenAsync(agentId, lastSeen);

        // Not yet: the agent was seen less than the expiry ago. (Other tests' leftover queued jobs may expire here.)
        await ExpireAsync(lastSeen + expiry - TimeSpan.FromSeconds(1));
        Assert.All((await lab.RunAsync(pushed.RunId)).Jobs, j => Assert.Equal(Outcome.Pending, j.Outcome));
        Assert.True(await ExpireAsync(lastSeen + expiry + TimeSpan.FromSeconds(1)) >= queued.Jobs.Count);

        var run = await lab.RunAsync(pushed.RunId);
        Assert.Equal(Outcome.InfraError, run.Outcome);
        Assert.NotNull(run.EndedAt);
        Assert.Equal(queued.Jobs.Count, run.Jobs.Count);
        Assert.All(run.Jobs, j => Assert.StartsWith($"expired: no agent able to run it was seen for {expiry.TotalMinutes} min (agent gone-{tag} last seen ", j.Detail, StringComparison.Ordinal));
        await ExpireAsync(lastSeen + expiry + TimeSpan.FromSeconds(2));
        Assert.Equal(queued.Jobs.Count, (await lab.RunAsync(pushed.RunId)).Jobs.Count);
    }

    [Fact]
    public async Task Expire_AgentAlive_OldQueuedJobStays()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (agentId, agent) = await lab.EnrolAsync("busy-" + tag, ["x86_64", tag]);
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var queued = await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count == Repo.ReferenceVariants.Count, timeoutMs: 60_000);
        var expiry = lab.Services.GetRequiredService<IOptions<LabOptions>>().Value.QueuedJobExpiry;
        // An hour later the agent still polls (busy with other work), so its queue waits.
        var later = queued.Jobs.Max(j => j.CreatedAt) + expiry + TimeSpan.FromHours(1);
        await SetLastSeenAsync(agentId, later - TimeSpan.FromSeconds(5));

        await ExpireAsync(later);

        Assert.All((await lab.RunAsync(pushed.RunId)).Jobs, j => Assert.Equal(Outcome.Pending, j.Outcome));
        Assert.NotNull(await LabFixture.NextJobAsync(agent, 10));
    }
}
