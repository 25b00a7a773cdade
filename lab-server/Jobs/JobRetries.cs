using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Retries a job that ended through the lab's fault (agent-lost, infra-error): a new job for the same run,
/// variant and machine, attempt + 1, at most <see cref="MaxRetries"/> times. The failed attempt stays as it
/// ended, with its console; the run's outcome is taken from the last attempts (<see cref="Runs.RunRollup"/>).
/// </summary>
public sealed class JobRetries(LabDbContext db, ILogger<JobRetries> log)
{
    /// <summary>Retries after the first attempt: a job runs at most 1 + this many times.</summary>
    public const int MaxRetries = 2;

    /// <summary>Whether a job that ended with <paramref name="outcome"/> on attempt <paramref name="attempt"/> is tried again.</summary>
    public static bool ShouldRetry(Outcome outcome, int attempt) =>
        outcome.Kind() == OutcomeKind.Infrastructure && attempt <= MaxRetries;

    /// <summary>
    /// Queues the next attempt of the ended job <paramref name="jobId"/> when its outcome calls for one. Call inside
    /// the transaction that ended the job, before the run's roll-up, so the roll-up sees the queued retry and the
    /// run waits for it. Safe to call twice: the attempt number is unique per run, variant and machine.
    /// </summary>
    /// <returns>True when a retry was queued.</returns>
    public async Task<bool> RetryIfInfrastructureAsync(Guid jobId, DateTimeOffset now, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking()
            // A cancelled run is not tried again.
            .Where(j => j.Id == jobId && j.State == JobStates.Ended && j.Run.CancelledAt == null)
            .Select(j => new { j.RunId, j.Outcome, j.Attempt, j.Variant, j.MachineId, j.Machine.Active, j.Run.PipelineYaml, j.Run.PipelinePath })
            .SingleOrDefaultAsync(ct);
        if (job is null || !ShouldRetry(job.Outcome, job.Attempt)) return false;
        var machineId = await RetryMachineAsync(job.MachineId, job.Active, job.Variant, job.PipelineYaml, job.PipelinePath, ct);
        // A machine its agent no longer lists would hold the retry, and so the run, forever.
        if (machineId is null) return false;

        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO jobs (id, run_id, variant, machine_id, attempt, state, outcome, created_at, console_count)
            SELECT {Guid.CreateVersion7(now)}, run_id, variant, {machineId.Value}, attempt + 1, {JobStates.Queued}, {Outcome.Pending.ToName()}, {now}, 0
            FROM jobs WHERE id = {jobId}
            ON CONFLICT (run_id, variant, machine_id, attempt) DO NOTHING
            """, ct);
        if (inserted == 0) return false;
        // Delivered at commit, like CreateJobsForRunJob's: a woken agent finds the retry.
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobWakeups.Channel}, {job.RunId.ToString()})", ct);
        log.LogWarning("Job {JobId} ended {Outcome} on attempt {Attempt}; queued attempt {Next}{Where}",
            jobId, job.Outcome.ToName(), job.Attempt, job.Attempt + 1, machineId == job.MachineId ? "" : $" on machine {machineId}");
        return true;
    }

    /// <summary>
    /// Where the retry runs: on the same machine while it takes jobs; when it does not (a health check is
    /// pending after the failure, or it is bad: Machines/HEALTH.md), on another active machine with the
    /// variant's tags that does; else still on the same machine, which takes it once its check passed.
    /// Null when the same machine is gone and no other fits.
    /// </summary>
    private async Task<Guid?> RetryMachineAsync(Guid failed, bool failedActive, string variant, string pipelineYaml, string pipelinePath, CancellationToken ct)
    {
        var takesJobs = await db.Machines.AsNoTracking()
            .Where(m => m.Id == failed && m.Active && (m.Health == "good" || (m.Health == "unknown" && !m.HealthCheckRequested)))
            .AnyAsync(ct);
        if (takesJobs) return failed;

        IReadOnlyList<string> tags;
        try
        {
            tags = Contracts.Pipelines.PipelineLoader.Load(pipelineYaml, pipelinePath).Variant(variant).Machine.Tags;
        }
        catch (Exception e) when (e is Contracts.Pipelines.PipelineException or KeyNotFoundException)
        {
            return failedActive ? failed : null;
        }

        var candidates = await db.Machines.AsNoTracking()
            .Where(m => m.Active && m.Id != failed && (m.Health == "good" || (m.Health == "unknown" && !m.HealthCheckRequested)))
            .OrderBy(m => m.Agent.Name).ThenBy(m => m.Name)
            .Select(m => new { m.Id, m.Tags })
            .ToListAsync(ct);
        var other = candidates.FirstOrDefault(m => Machines.MachineMatching.Matches(m.Tags, tags));
        return other?.Id ?? (failedActive ? failed : null);
    }
}
