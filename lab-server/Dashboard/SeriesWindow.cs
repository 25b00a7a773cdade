using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Pages.Charts;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// What both chart queries share: the pipeline and branch (defaults: those of the newest run), the newest
/// runs of that branch (index <c>runs (pipeline_path, branch, created_at)</c>), and the passed boots of
/// their jobs on each machine and variant.
/// </summary>
internal sealed class SeriesWindow
{
    public required SeriesRequest Request { get; init; }
    public required List<string> Pipelines { get; init; }
    public required List<string?> Branches { get; init; }
    public required List<string> Machines { get; init; }
    public required List<string> Variants { get; init; }
    /// <summary>Newest run per commit, oldest commit first.</summary>
    public required List<(Guid RunId, string Commit, DateTimeOffset At)> Commits { get; init; }
    /// <summary>Passed boots in the window matching the machine and variant selection.</summary>
    public required List<WindowBoot> Boots { get; init; }

    internal sealed record WindowBoot(Guid BootId, Guid RunId, string Commit, string Machine, string Variant);

    public static async Task<SeriesWindow?> LoadAsync(LabDbContext db, SeriesRequest request, CancellationToken ct)
    {
        // Defaults: where the newest passed run is (a queued or failed branch has no boot times to show).
        var newest = await db.Runs.AsNoTracking().Where(r => r.Outcome == Outcome.Passed).OrderByDescending(r => r.CreatedAt)
                .Select(r => new { r.PipelinePath, r.Branch }).FirstOrDefaultAsync(ct)
            ?? await db.Runs.AsNoTracking().OrderByDescending(r => r.CreatedAt)
                .Select(r => new { r.PipelinePath, r.Branch }).FirstOrDefaultAsync(ct);
        if (newest is null) return null;
        var recent = db.Runs.AsNoTracking().OrderByDescending(r => r.CreatedAt).Take(DashboardOutcomes.RecentRuns);
        var pipelines = await recent.Select(r => r.PipelinePath).Distinct().OrderBy(p => p).ToListAsync(ct);
        var pipeline = request.Pipeline ?? newest.PipelinePath;
        var branches = await recent.Where(r => r.PipelinePath == pipeline).Select(r => r.Branch).Distinct().ToListAsync(ct);
        branches = [.. branches.OrderBy(b => b is null).ThenBy(b => b, StringComparer.Ordinal)];
        var branch = request.Branch ?? (pipeline == newest.PipelinePath ? newest.Branch
            : await db.Runs.AsNoTracking().Where(r => r.PipelinePath == pipeline).OrderByDescending(r => r.CreatedAt).Select(r => r.Branch).FirstOrDefaultAsync(ct));

        var runs = await db.Runs.AsNoTracking()
            .Where(r => r.PipelinePath == pipeline && r.Branch == branch)
            .OrderByDescending(r => r.CreatedAt)
            .Take(request.Commits)
            .Select(r => new { r.Id, r.Commit, r.CreatedAt })
            .ToListAsync(ct);
        // A commit pushed again is one point: its boots together, its newest run the link.
        var commits = runs.GroupBy(r => r.Commit, StringComparer.Ordinal)
            .Select(g => (RunId: g.First().Id, Commit: g.Key, At: g.Min(r => r.CreatedAt)))
            .OrderBy(c => c.At)
            .ToList();
        var commitOf = runs.ToDictionary(r => r.Id, r => r.Commit);
        var runIds = runs.Select(r => r.Id).ToList();

        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => runIds.Contains(j.RunId))
            .Select(j => new { j.Id, j.RunId, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name, j.Variant })
            .ToListAsync(ct);
        var machines = jobs.Select(j => j.Machine).Distinct().Order(StringComparer.Ordinal).ToList();
        var variants = jobs.Select(j => j.Variant).Distinct().Order(StringComparer.Ordinal).ToList();
        var chosen = jobs.Where(j => (request.Machine is null || j.Machine == request.Machine) && (request.Variant is null || j.Variant == request.Variant)).ToDictionary(j => j.Id);
        var jobIds = chosen.Keys.ToList();
        var boots = await db.Boots.AsNoTracking()
            .Where(b => jobIds.Contains(b.JobId) && b.Outcome == Outcome.Passed)
            .Select(b => new { b.Id, b.JobId })
            .ToListAsync(ct);

        return new SeriesWindow
        {
            Request = request with { Pipeline = pipeline, Branch = branch },
            Pipelines = pipelines,
            Branches = branches,
            Machines = machines,
            Variants = variants,
            Commits = commits,
            Boots = boots.Select(b =>
            {
                var job = chosen[b.JobId];
                return new WindowBoot(b.Id, job.RunId, commitOf[job.RunId], job.Machine, job.Variant);
            }).ToList(),
        };
    }

    public SeriesModel Model(IReadOnlyList<string> metrics, IReadOnlyList<SeriesChart> charts) =>
        new(Request, Pipelines, Branches, Machines, Variants, metrics, charts);

    public static SeriesModel Empty(SeriesRequest request) => new(request, [], [], [], [], [], []);

    /// <summary>
    /// The median of a few numbers (a commit's boots). Written here rather than taken from a statistics
    /// package: the dashboard only describes; judging changes with statistics is the verdicts' job.
    /// </summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
