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
            .Raw("<tr><th>Ended</th>").Tag("td", Html.Time(run.EndedAt)).Raw("</tr>");
        if (run.Detail is not null) h.Raw("<tr><th>Detail</th>").Tag("td", run.Detail).Raw("</tr>");
        h.Raw("</table>");

        if (run.Jobs.Count == 0)
            h.Tag("p", run.EndedAt is null ? "No jobs yet: the run is being scheduled." : "The run ended without jobs.", "muted");

        foreach (var job in run.Jobs)
        {
            h.Raw("<section class=\"job\"><h2>").Text(job.Machine).Raw(" · ").Text(job.Variant)
                .Text(job.Attempt > 1 ? $" · attempt {job.Attempt}" : "").Raw(" ").Outcome(job.Outcome).Raw("</h2>");
            h.Raw("<p>agent ").Tag("b", job.Agent ?? "—")
                .Raw(" · queued ").Text(Html.Time(job.CreatedAt))
                .Raw(" · assigned ").Text(Html.Time(job.AssignedAt))
                .Raw(" · ended ").Text(Html.Time(job.EndedAt)).Raw("</p>");
            if (job.Detail is not null) h.Raw("<p>").Tag("b", "Detail: ").Text(job.Detail).Raw("</p>");

            foreach (var boot in job.Boots) WriteBoot(h, job.Id, boot);

            var console = await data.GetConsoleAsync(job.Id, 0, InlineConsoleLines, ct) ?? [];
            h.Raw("<details><summary>Console (").Link($"/jobs/{job.Id}/console", "full log").Raw(")</summary>");
            ConsolePage.Write(h, console, 0);
            h.Raw("</details></section>");
        }
        return Html.Page($"Run {Html.Short(run.Commit)}", h);
    }

    private static void WriteBoot(Html h, Guid jobId, BootView boot)
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
                h.Raw("<tr>").Tag("td", m.Name).Raw("<td class=\"num\">").Text(m.Value.ToString("#,0.###", CultureInfo.InvariantCulture)).Raw("</td>")
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
            foreach (var f in boot.Findings) WriteFinding(h, f);
        }
        if (boot.Profile is { } profile) WriteProfile(h, jobId, boot.Index, profile);
    }

    /// <summary>
    /// The finding's fields, then each backtrace (<c>bt</c>, and <c>bt.panic</c> for a panic's second walk) one
    /// frame per line: the address, then <c>symbol+0xoff</c> when the job has its ELF; a backtrace the kernel
    /// symbolized itself (Linux's Call Trace) has symbols only.
    /// </summary>
    private static void WriteFinding(Html h, FindingReport f)
    {
        h.Raw("<div class=\"finding\"><b>").Text(f.Kind).Raw("</b> <span class=\"muted\">line ").Text(f.Line.ToString(CultureInfo.InvariantCulture)).Raw("</span> ");
        foreach (var (key, value) in f.Fields.Where(kv => kv.Key is not ("bt" or "bt.sym" or "bt.panic" or "bt.panic.sym")))
            h.Raw("<code>").Text(key).Raw("=").Text(value).Raw("</code> ");
        WriteTrace(h, f, "bt");
        WriteTrace(h, f, "bt.panic");
        h.Raw("</div>");
    }

    private static void WriteTrace(Html h, FindingReport f, string name)
    {
        var addresses = f.Fields.TryGetValue(name, out var bt) ? bt.Split(',') : [];
        var symbols = f.Fields.TryGetValue(name + ".sym", out var sym) ? sym.Split(',') : [];
        if (addresses.Length == 0 && symbols.Length == 0) return;
        var frames = addresses.Length == 0
            ? symbols
            : addresses.Select((a, i) => i < symbols.Length ? $"{a.Trim(),-18} {symbols[i]}" : a.Trim());
        if (name != "bt") h.Raw("<p class=\"muted\">").Text(name == "bt.panic" ? "the panic's own stack walk" : name).Raw("</p>");
        h.Raw("<pre class=\"bt\">").Text(string.Join('\n', frames)).Raw("</pre>");
    }

    /// <summary>Samples, a link to the folded stacks, and the top functions by self and by total samples.</summary>
    private static void WriteProfile(Html h, Guid jobId, int bootIndex, ProfileSummary profile)
    {
        var url = $"/api/jobs/{jobId}/boots/{bootIndex}/profile";
        h.Tag("h4", "Profile");
        h.Raw("<p>").Text($"{profile.Samples.ToString(CultureInfo.InvariantCulture)} samples")
            .Text(profile.Symbolized ? " · symbolized from kernel.elf" : " · addresses only (no kernel.elf)")
            .Raw(" · ").Link($"{url}?format=folded", "folded stacks").Raw(" · ").Link($"{url}?format=raw", "perf script").Raw("</p>");
        if (profile.Samples == 0) return;
        h.Raw("<div class=\"cols\">");
        WriteTop(h, "Top functions by self samples", profile.TopSelf, profile.Samples, self: true);
        WriteTop(h, "Top functions by total samples", profile.TopTotal, profile.Samples, self: false);
        h.Raw("</div>");
    }

    private static void WriteTop(Html h, string title, IReadOnlyList<FunctionSamples> top, int samples, bool self)
    {
        h.Raw("<table class=\"top\"><caption>").Text(title).Raw("</caption><tr><th>Function</th><th>Self</th><th>Self %</th><th>Total</th><th>Total %</th></tr>");
        foreach (var f in top)
        {
            h.Raw("<tr><td><code>").Text(f.Name).Raw("</code></td>");
            Cell(h, f.Self.ToString(CultureInfo.InvariantCulture), self);
            Cell(h, Percent(f.Self, samples), self);
            Cell(h, f.Total.ToString(CultureInfo.InvariantCulture), !self);
            Cell(h, Percent(f.Total, samples), !self);
            h.Raw("</tr>");
        }
        h.Raw("</table>");
    }

    private static void Cell(Html h, string text, bool bold) =>
        h.Raw(bold ? "<td class=\"num\"><b>" : "<td class=\"num\">").Text(text).Raw(bold ? "</b></td>" : "</td>");

    private static string Percent(long part, int whole) =>
        (whole == 0 ? 0 : 100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
