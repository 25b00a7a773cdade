using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Forges;

/// <summary>Cancels a run's queued work when its branch is deleted (TEAM.md's cancel contract: queued jobs become cancelled at once).</summary>
public interface IRunCancellation
{
    /// <summary>True when the run had queued work that is now cancelled.</summary>
    Task<bool> CancelQueuedAsync(Guid runId, string reason, CancellationToken ct);
}

/// <summary>
/// Queued jobs end as <c>cancelled</c>; a run whose jobs are not created yet ends <c>cancelled</c> (CreateJobsForRunJob
/// skips an ended run); running jobs are left to finish (a deleted branch's running boot is cheap to let end).
/// </summary>
public sealed class QueuedWorkCancellation(LabDbContext db, RunRollup rollup, TimeProvider clock) : IRunCancellation
{
    public async Task<bool> CancelQueuedAsync(Guid runId, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var cancelled = await db.Jobs.Where(j => j.RunId == runId && j.State == JobStates.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobStates.Ended).SetProperty(j => j.Outcome, Outcome.Cancelled)
                .SetProperty(j => j.Detail, reason).SetProperty(j => j.EndedAt, now), ct);
        if (!await db.Jobs.AnyAsync(j => j.RunId == runId, ct))
        {
            cancelled += await db.Runs.Where(r => r.Id == runId && r.EndedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Outcome, Outcome.Cancelled).SetProperty(r => r.Detail, reason)
                    .SetProperty(r => r.EndedAt, now), ct);
        }
        else if (cancelled > 0)
        {
            await rollup.RollUpAsync(runId, now, ct);
        }
        await tx.CommitAsync(ct);
        return cancelled > 0;
    }
}
