using Microsoft.EntityFrameworkCore;
using Redox.Lab.Dashboard.Pages.Charts;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>A metric over commits: per machine and variant, per commit the median, lowest and highest value over the passed boots.</summary>
public sealed class MetricQuery(LabDbContext db) : IMetricQuery
{
    public async Task<SeriesModel> GetAsync(SeriesRequest request, CancellationToken ct)
    {
        var window = await SeriesWindow.LoadAsync(db, request, ct);
        if (window is null) return SeriesWindow.Empty(request);
        var bootIds = window.Boots.Select(b => b.BootId).ToList();
        var names = await db.Metrics.AsNoTracking().Where(m => bootIds.Contains(m.BootId)).Select(m => m.Name).Distinct().ToListAsync(ct);
        names.Sort(StringComparer.Ordinal);
        if (names.Count == 0) return window.Model([], []);
        var name = request.Metric is { } n && names.Contains(n) ? n : names[0];
        var values = (await db.Metrics.AsNoTracking()
                .Where(m => bootIds.Contains(m.BootId) && m.Name == name)
                .Select(m => new { m.BootId, m.Value, m.Unit })
                .ToListAsync(ct))
            .GroupBy(m => m.BootId).ToDictionary(g => g.Key, g => g.First());

        var charts = new List<SeriesChart>();
        foreach (var series in window.Boots.Where(b => values.ContainsKey(b.BootId)).GroupBy(b => (b.Machine, b.Variant)).OrderBy(g => g.Key.Machine, StringComparer.Ordinal).ThenBy(g => g.Key.Variant, StringComparer.Ordinal))
        {
            var byCommit = series.GroupBy(b => b.Commit, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(b => values[b.BootId].Value).ToList(), StringComparer.Ordinal);
            var points = window.Commits
                .Where(c => byCommit.ContainsKey(c.Commit))
                .Select(c =>
                {
                    var v = byCommit[c.Commit];
                    return new SeriesPoint(c.RunId, c.Commit, c.At, v.Count, SeriesWindow.Median(v), v.Min(), v.Max(), []);
                })
                .ToList();
            charts.Add(new SeriesChart(series.Key.Machine, series.Key.Variant, values[series.First().BootId].Unit, [], points));
        }
        return window.Model(names, charts) with { Request = window.Request with { Metric = name } };
    }
}
