namespace Redox.Lab.Dashboard.Pages.Charts;

/// <summary>Boot time over commits (<c>/charts/boot-time</c>). Implemented by lab-server's <c>Dashboard/BootTimeQuery</c>.</summary>
public interface IBootTimeQuery
{
    Task<SeriesModel> GetAsync(SeriesRequest request, CancellationToken ct);
}

/// <summary>Any metric over commits (<c>/charts/metrics</c>). Implemented by lab-server's <c>Dashboard/MetricQuery</c>.</summary>
public interface IMetricQuery
{
    Task<SeriesModel> GetAsync(SeriesRequest request, CancellationToken ct);
}

/// <summary>What a chart page shows; every field is a query parameter (null: the default the query picks).</summary>
/// <param name="Machine"><c>agent/machine</c>; null: every machine (one chart each).</param>
/// <param name="Variant">Null: every variant (one chart each).</param>
/// <param name="Clock"><c>host</c> (power-on to stage, as the agent saw it) or <c>kernel</c> (the kernel's TSC).</param>
/// <param name="Metric">The metric (metric chart only).</param>
/// <param name="Commits">How many of the newest commits of the branch to show.</param>
public sealed record SeriesRequest(string? Pipeline, string? Branch, string? Machine, string? Variant, string Clock, string? Metric, int Commits)
{
    public const int DefaultCommits = 60, MaxCommits = 500;
    public const string Host = "host", Kernel = "kernel";
}

/// <param name="Request">The request with the defaults filled in (pipeline, branch, metric).</param>
public sealed record SeriesModel(
    SeriesRequest Request,
    IReadOnlyList<string> Pipelines, IReadOnlyList<string?> Branches, IReadOnlyList<string> Machines, IReadOnlyList<string> Variants,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<SeriesChart> Charts);

/// <summary>One machine and variant: a point per commit.</summary>
/// <param name="Stages">Stage names in boot order (boot time); empty for a metric.</param>
/// <param name="Unit"><c>ms</c> for boot time; the metric's unit.</param>
public sealed record SeriesChart(string Machine, string Variant, string Unit, IReadOnlyList<string> Stages, IReadOnlyList<SeriesPoint> Points);

/// <summary>One commit: the median over its boots, their spread, and (boot time) each stage's median share.</summary>
/// <param name="RunId">The newest run of the commit: where a click goes.</param>
/// <param name="Boots">Boots (or samples) behind the median.</param>
/// <param name="StageMedians">Per stage, the median time from the previous stage to this one (null: not reached in any boot).</param>
public sealed record SeriesPoint(Guid RunId, string Commit, DateTimeOffset At, int Boots, double Median, double Min, double Max, IReadOnlyList<double?> StageMedians);
