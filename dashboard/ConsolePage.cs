using System.Globalization;
using Microsoft.AspNetCore.Http;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard;

/// <summary><c>/jobs/{id}/console</c>: a job's console log, a page of lines at a time.</summary>
internal static class ConsolePage
{
    private const int PageLines = 10_000;

    public static async Task<IResult> Render(Guid id, IDashboardData data, CancellationToken ct, long from = 0)
    {
        from = Math.Max(0, from);
        var lines = await data.GetConsoleAsync(id, from, PageLines, ct);
        if (lines is null) return DashboardEndpoints.NotFound($"no job {id}");

        var h = new Html().Tag("h1", "Console").Raw("<p class=\"muted\">job <code>").Text(id.ToString()).Raw("</code></p>");
        Write(h, lines, from);
        if (from > 0) h.Link($"/jobs/{id}/console?from={Math.Max(0, from - PageLines)}", "« earlier").Raw(" ");
        if (lines.Count == PageLines) h.Link($"/jobs/{id}/console?from={from + PageLines}", "later »");
        return Html.Page("Console", h);
    }

    /// <summary>Lines as a numbered, escaped block; boot boundaries are marked.</summary>
    public static void Write(Html h, IReadOnlyList<ConsoleLine> lines, long firstLineNo)
    {
        if (lines.Count == 0)
        {
            h.Tag("p", "No console output stored.", "muted");
            return;
        }
        h.Raw("<pre>");
        int? boot = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Boot != boot)
            {
                boot = line.Boot;
                h.Raw("<span class=\"ln\">").Text(boot < 0 ? "── build ──" : $"── boot {boot} ──").Raw("</span>\n");
            }
            h.Raw("<span class=\"ln\">").Text((firstLineNo + i).ToString(CultureInfo.InvariantCulture).PadLeft(6)).Raw("  </span>")
                .Text(line.Text).Raw("\n");
        }
        h.Raw("</pre>");
    }
}
