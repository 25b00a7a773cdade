using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Schedules again the runs whose scheduling was lost: a run is committed before its CreateJobsForRunJob is
/// enqueued (a push's ResolvePushJob likewise), so a failed enqueue (Hangfire's storage down for a moment) or a CreateJobsForRunJob that used up
/// its retries leaves a pending run with no jobs. Enqueueing such a run again is harmless: CreateJobsForRunJob
/// is idempotent. Recurring.
/// </summary>
public sealed class ScheduleStalledRunsJob(
    LabDbContext db, IBackgroundJobClient hangfire, TimeProvider clock, IOptions<LabOptions> options, ILogger<ScheduleStalledRunsJob> log)
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
        var now = clock.GetUtcNow();
        var before = now - StalledAfter;
        // A push still waiting for git may be in the middle of its bounded fetch: stalled only once that bound has passed.
        var resolvingBefore = now - (options.Value.Git.TotalTimeout + StalledAfter);
        var stalled = await db.Runs.AsNoTracking()
            .Where(r => r.EndedAt == null && !r.Jobs.Any()
                        && (r.Resolving ? r.CreatedAt < resolvingBefore : r.CreatedAt < before))
            .OrderBy(r => r.CreatedAt)
            .Select(r => new { r.Id, r.Resolving })
            .Take(100)
            .ToListAsync(ct);
        foreach (var run in stalled)
        {
            var runId = run.Id;
            if (run.Resolving)
                hangfire.Enqueue<ResolvePushJob>(ResolvePushJob.Queue, job => job.RunAsync(runId, CancellationToken.None));
            else
                hangfire.Enqueue<CreateJobsForRunJob>(CreateJobsForRunJob.Queue, job => job.RunAsync(runId, CancellationToken.None));
            log.LogWarning("Run {RunId} has been pending without jobs since before {Before:u}; scheduling it again", runId, before);
        }
        return stalled.Select(r => r.Id).ToList();
    }
}
