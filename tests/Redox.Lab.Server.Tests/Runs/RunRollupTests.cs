using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Runs;

/// <summary>The roll-up as the jobs of one run end: only the last one waits for the run's lock.</summary>
[Collection(LabCollection.Name)]
public sealed class RunRollupTests(LabFixture lab)
{
    [Fact]
    public async Task RollUpAsync_AnotherJobUnfinished_ReturnsWithoutTheRunLockAndTheLastJobEndsTheRun()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        await lab.EnrolAsync("rollup-" + tag, ["x86_64", tag]);
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count == Repo.ReferenceVariants.Count, timeoutMs: 60_000);
        Assert.True(run.Jobs.Count >= 2);
        var now = DateTimeOffset.UtcNow;

        // Someone holds the run's row (as a job ending elsewhere would) until the first job's roll-up is done.
        await using (var holder = new NpgsqlConnection(lab.ConnectionString))
        {
            await holder.OpenAsync();
            await using var held = await holder.BeginTransactionAsync();
            await using (var lockRun = new NpgsqlCommand("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", holder, held) { Parameters = { new() { Value = run.Id } } })
                await lockRun.ExecuteNonQueryAsync();

            // The upper bound only fails the test: a roll-up that waited for the run's lock would wait until this transaction ends.
            await EndAndRollUpAsync(run.Jobs[0].Id, run.Id, now).WaitAsync(TimeSpan.FromSeconds(60));

            await held.RollbackAsync();
        }
        Assert.Null((await lab.RunAsync(run.Id)).EndedAt);

        foreach (var job in run.Jobs.Skip(1)) await EndAndRollUpAsync(job.Id, run.Id, now);

        var ended = await lab.RunAsync(run.Id);
        Assert.NotNull(ended.EndedAt);
        Assert.Equal(Outcome.Passed, ended.Outcome);
    }

    /// <summary>Ends one job as passed and rolls its run up, in one transaction, as an agent's completion does.</summary>
    private async Task EndAndRollUpAsync(Guid jobId, Guid runId, DateTimeOffset now)
    {
        await using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.State, JobStates.Ended).SetProperty(j => j.Outcome, Outcome.Passed).SetProperty(j => j.EndedAt, now));
        await new RunRollup(db).RollUpAsync(runId, now, CancellationToken.None);
        await tx.CommitAsync();
    }
}
