using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Pages.Overview;
using Redox.Lab.Dashboard.Pages.Runs;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// The overview: newest run per repository and branch (<c>DISTINCT ON</c> over the newest
/// <see cref="DashboardOutcomes.RecentRuns"/> runs), machines, the queue, recent failures. Branches and failures are
/// the developers' pushes: the boots the judge schedules (baseline, extra rounds, bisection steps, calibration)
/// count in the queue and show on their parent run's page, but would otherwise replace a branch's result with
/// "pending" whenever the judge asks for more boots.
/// </summary>
public sealed class OverviewQuery(LabDbContext db, MachinesQuery machines, RunsQuery runs) : IOverviewQuery
{
    public const int Branches = 20, Failures = 10;

    public async Task<OverviewModel> GetAsync(CancellationToken ct)
    {
        // Newest run id per (repository, branch) among the recent runs, newest first. DISTINCT ON is
        // PostgreSQL's way to say it; EF's GroupBy/First would rank every run with a window function.
        var latest = await db.Database
            .SqlQuery<Guid>($"""
                SELECT id AS "Value" FROM (
                    SELECT DISTINCT ON (repository_id, branch) id, created_at
                    FROM (SELECT id, repository_id, branch, created_at FROM runs WHERE kind = {RunKinds.Push} ORDER BY created_at DESC LIMIT {DashboardOutcomes.RecentRuns}) recent
                    ORDER BY repository_id, branch, created_at DESC) t
                ORDER BY created_at DESC LIMIT {Branches}
                """)
            .ToListAsync(ct);
        var failures = DashboardOutcomes.KernelFailures;
        var failed = await db.Runs.AsNoTracking()
            .Where(r => r.Kind == RunKinds.Push && failures.Contains(r.Outcome))
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Take(Failures)
            .Select(r => r.Id)
            .ToListAsync(ct);

        var items = (await runs.ItemsAsync([.. latest, .. failed], ct)).ToDictionary(r => r.Id);
        var queue = await db.Jobs.AsNoTracking()
            .Where(j => j.State == JobStates.Queued || j.State == JobStates.Running)
            .GroupBy(j => j.State)
            .Select(g => new { State = g.Key, Count = g.Count(), Oldest = g.Min(j => j.CreatedAt) })
            .ToListAsync(ct);
        var queued = queue.FirstOrDefault(q => q.State == JobStates.Queued);

        return new OverviewModel(
            latest.Select(id => items[id]).ToList(),
            await machines.ListAsync(includeRetired: false, recent: 0, ct),
            queued?.Count ?? 0,
            queue.FirstOrDefault(q => q.State == JobStates.Running)?.Count ?? 0,
            failed.Select(id => items[id]).ToList(),
            queued?.Oldest);
    }
}
