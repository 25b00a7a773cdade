using Microsoft.AspNetCore.Http;

namespace Redox.Lab.Dashboard;

/// <summary><c>/</c>: the latest runs.</summary>
internal static class RunsPage
{
    public static async Task<IResult> Render(IDashboardData data, CancellationToken ct, int limit = 100)
    {
        var runs = await data.ListRunsAsync(Math.Clamp(limit, 1, 1000), ct);
        var h = new Html().Tag("h1", "Runs");
        if (runs.Count == 0) return Html.Page("Runs", h.Tag("p", "No runs yet: push a branch (POST /api/runs).", "muted"));

        h.Raw("<table><tr><th>Commit</th><th>Branch</th><th>Outcome</th><th>Jobs</th><th>Pushed</th><th>Ended</th><th>Pipeline</th><th>Repository</th></tr>");
        foreach (var r in runs)
        {
            h.Raw("<tr><td><code>").Link($"/runs/{r.Id}", Html.Short(r.Commit)).Raw("</code></td>")
                .Tag("td", r.Branch ?? "—")
                .Raw("<td>").Outcome(r.Outcome).Raw("</td>")
                .Raw("<td class=\"num\">").Text(r.Jobs.ToString(System.Globalization.CultureInfo.InvariantCulture)).Raw("</td>")
                .Tag("td", Html.Time(r.CreatedAt))
                .Tag("td", Html.Time(r.EndedAt))
                .Tag("td", r.Pipeline)
                .Tag("td", r.Repository, "muted")
                .Raw("</tr>");
        }
        return Html.Page("Runs", h.Raw("</table>"));
    }
}
