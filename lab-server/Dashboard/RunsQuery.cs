using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Pages.Runs;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// The runs list: one keyset page on the <c>runs (created_at, id)</c> order, with each run's reason and
/// machines read by correlated subqueries for that page only.
/// </summary>
public sealed class RunsQuery(LabDbContext db) : IRunsQuery
{
    public async Task<RunsModel> GetAsync(RunsFilter filter, CancellationToken ct)
    {
        var runs = db.Runs.AsNoTracking();
        if (filter.Repository is { } repo) runs = runs.Where(r => r.Repository.Name == repo); // by name only: a location would let anyone who can read the dashboard probe which locations are registered
        if (filter.Branch is { } branch) runs = runs.Where(r => r.Branch == branch);
        if (filter.Outcome == "failed")
        {
            var failures = DashboardOutcomes.KernelFailures;
            runs = runs.Where(r => failures.Contains(r.Outcome));
        }
        else if (filter.Outcome is { } name && OutcomeNames.TryParse(name, out var outcome))
        {
            runs = runs.Where(r => r.Outcome == outcome);
        }
        if (filter.Machine is { } machine)
        {
            var (agent, machineName) = DashboardOutcomes.SplitMachine(machine);
            runs = runs.Where(r => r.Jobs.Any(j => j.Machine.Name == machineName && j.Machine.Agent.Name == agent));
        }
        if (RunsCursor.TryParse(filter.Before, out var at, out var id))
            runs = runs.Where(r => r.CreatedAt < at || (r.CreatedAt == at && r.Id.CompareTo(id) < 0));

        var limit = Math.Clamp(filter.Limit, 1, 500);
        var ids = await runs
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Take(limit + 1)
            .Select(r => r.Id)
            .ToListAsync(ct);
        var byId = (await ItemsAsync(ids.Take(limit).ToList(), ct)).ToDictionary(r => r.Id);
        var items = ids.Take(limit).Select(id => byId[id]).ToList();
        var next = ids.Count > limit ? RunsCursor.Of(items[^1].CreatedAt, items[^1].Id) : null;

        var repositories = await db.Repositories.AsNoTracking().OrderBy(r => r.Name).Select(r => r.Name).ToListAsync(ct);
        var branches = await db.Runs.AsNoTracking().OrderByDescending(r => r.CreatedAt).Take(DashboardOutcomes.RecentRuns)
            .Where(r => r.Branch != null).Select(r => r.Branch!).Distinct().OrderBy(b => b).Take(200).ToListAsync(ct);
        var machines = await DashboardOutcomes.MachineNamesAsync(db, ct);
        return new RunsModel(items, next, repositories, branches, machines);
    }

    /// <summary>The list items of the given runs (any order): each run's reason is its own detail or that of its first job with the run's outcome.</summary>
    internal async Task<List<RunListItem>> ItemsAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        var distinct = ids.Distinct().ToList();
        var rows = await db.Runs.AsNoTracking()
            .Where(r => distinct.Contains(r.Id))
            .Select(r => new
            {
                r.Id, Url = r.Repository.Name, r.Branch, r.Commit, r.PipelinePath, r.Outcome, r.CreatedAt, r.EndedAt,
                Jobs = r.Jobs.Count,
                Reason = r.Outcome == Outcome.Passed ? null : r.Detail ?? r.Jobs
                    .Where(j => j.Outcome == r.Outcome)
                    .OrderBy(j => j.CreatedAt)
                    .Select(j => j.Detail)
                    .FirstOrDefault(),
            })
            .ToListAsync(ct);
        var machinesOf = (await db.Jobs.AsNoTracking()
                .Where(j => distinct.Contains(j.RunId))
                .Select(j => new { j.RunId, Name = j.Machine.Agent.Name + "/" + j.Machine.Name })
                .Distinct()
                .ToListAsync(ct))
            .ToLookup(j => j.RunId, j => j.Name);
        return rows.Select(r => new RunListItem(
            r.Id, r.Url, r.Branch, r.Commit, r.PipelinePath, r.Outcome, r.Reason, r.CreatedAt, r.EndedAt, r.Jobs,
            machinesOf[r.Id].Order(StringComparer.Ordinal).ToList())).ToList();
    }
}
