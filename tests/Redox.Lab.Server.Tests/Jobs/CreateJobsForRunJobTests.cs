using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

[Collection(LabCollection.Name)]
public sealed class CreateJobsForRunJobTests(LabFixture lab)
{
    [Fact]
    public async Task RunAsync_StoredPipelineNoLongerLoads_RunEndsAsInfraErrorInsteadOfRetrying()
    {
        var runId = await lab.InsertRunAsync("name: x\nbuild: [not, a, map]\n", DateTimeOffset.UtcNow);

        await using (var scope = lab.Scope())
            await scope.ServiceProvider.GetRequiredService<CreateJobsForRunJob>().RunAsync(runId, CancellationToken.None);

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.InfraError, run.Outcome);
        Assert.NotNull(run.EndedAt);
        Assert.StartsWith("the pipeline no longer loads: ", run.Detail, StringComparison.Ordinal);
        Assert.Empty(run.Jobs);
    }
}
