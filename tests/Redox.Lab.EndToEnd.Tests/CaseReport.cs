using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// What a kernel developer sees of an end-to-end case, written while the test runs so a note can quote the real
/// run rather than the test's expectations: <c>artifacts/e2e-cases/{name}.md</c> (or <c>LAB_E2E_CASES</c>) with each
/// job's outcome, stages and findings as the API gives them, and the run page's text as the browser shows it.
/// Written after the test's assertions passed; a failing case writes nothing.
/// </summary>
public static partial class CaseReport
{
    public static string Dir { get; } = Environment.GetEnvironmentVariable("LAB_E2E_CASES") is { Length: > 0 } dir
        ? dir
        : Path.Combine(LabFixture.RepoRoot, "artifacts", "e2e-cases");

    public static async Task WriteAsync(LabFixture lab, string name, RunView run)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(run);
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(inv, $"# {name}: run {run.Id} {run.Outcome.ToName()}");
        foreach (var job in run.Jobs)
        {
            md.AppendLine().AppendLine(inv, $"## job {job.Variant} on {job.Machine}: {job.Outcome.ToName()}");
            if (job.Detail is { } detail) md.AppendLine(inv, $"detail: {detail}");
            foreach (var boot in job.Boots)
            {
                md.AppendLine(inv, $"- boot {boot.Index}: {boot.Outcome.ToName()}{(boot.Detail is { } d ? ": " + d : "")}");
                foreach (var s in boot.Stages)
                    md.AppendLine(inv, $"  - stage {s.Name} ({s.Source}) host {s.HostNs / 1e6:F1} ms{(s.KernelNs is { } k ? $", kernel {k / 1e6:F3} ms" : "")}");
                foreach (var f in boot.Findings)
                    md.AppendLine(inv, $"  - finding {f.Kind} (console line {f.Line}): {string.Join("; ", f.Fields.Select(kv => $"{kv.Key}={kv.Value}"))}");
            }
        }
        var page = await lab.Http.GetStringAsync($"/runs/{run.Id}");
        md.AppendLine().AppendLine("## the run page's text").AppendLine().AppendLine("```").AppendLine(PageText(page)).AppendLine("```");
        Directory.CreateDirectory(Dir);
        await File.WriteAllTextAsync(Path.Combine(Dir, name + ".md"), md.ToString());
    }

    /// <summary>The text of the page's main element as a browser lays it out roughly: no markup, one line per block, entities decoded.</summary>
    public static string PageText(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var main = MainElement().Match(html) is { Success: true } m ? m.Groups[1].Value : html;
        main = Scripts().Replace(main, "");
        main = BlockEnd().Replace(main, "\n");
        main = Tags().Replace(main, "");
        var lines = WebUtility.HtmlDecode(main).Split('\n').Select(l => Spaces().Replace(l, " ").Trim()).Where(l => l.Length > 0);
        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"<main[^>]*>(.*)</main>", RegexOptions.Singleline)]
    private static partial Regex MainElement();

    [GeneratedRegex(@"<(script|style)[^>]*>.*?</\1>", RegexOptions.Singleline)]
    private static partial Regex Scripts();

    [GeneratedRegex(@"</(p|div|li|tr|h[1-6]|pre|section|summary|dt|dd|table|header)>|<br\s*/?>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockEnd();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"[ \t\r]+")]
    private static partial Regex Spaces();
}
