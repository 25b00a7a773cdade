using Hangfire;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// Posts one planned commit status (Hangfire job). A forge that is down (5xx, timeout, refused connection) makes the job
/// throw, and Hangfire tries again after 2 s, 5 s, 10 s, ... up to hourly for about two days, then keeps it in
/// /hangfire's failed list to retry by hand: statuses are delayed, never lost. A 4xx (bad token, unknown project) is not
/// retried; its error is kept on the row (<c>GET /api/runs/{id}/statuses</c>). The job's later phases are chained after
/// this one, so they reach the forge in order.
/// </summary>
public sealed class PostCommitStatusJob(LabDbContext db, ForgeStatusClient client, TimeProvider clock, ILogger<PostCommitStatusJob> log)
{
    [AutomaticRetry(Attempts = 60, DelaysInSeconds = [2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task PostAsync(long statusId, CancellationToken ct)
    {
        var status = await db.Set<CommitStatusRow>().SingleOrDefaultAsync(s => s.Id == statusId, ct);
        if (status is null || status.PostedAt is not null || status.Superseded) return;
        if (await db.Set<CommitStatusRow>().AnyAsync(s => s.JobId == status.JobId && s.Id > status.Id && s.PostedAt != null, ct))
        {
            status.Superseded = true;
            await db.SaveChangesAsync(ct);
            return;
        }
        var hook = await db.Set<RepositoryHookRow>().AsNoTracking().SingleOrDefaultAsync(h => h.RepositoryId == status.RepositoryId, ct);
        status.Attempts++;
        try
        {
            if (hook is null) throw new ForgeStatusException("the repository has no hook any more", permanent: true);
            await client.PostAsync(hook, status, ct);
            status.PostedAt = clock.GetUtcNow();
            status.LastError = null;
            log.LogInformation("Commit status {Context} {State} posted for {Commit}", status.Context, status.State, status.Commit);
        }
        catch (ForgeStatusException ex) when (ex.Permanent)
        {
            status.LastError = ex.Message;
            log.LogWarning("Commit status {Context} {State} for {Commit} refused, not retried: {Error}", status.Context, status.State, status.Commit, ex.Message);
        }
        catch (ForgeStatusException ex)
        {
            status.LastError = ex.Message;
            await db.SaveChangesAsync(CancellationToken.None);
            log.LogWarning("Commit status {Context} {State} for {Commit} not posted, retried later: {Error}", status.Context, status.State, status.Commit, ex.Message);
            throw;
        }
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
