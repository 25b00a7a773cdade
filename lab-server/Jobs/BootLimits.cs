using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// What of a boot report the server stores, under <c>Lab:Limits</c>: at most so many stages, tests, metrics and
/// findings per boot, and every text bounded. What is cut is counted in the boot's detail, and a boot that
/// flooded is judged the kernel's fault: a passed boot becomes <c>test-failed</c> (never an infrastructure error).
/// </summary>
public static class BootLimits
{
    /// <summary>Longest name, unit, result or detail kept (characters); the console line limit bounds marker text the same way.</summary>
    public const int TextChars = 4096;

    /// <summary>The limits published to agents in every assignment, so their reports fit (the agent cuts and says so).</summary>
    public static ReportLimits Published(LimitsOptions limits) => new(
        Infrastructure.RequestLimits.AgentReportBytes, limits.StagesPerBoot, limits.TestsPerBoot, limits.MetricsPerBoot, limits.FindingsPerBoot, TextChars);

    public static BootReport Apply(BootReport report, LimitsOptions limits)
    {
        var cut = new List<string>();
        // What the agent already left out to fit the published limits (ReportLimits): recorded and judged the same way.
        if (report.Cut is { Any: true } agentCut)
            cut.Add($"{agentCut} not sent by the agent (over the lab's report limits)");
        IReadOnlyList<T> Cap<T>(IReadOnlyList<T> items, int max, string what)
        {
            if (items.Count <= max) return items;
            cut.Add($"{items.Count - max} of {items.Count} {what} not stored (limit {max} per boot)");
            return items.Take(max).ToList();
        }

        var stages = Cap(report.Stages, limits.StagesPerBoot, "stages")
            .Select(s => s with { Name = Bound(s.Name), Source = Bound(s.Source) }).ToList();
        var metrics = Cap(report.Metrics, limits.MetricsPerBoot, "metrics")
            .Select(m => m with { Name = Bound(m.Name), Unit = Bound(m.Unit), Stat = Bound(m.Stat) }).ToList();
        var tests = Cap(report.Tests, limits.TestsPerBoot, "tests")
            .Select(t => t with { Name = Bound(t.Name), Result = Bound(t.Result), Detail = BoundOrNull(t.Detail) }).ToList();
        var findings = Cap(report.Findings, limits.FindingsPerBoot, "findings")
            .Select(f => f with { Kind = Bound(f.Kind), Fields = f.Fields.Where(kv => kv.Key.Length <= 256).Take(64).ToDictionary(kv => kv.Key, kv => Bound(kv.Value), StringComparer.Ordinal) })
            .ToList();

        var detail = BoundOrNull(report.Detail);
        var outcome = report.Outcome;
        if (cut.Count > 0)
        {
            var note = "lab limit: " + string.Join("; ", cut);
            detail = detail is null ? note : $"{detail}; {note}";
            if (outcome == Outcome.Passed) outcome = Outcome.TestFailed;
        }
        return report with { Outcome = outcome, Detail = detail, Stages = stages, Metrics = metrics, Tests = tests, Findings = findings, Cut = null };
    }

    internal static string Bound(string text) => text.Length <= TextChars ? text : text[..TextChars] + $" [lab: cut at {TextChars} of {text.Length} characters]";

    internal static string? BoundOrNull(string? text) => text is null ? null : Bound(text);
}
