using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// Decides which commit statuses are due from what the database says about each job (queued: pending; claimed by an
/// agent: running; ended and judged: final), stores one row per job and phase, and hands each to
/// <see cref="PostCommitStatusJob"/>, chained after the job's previous phase so a forge sees them in order. Reading the
/// state rather than hooking each place that changes it keeps job handling unaware of forges; a job that went from
/// queued to ended between two sweeps still gets its running status if an agent ever claimed it.
/// </summary>
public sealed class CommitStatusPlanner(
    LabDbContext db, RunQueries runs, VerdictQueries verdicts, IBackgroundJobClient hangfire, IOptions<ForgeOptions> options,
    TimeProvider clock, ILogger<CommitStatusPlanner> log)
{
    /// <summary>Returns how many status rows it added.</summary>
    public async Task<int> PlanAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = clock.GetUtcNow();
        var since = now.AddDays(-o.RecentDays);
        var jobs = await (
                from j in db.Jobs.AsNoTracking()
                join r in db.Runs on j.RunId equals r.Id
                join h in db.Set<RepositoryHookRow>() on r.RepositoryId equals h.RepositoryId
                where h.StatusApi != null && r.Kind == RunKinds.Push && r.CreatedAt > since
                      && !db.Set<CommitStatusRow>().Any(s => s.JobId == j.Id && s.Phase == StatusPhases.Final)
                orderby j.CreatedAt
                select new { j.Id, j.RunId, r.RepositoryId, r.Commit, r.PipelinePath, j.Variant, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name, j.AssignedAt, j.EndedAt, j.State, RunJudgedAt = r.JudgedAt })
            .Take(500).ToListAsync(ct);
        if (jobs.Count == 0) return 0;

        var ids = jobs.Select(j => j.Id).ToList();
        var existing = (await db.Set<CommitStatusRow>().AsNoTracking().Where(s => ids.Contains(s.JobId)).ToListAsync(ct))
            .ToLookup(s => s.JobId);
        var added = 0;
        var views = new Dictionary<Guid, (RunView? Run, RunVerdictsView? Verdicts)>();
        foreach (var job in jobs)
        {
            var have = existing[job.Id].ToList();
            var due = new List<string> { StatusPhases.Pending };
            if (job.AssignedAt is not null) due.Add(StatusPhases.Running);
            if (job.State == JobStates.Ended)
            {
                if (!views.TryGetValue(job.RunId, out var view))
                    views[job.RunId] = view = (await runs.GetRunAsync(job.RunId, ct), await verdicts.RunAsync(job.RunId, ct));
                var judged = view.Verdicts is { Judged: true };
                if (judged || job.EndedAt < now.AddMinutes(-o.VerdictWaitMinutes)) due.Add(StatusPhases.Final);
            }
            var missing = due.Where(p => have.All(s => s.Phase != p)).ToList();
            if (missing.Count == 0) continue;

            var context = $"redox-lab/{Path.GetFileNameWithoutExtension(job.PipelinePath)}/{job.Variant}@{job.Machine}";
            var target = $"{o.PublicUrl.TrimEnd('/')}/runs/{job.RunId}";
            var rows = new List<CommitStatusRow>();
            foreach (var phase in missing)
            {
                var (state, description) = phase switch
                {
                    StatusPhases.Pending => (CommitStates.Pending, $"queued: {job.Variant} on {job.Machine}"),
                    StatusPhases.Running => (CommitStates.Running, $"running: {job.Variant} on {job.Machine}"),
                    _ => Final(views[job.RunId], job.Id),
                };
                rows.Add(new CommitStatusRow
                {
                    JobId = job.Id, RunId = job.RunId, RepositoryId = job.RepositoryId, Commit = job.Commit, Context = context,
                    Phase = phase, State = state, Description = description, TargetUrl = target, CreatedAt = now,
                });
            }
            db.AddRange(rows);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException ex)
            {
                // Another server planned the same phase first (unique job and phase): it posts it.
                log.LogDebug(ex, "Job {JobId}: statuses planned elsewhere", job.Id);
                db.ChangeTracker.Clear();
                continue;
            }
            added += rows.Count;

            // In order: each phase after the job's previous one that is still waiting, so the forge never sees running before pending.
            var previous = have.Where(s => s.PostedAt is null && !s.Superseded && s.HangfireJobId is not null).MaxBy(s => s.Id)?.HangfireJobId;
            foreach (var row in rows)
            {
                var id = row.Id;
                System.Linq.Expressions.Expression<Func<PostCommitStatusJob, Task>> post = job => job.PostAsync(id, CancellationToken.None);
                previous = previous is null
                    ? hangfire.Enqueue(post)
                    : hangfire.ContinueJobWith(previous, post, new Hangfire.States.EnqueuedState(), JobContinuationOptions.OnAnyFinishedState);
                row.HangfireJobId = previous;
            }
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        return added;
    }

    private static (string, string) Final((RunView? Run, RunVerdictsView? Verdicts) view, Guid jobId)
    {
        var job = view.Run?.Jobs.FirstOrDefault(j => j.Id == jobId);
        return job is null ? (CommitStates.Error, "the job is gone") : StatusSummary.Final(job, view.Verdicts);
    }
}

/// <summary>Runs the planner every <see cref="ForgeOptions.SweepSeconds"/> on every server (rows are unique per job and phase).</summary>
public sealed class CommitStatusSweep(IServiceScopeFactory scopes, IOptions<ForgeOptions> options, TimeProvider clock, ILogger<CommitStatusSweep> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(0.2, options.Value.SweepSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<CommitStatusPlanner>().PlanAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database restarting is not the end of statuses: the next sweep picks up where this one stopped.
                log.LogWarning(ex, "Commit status sweep failed; trying again in {Period}", period);
            }
            try
            {
                await Task.Delay(period, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
