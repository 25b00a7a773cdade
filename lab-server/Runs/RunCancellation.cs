using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Jobs;

namespace Redox.Lab.Server.Runs;

/// <summary>What a cancel request came to.</summary>
public enum CancelStatus
{
    /// <summary>Cancelled now, or already cancelled (cancelling is idempotent).</summary>
    Cancelled,
    NotFound,
    /// <summary>The caller may not cancel it: a developer cancels only runs they pushed; an admin any.</summary>
    Forbidden,
    /// <summary>It had already ended (not by a cancel).</summary>
    AlreadyEnded,
}

/// <summary>
/// Cancels a run or one job (the cancel contract, API.md): queued jobs end <c>cancelled</c> at once; a running
/// job is marked, its agent reads <c>{"continue": false, "cancel": true}</c> in its next heartbeat answer,
/// powers the machine off and completes the job, which the server then records as <c>cancelled</c> whatever the
/// agent says; if that agent never comes back, the lease expiry ends the job <c>cancelled</c> (not agent-lost,
/// and not retried). A cancelled run queues no retries and gets no new jobs; it ends once its last job ended.
/// </summary>
public sealed class RunCancellation(LabDbContext db, RunRollup rollup, TimeProvider clock, ILogger<RunCancellation> log)
{
    public async Task<CancelStatus> CancelRunAsync(Guid runId, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var run = await LockRunAsync(runId, ct);
        if (run is null) return CancelStatus.NotFound;
        if (!await MayCancelAsync(run, user, ct)) return CancelStatus.Forbidden;
        if (run.CancelledAt is not null) return CancelStatus.Cancelled;
        if (run.EndedAt is not null) return CancelStatus.AlreadyEnded;

        var who = user.Identity?.Name ?? "?";
        await CancelLockedAsync(run, Roles.UserId(user), $"cancelled by {who}", ct);
        await tx.CommitAsync(ct);
        return CancelStatus.Cancelled;
    }

    /// <summary>
    /// Cancels a run for the lab itself, with <paramref name="reason"/> as the detail (a deleted branch: Forges/HookIntake),
    /// exactly as a user's cancel does; true when the run was going and is cancelled now.
    /// </summary>
    public async Task<bool> CancelRunForAsync(Guid runId, string reason, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var run = await LockRunAsync(runId, ct);
        if (run is null || run.CancelledAt is not null || run.EndedAt is not null) return false;
        await CancelLockedAsync(run, null, reason, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private async Task<RunRow?> LockRunAsync(Guid runId, CancellationToken ct) =>
        (await db.Runs.FromSql($"SELECT * FROM runs WHERE id = {runId} FOR UPDATE").ToListAsync(ct)).SingleOrDefault();

    /// <summary>The one cancel path: marks the run, ends its queued jobs, tells its running ones, rolls it up. Call in a transaction holding the run's lock.</summary>
    private async Task CancelLockedAsync(RunRow run, Guid? userId, string detail, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        run.CancelledAt = now;
        run.CancelledBy = userId;
        run.Detail ??= detail;
        await db.SaveChangesAsync(ct);

        var runId = run.Id;
        var jobs = await CancelJobsAsync(db.Jobs.Where(j => j.RunId == runId), detail, now, ct);
        if (!await db.Jobs.AnyAsync(j => j.RunId == runId, ct))
        {
            // Not scheduled yet: CreateJobsForRunJob sees the ended run and makes no jobs.
            await db.Runs.Where(r => r.Id == runId && r.EndedAt == null).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Outcome, Outcome.Cancelled).SetProperty(r => r.EndedAt, now), ct);
        }
        else
        {
            await rollup.RollUpAsync(runId, now, ct);
        }
        log.LogInformation("Run {RunId} {Detail}: {Queued} queued jobs ended, {Running} running jobs told to stop",
            runId, detail, jobs.Queued, jobs.Running);
    }

    /// <summary>Cancels one job of a run (the others go on); the same rules as a run.</summary>
    public async Task<(CancelStatus Status, Guid RunId)> CancelJobAsync(Guid jobId, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var job = await db.LockJobAsync(jobId, ct);
        if (job is null) return (CancelStatus.NotFound, Guid.Empty);
        var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == job.RunId, ct);
        if (!await MayCancelAsync(run, user, ct)) return (CancelStatus.Forbidden, run.Id);
        if (job.Outcome == Outcome.Cancelled || job.CancelRequestedAt is not null) return (CancelStatus.Cancelled, run.Id);
        if (job.State == JobStates.Ended) return (CancelStatus.AlreadyEnded, run.Id);
        db.Entry(job).State = EntityState.Detached;

        var now = clock.GetUtcNow();
        await CancelJobsAsync(db.Jobs.Where(j => j.Id == jobId), $"cancelled by {user.Identity?.Name ?? "?"}", now, ct);
        await rollup.RollUpAsync(run.Id, now, ct);
        await tx.CommitAsync(ct);
        return (CancelStatus.Cancelled, run.Id);
    }

    private static async Task<(int Queued, int Running)> CancelJobsAsync(IQueryable<JobRow> jobs, string detail, DateTimeOffset now, CancellationToken ct)
    {
        var queued = await jobs.Where(j => j.State == JobStates.Queued).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.State, JobStates.Ended)
            .SetProperty(j => j.Outcome, Outcome.Cancelled)
            .SetProperty(j => j.Detail, detail)
            .SetProperty(j => j.EndedAt, now), ct);
        var running = await jobs.Where(j => j.State == JobStates.Running && j.CancelRequestedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.CancelRequestedAt, now).SetProperty(j => j.Detail, detail), ct);
        return (queued, running);
    }

    /// <summary>Admins cancel anything; developers the runs they pushed (and the runs the lab made for those).</summary>
    private async Task<bool> MayCancelAsync(RunRow run, ClaimsPrincipal user, CancellationToken ct)
    {
        if (user.IsInRole(Roles.Admin)) return true;
        if (!user.IsInRole(Roles.Developer) || Roles.UserId(user) is not { } userId) return false;
        if (run.PushedBy == userId) return true;
        // Baseline, extra, bisection and calibration runs belong to the push that asked for them.
        var parent = run.ParentRunId;
        for (var depth = 0; parent is { } p && depth < 8; depth++)
        {
            var up = await db.Runs.AsNoTracking().Where(r => r.Id == p).Select(r => new { r.PushedBy, r.ParentRunId }).SingleOrDefaultAsync(ct);
            if (up is null) return false;
            if (up.PushedBy == userId) return true;
            parent = up.ParentRunId;
        }
        return false;
    }
}
