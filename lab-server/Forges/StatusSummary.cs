using System.Globalization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// A job's final commit status in one line: the outcome, the boot time (median over the job's boots of the last stage
/// reached, kernel time when the kernel reports it) with its verdict, and the new bugs. Also <c>lab results</c>' headline.
/// </summary>
public static class StatusSummary
{
    public static (string State, string Description) Final(JobView job, RunVerdictsView? verdicts)
    {
        var machine = $"{job.Agent}/{job.Machine}";
        var mine = verdicts?.Verdicts.Where(v => v.Variant == job.Variant && v.Machine == machine).ToList() ?? [];
        var parts = new List<string> { job.Outcome.ToName() };

        var boot = BootTime(job);
        if (boot is { } b)
        {
            var stageVerdict = mine.FirstOrDefault(v => v.Subject == "stage" && (v.Name == b.Stage || v.Name == $"stage:{b.Stage}"));
            parts.Add($"boot {b.Ms.ToString("0.#", CultureInfo.InvariantCulture)} ms" + (stageVerdict is null
                ? verdicts is { BaselineCommit: null } ? " (no baseline)" : ""
                : $" ({Verdict(stageVerdict)})"));
        }

        var newBugs = mine.Where(v => v.Subject == "bug" && v.Verdict == "regression").Select(v => v.BugTitle ?? v.Name).Distinct().ToList();
        var findings = job.Boots.Sum(x => x.Findings.Count);
        if (newBugs.Count > 0) parts.Add($"{newBugs.Count} new bug{(newBugs.Count == 1 ? "" : "s")}: {string.Join(", ", newBugs)}");
        else if (verdicts is not null && mine.Count > 0) parts.Add("no new bugs");
        else if (findings > 0) parts.Add($"{findings} finding{(findings == 1 ? "" : "s")}");
        else if (verdicts is { Judged: true }) parts.Add("no new bugs"); // judged, and nothing found at all (no baseline needed)
        var regressions = mine.Count(v => v.Verdict == "regression" && v.Subject != "bug");
        if (regressions > 0 && !(boot is { } bt && mine.Any(v => v.Subject == "stage" && v.Verdict == "regression" && v.Name.EndsWith(bt.Stage, StringComparison.Ordinal))))
            parts.Add($"{regressions} regression{(regressions == 1 ? "" : "s")}");

        var state = job.Outcome.Kind() switch
        {
            OutcomeKind.Success => regressions > 0 || newBugs.Count > 0 ? CommitStates.Failure : CommitStates.Success,
            OutcomeKind.Kernel => CommitStates.Failure,
            _ when job.Outcome == Outcome.Cancelled => CommitStates.Cancelled,
            _ => CommitStates.Error,
        };
        return (state, string.Join(", ", parts));
    }

    /// <summary>The median over boots of the last stage's time in ms, and that stage; null when no boot reached a stage.</summary>
    public static (string Stage, double Ms)? BootTime(JobView job)
    {
        var last = job.Boots.Where(b => b.Stages.Count > 0).Select(b => b.Stages[^1]).ToList();
        if (last.Count == 0) return null;
        var stage = last.GroupBy(s => s.Name).MaxBy(g => g.Count())!.Key;
        var ms = last.Where(s => s.Name == stage).Select(s => (s.KernelNs ?? s.HostNs) / 1e6).Order().ToList();
        return (stage, ms.Count % 2 == 1 ? ms[ms.Count / 2] : (ms[ms.Count / 2 - 1] + ms[ms.Count / 2]) / 2);
    }

    private static string Verdict(VerdictView v) => v.Verdict switch
    {
        "regression" or "improvement" when v.RelativeShift is { } r =>
            $"{v.Verdict} {r.ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture)}{Against(v)}",
        _ => $"{v.Verdict}{Against(v)}",
    };

    private static string Against(VerdictView v) => v.BaselineCommit is { Length: >= 7 } c ? $" vs {c[..7]}" : "";
}
