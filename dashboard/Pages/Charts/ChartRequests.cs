namespace Redox.Lab.Dashboard.Pages.Charts;

internal static class ChartRequests
{
    public static SeriesRequest From(string? pipeline, string? branch, string? machine, string? variant, string? clock, string? metric, int? commits) => new(
        Blank(pipeline), Blank(branch), Blank(machine), Blank(variant),
        clock == SeriesRequest.Kernel ? SeriesRequest.Kernel : SeriesRequest.Host,
        Blank(metric),
        Math.Clamp(commits ?? SeriesRequest.DefaultCommits, 2, SeriesRequest.MaxCommits));

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
