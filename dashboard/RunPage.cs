using System.Globalization;
using Microsoft.AspNetCore.Http;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard;

/// <summary><c>/runs/{id}</c>: a run, its jobs, and per boot what was measured.</summary>
internal static class RunPage
{
    /// <summary>Lines shown inline per job; the console page has all of them.</summary>
    private const int InlineConsoleLines = 2000;

    public static async Task<IResult> Render(Guid id, IDashboardData data, CancellationToken ct)
    {
        var run = await data.GetRunAsync(id, ct);
        if (run is null) return DashboardEndpoints.NotFound($"no run {id}");

        var h = new Html().Raw("<h1>Run <code>").Text(Html.Short(run.Commit)).Raw("</code> ").Outcome(run.Outcome).Raw("</h1>");
        h.Raw("<table>")
            .Raw("<tr><th>Commit</th><td><code>").Text(run.Commit).Raw("</code></td></tr>")
            .Raw("<tr><th>Branch</th>").Tag("td", run.Branch ?? "—").Raw("</tr>")
            .Raw("<tr><th>Repository</th>").Tag("td", run.Repository).Raw("</tr>")
            .Raw("<tr><th>Pipeline</th>").Tag("td", run.Pipeline).Raw("</tr>")
            .Raw("<tr><th>Pushed</th>").Tag("td", Html.Time(run.CreatedAt)).Raw("</tr>")
            .Raw("<tr><th>Ended</th>").Tag("td", Html.Time(run.EndedAt)).Raw("</tr>")
            .Raw("</table>");

        if (run.Jobs.Count == 0)
            h.Tag("p", run.EndedAt is null ? "No jobs yet: the run is being scheduled." : "The run ended without jobs.", "muted");

        foreach (var job in run.Jobs)
        {
            h.Raw("<section class=\"job\"><h2>").Text(job.Machine).Raw(" · ").Text(job.Variant).Raw(" ").Outcome(job.Outcome).Raw("</h2>");
            h.Raw("<p>agent ").Tag("b", job.Agent ?? "—")
                .Raw(" · queued ").Text(Html.Time(job.CreatedAt))
                .Raw(" · assigned ").Text(Html.Time(job.AssignedAt))
                .Raw(" · ended ").Text(Html.Time(job.EndedAt)).Raw("</p>");
            if (job.Detail is not null) h.Raw("<p>").Tag("b", "Detail: ").Text(job.Detail).Raw("</p>");

            foreach (var boot in job.Boots) WriteBoot(h, boot);

            var console = await data.GetConsoleAsync(job.Id, 0, InlineConsoleLines, ct) ?? [];
            h.Raw("<details><summary>Console (").Link($"/jobs/{job.Id}/console", "full log").Raw(")</summary>");
            ConsolePage.Write(h, console, 0);
            h.Raw("</details></section>");
        }
        return Html.Page($"Run {Html.Short(run.Commit)}", h);
    }

    private static void WriteBoot(Html h, BootView boot)
    {
        h.Raw("<h3>Boot ").Text(boot.Index.ToString(CultureInfo.InvariantCulture)).Raw(" ").Outcome(boot.Outcome).Raw("</h3>");
        h.Raw("<p class=\"muted\">").Text($"{Html.Time(boot.StartedAt)} → {Html.Time(boot.EndedAt)}")
            .Text(boot.TscHz is { } hz ? $" · TSC {hz / 1e6:0.###} MHz" : "")
            .Text($" · corrupt markers: {boot.CorruptMarkers}").Raw("</p>");
        if (boot.Detail is not null) h.Raw("<p>").Text(boot.Detail).Raw("</p>");

        if (boot.Stages.Count > 0)
        {
            h.Raw("<table><tr><th>Stage</th><th>Source</th><th>Kernel ms</th><th>Host ms</th></tr>");
            foreach (var s in boot.Stages)
                h.Raw("<tr>").Tag("td", s.Name).Tag("td", s.Source, "muted")
                    .Raw("<td class=\"num\">").Text(Html.Ms(s.KernelNs)).Raw("</td><td class=\"num\">").Text(Html.Ms(s.HostNs)).Raw("</td></tr>");
            h.Raw("</table>");
        }
        if (boot.Metrics.Count > 0)
        {
            h.Raw("<table><tr><th>Metric</th><th>Value</th><th>Unit</th><th>Stat</th><th>Samples</th></tr>");
            foreach (var m in boot.Metrics)
                h.Raw("<tr>").Tag("td", m.Name).Raw("<td class=\"num\">").Text(m.Value.ToString("G6", CultureInfo.InvariantCulture)).Raw("</td>")
                    .Tag("td", m.Unit).Tag("td", m.Stat).Raw("<td class=\"num\">").Text(m.Samples.ToString(CultureInfo.InvariantCulture)).Raw("</td></tr>");
            h.Raw("</table>");
        }
        if (boot.Tests.Count > 0)
        {
            h.Raw("<table><tr><th>Test</th><th>Result</th><th>Detail</th></tr>");
            foreach (var t in boot.Tests)
                h.Raw("<tr>").Tag("td", t.Name).Tag("td", t.Result, t.Result == "pass" ? "outcome ok" : "outcome bad").Tag("td", t.Detail ?? "").Raw("</tr>");
            h.Raw("</table>");
        }
        if (boot.Findings.Count > 0)
        {
            h.Tag("h4", "Findings");
            foreach (var f in boot.Findings)
            {
                h.Raw("<div><b>").Text(f.Kind).Raw("</b> <span class=\"muted\">line ").Text(f.Line.ToString(CultureInfo.InvariantCulture)).Raw("</span> ");
                foreach (var (key, value) in f.Fields.Where(kv => kv.Key != "bt"))
                    h.Raw("<code>").Text(key).Raw("=").Text(value).Raw("</code> ");
                if (f.Fields.TryGetValue("bt", out var bt))
                    h.Raw("<pre>").Text(bt.Replace(',', '\n')).Raw("</pre>");
                h.Raw("</div>");
            }
        }
    }
}
