using System.Globalization;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Ends queued jobs that no agent able to run them has been seen for <c>Lab:QueuedJobExpirySeconds</c>: the job has
/// waited that long and its machine's agent has not called since (or no longer lists the machine). The job ends
/// <c>infra-error</c> with a detail that says so, is not retried (the retry would wait for the same dead agent),
/// and its run rolls up. Recurring; safe to run twice or on two servers at once.
/// </summary>
public sealed class ExpireQueuedJobsJob(LabDbContext db, RunRollup rollup, TimeProvider clock, IOptions<LabOptions> options, ILogger<ExpireQueuedJobsJob> log)
{
    public const string RecurringId = "expire-queued-jobs";

    /// <summary>Every 30 seconds.</summary>
    public const string Cron = "*/30 * * * * *";

    /// <summary>Returns how many jobs it expired.</summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var before = now - options.Value.QueuedJobExpiry;
        var expired = await db.Jobs.AsNoTracking()
            .Where(j => j.State == JobStates.Queued && j.CreatedAt < before && (!j.Machine.Active || j.Machine.Agent.LastSeen < before))
            .OrderBy(j => j.CreatedAt)
            .Select(j => new { j.Id, j.RunId, Agent = j.Machine.Agent.Name, Machine = j.Machine.Name, j.Machine.Active, j.Machine.Agent.LastSeen })
            .Take(500)
            .ToListAsync(ct);

        var count = 0;
        foreach (var job in expired)
        {
            var minutes = options.Value.QueuedJobExpiry.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture);
            var why = job.Active
                ? $"agent {job.Agent} last seen {job.LastSeen.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z"
                : $"agent {job.Agent} no longer lists machine {job.Machine}";
            var detail = $"expired: no agent able to run it was seen for {minutes} min ({why})";
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            // Re-checked under the update: the agent may have claimed it since the select.
            var changed = await db.Jobs.Where(j => j.Id == job.Id && j.State == JobStates.Queued).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.State, JobStates.Ended)
                .SetProperty(j => j.Outcome, Outcome.InfraError)
                .SetProperty(j => j.Detail, detail)
                .SetProperty(j => j.EndedAt, now), ct);
            if (changed == 1)
            {
                await rollup.RollUpAsync(job.RunId, now, ct);
                count++;
                log.LogWarning("Job {JobId} {Detail}", job.Id, detail);
            }
            await tx.CommitAsync(ct);
        }
        return count;
    }
}
