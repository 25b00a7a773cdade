using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

[Collection(LabCollection.Name)]
public sealed class ScheduleStalledRunsJobTests(LabFixture lab)
{
    [Fact]
    public async Task RunAsync_PendingRunWithoutJobs_SchedulesItAgain()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        await lab.EnrolAsync("stalled-" + tag, ["x86_64", tag]);
        var runId = await lab.InsertRunAsync(Repo.ReferencePipelineWithTag(tag), DateTimeOffset.UtcNow - 2 * ScheduleStalledRunsJob.StalledAfter);

        await using (var scope = lab.Scope())
            Assert.Contains(runId, await scope.ServiceProvider.GetRequiredService<ScheduleStalledRunsJob>().RunAsync(CancellationToken.None));

        var run = await lab.WaitForRunAsync(runId, r => r.Jobs.Count == Repo.ReferenceVariants.Count);
        Assert.All(run.Jobs, j => Assert.Equal(1, j.Attempt));
    }

    [Fact]
    public async Task RunAsync_RecentPendingRun_LeftToItsOwnScheduling()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        await lab.EnrolAsync("recent-" + tag, ["x86_64", tag]);
        var runId = await lab.InsertRunAsync(Repo.ReferencePipelineWithTag(tag), DateTimeOffset.UtcNow);

        IReadOnlyList<Guid> scheduled;
        await using (var scope = lab.Scope())
            scheduled = await scope.ServiceProvider.GetRequiredService<ScheduleStalledRunsJob>().RunAsync(CancellationToken.None);

        Assert.DoesNotContain(runId, scheduled);
    }
}
