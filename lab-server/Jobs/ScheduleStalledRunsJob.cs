using Hangfire;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Schedules again the runs whose scheduling was lost: a run is committed before its CreateJobsForRunJob is
/// enqueued, so a failed enqueue (Hangfire's storage down for a moment) or a CreateJobsForRunJob that used up
/// its retries leaves a pending run with no jobs. Enqueueing such a run again is harmless: CreateJobsForRunJob
/// is idempotent. Recurring.
/// </summary>
public sealed class ScheduleStalledRunsJob(LabDbContext db, IBackgroundJobClient hangfire, TimeProvider clock, ILogger<ScheduleStalledRunsJob> log)
{
    public const string RecurringId = "schedule-stalled-runs";

    /// <summary>Every minute.</summary>
    public const string Cron = "* * * * *";

    /// <summary>How old a pending run without jobs must be to count as stalled: well past a normal scheduling.</summary>
    public static readonly TimeSpan StalledAfter = TimeSpan.FromSeconds(60);

    /// <summary>Returns the runs it scheduled again.</summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task<IReadOnlyList<Guid>> RunAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - StalledAfter;
        var stalled = await db.Runs.AsNoTracking()
            .Where(r => r.EndedAt == null && r.CreatedAt < before && !r.Jobs.Any())
            .OrderBy(r => r.CreatedAt)
            .Select(r => r.Id)
            .Take(100)
            .ToListAsync(ct);
        foreach (var runId in stalled)
        {
            hangfire.Enqueue<CreateJobsForRunJob>(CreateJobsForRunJob.Queue, job => job.RunAsync(runId, CancellationToken.None));
            log.LogWarning("Run {RunId} has been pending without jobs since before {Before:u}; scheduling it again", runId, before);
        }
        return stalled;
    }
}
