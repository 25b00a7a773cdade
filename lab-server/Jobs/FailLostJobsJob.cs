using System.Globalization;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Fails running jobs whose lease expired (the agent stopped heartbeating) as agent-lost, keeping their
/// console, queues their retries (JobRetries) and rolls their runs up. Recurring; safe to run twice or on two servers at once.
/// A sweep that finds the lab was away (no sweep for <see cref="LabOptions.SweepGapSeconds"/>) restarts the leases
/// instead (<see cref="LeaseSweepRow"/>): time the lab was down does not count against an agent.
/// </summary>
public sealed class FailLostJobsJob(LabDbContext db, JobRetries retries, RunRollup rollup, TimeProvider clock, IOptions<LabOptions> options, ILogger<FailLostJobsJob> log)
{
    public const string RecurringId = "fail-lost-jobs";

    /// <summary>Every 15 seconds (Hangfire's six-field cron has a seconds field).</summary>
    public const string Cron = "*/15 * * * * *";

    /// <summary>Returns how many jobs it failed.</summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (await LabWasAwayAsync(now, ct) is { } away)
        {
            var lease = now + options.Value.Lease;
            var restarted = await db.Jobs
                .Where(j => j.State == JobStates.Running && j.LeaseExpiresAt < lease)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, lease), ct);
            log.LogWarning("No lease sweep for {Away}: the lab was down; restarted the leases of {Count} running jobs", away, restarted);
            return 0;
        }

        var expired = await db.Jobs.AsNoTracking()
            .Where(j => j.State == JobStates.Running && j.LeaseExpiresAt < now)
            .Select(j => new { j.Id, j.RunId, j.LeaseExpiresAt, Cancelled = j.CancelRequestedAt != null })
            .ToListAsync(ct);

        var failed = 0;
        foreach (var job in expired)
        {
            var lastHeartbeat = job.LeaseExpiresAt!.Value - options.Value.Lease;
            var detail = $"no heartbeat since {lastHeartbeat.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z";
            // A job a user cancelled whose agent never completed it: cancelled all the same, and not retried.
            var outcome = job.Cancelled ? Outcome.Cancelled : Outcome.AgentLost;
            if (job.Cancelled) detail = $"cancelled; the agent did not confirm ({detail})";
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            // Re-checked under the update: a heartbeat or a completion may have arrived since the select.
            var changed = await db.Jobs
                .Where(j => j.Id == job.Id && j.State == JobStates.Running && j.LeaseExpiresAt < now)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(j => j.State, JobStates.Ended)
                    .SetProperty(j => j.Outcome, outcome)
                    .SetProperty(j => j.Detail, detail)
                    .SetProperty(j => j.EndedAt, now), ct);
            if (changed == 1)
            {
                await retries.RetryIfInfrastructureAsync(job.Id, now, ct);
                await rollup.RollUpAsync(job.RunId, now, ct);
                failed++;
                log.LogWarning("Job {JobId} ended {Outcome}: {Detail}", job.Id, outcome.ToName(), detail);
            }
            await tx.CommitAsync(ct);
        }
        return failed;
    }

    /// <summary>Records this sweep; returns how long the lab was away when the previous one is older than the gap.</summary>
    private async Task<TimeSpan?> LabWasAwayAsync(DateTimeOffset now, CancellationToken ct)
    {
        // The row lock serialises sweeps of several servers: the second one sees the first one's time.
        var previous = await db.Database.SqlQuery<DateTimeOffset?>($"""
            WITH old AS (SELECT swept_at FROM lease_sweeps WHERE id = 1 FOR UPDATE)
            UPDATE lease_sweeps SET swept_at = {now} FROM old WHERE lease_sweeps.id = 1
            RETURNING old.swept_at AS "Value"
            """).ToListAsync(ct);
        if (previous.Count == 0)
        {
            await db.Database.ExecuteSqlAsync($"INSERT INTO lease_sweeps (id, swept_at) VALUES (1, {now}) ON CONFLICT (id) DO NOTHING", ct);
            return null;
        }
        var away = now - previous[0]!.Value;
        return away > TimeSpan.FromSeconds(options.Value.SweepGapSeconds) ? away : null;
    }
}
