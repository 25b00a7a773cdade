using Microsoft.EntityFrameworkCore;
using Redox.Lab.Dashboard.Pages.Charts;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// Boot time over commits: for each machine and variant, per commit the median time to each stage over
/// the passed boots (stacked by stage) and the median, fastest and slowest time to the boot's last stage.
/// </summary>
public sealed class BootTimeQuery(LabDbContext db) : IBootTimeQuery
{
    public async Task<SeriesModel> GetAsync(SeriesRequest request, CancellationToken ct)
    {
        var window = await SeriesWindow.LoadAsync(db, request, ct);
        if (window is null) return SeriesWindow.Empty(request);
        var bootIds = window.Boots.Select(b => b.BootId).ToList();
        var kernel = window.Request.Clock == SeriesRequest.Kernel;
        var stages = (await db.BootStages.AsNoTracking()
                .Where(s => bootIds.Contains(s.BootId))
                .Select(s => new { s.BootId, s.Name, s.Ordinal, s.HostNs, s.KernelNs })
                .ToListAsync(ct))
            .Select(s => (s.BootId, s.Name, s.Ordinal, Ms: (kernel ? s.KernelNs : s.HostNs) / 1e6))
            .Where(s => s.Ms is not null)
            .GroupBy(s => s.BootId)
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.Ordinal).Select(s => (s.Name, Ms: s.Ms!.Value)).ToList());

        var charts = new List<SeriesChart>();
        foreach (var series in window.Boots.Where(b => stages.ContainsKey(b.BootId)).GroupBy(b => (b.Machine, b.Variant)).OrderBy(g => g.Key.Machine, StringComparer.Ordinal).ThenBy(g => g.Key.Variant, StringComparer.Ordinal))
        {
            // Stage order: as the boots reached them (the first boot with the most stages decides).
            var names = series.Select(b => stages[b.BootId]).OrderByDescending(s => s.Count).First().Select(s => s.Name).ToList();
            foreach (var extra in series.SelectMany(b => stages[b.BootId]).Select(s => s.Name).Distinct().Where(n => !names.Contains(n)).ToList()) names.Add(extra);

            var byCommit = series.GroupBy(b => b.Commit, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(b => stages[b.BootId]).ToList(), StringComparer.Ordinal);
            var points = new List<SeriesPoint>();
            foreach (var (runId, commit, at) in window.Commits)
            {
                if (!byCommit.TryGetValue(commit, out var boots)) continue;
                var totals = boots.Select(s => s[^1].Ms).ToList();
                var increments = names.Select(name =>
                {
                    var steps = boots.Select(s =>
                    {
                        var i = s.FindIndex(x => x.Name == name);
                        return i < 0 ? (double?)null : s[i].Ms - (i == 0 ? 0 : s[i - 1].Ms);
                    }).OfType<double>().ToList();
                    return steps.Count == 0 ? (double?)null : SeriesWindow.Median(steps);
                }).ToList();
                points.Add(new SeriesPoint(runId, commit, at, boots.Count, SeriesWindow.Median(totals), totals.Min(), totals.Max(), increments));
            }
            charts.Add(new SeriesChart(series.Key.Machine, series.Key.Variant, "ms", names, points));
        }
        return window.Model([], charts);
    }
}
