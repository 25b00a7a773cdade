using System.Globalization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>
/// Prints a run as a person reads it in a terminal: jobs, boots, stages with kernel and host times. Every string
/// that came from a kernel or an agent goes through <see cref="TerminalText.Clean"/> (<see cref="C"/>).
/// </summary>
public static class RunPrinter
{
    public static void Print(RunView run, TextWriter o)
    {
        o.WriteLine($"run {run.Id}  commit {C(run.Commit[..Math.Min(12, run.Commit.Length)])}  {C(run.Branch)}  outcome: {run.Outcome.ToName()}{Suffix(run.Detail)}");
        if (run.BaselineReason is not null)
        {
            o.WriteLine($"  baseline: {(run.BaselineCommit is { } b ? b[..Math.Min(12, b.Length)] + " (" + C(run.BaselineReason) + ")" : C(run.BaselineReason))}");
        }

        foreach (var job in run.Jobs)
        {
            o.WriteLine($"  job {job.Id}  machine {C(job.Machine)}  variant {C(job.Variant)}{(job.Attempt > 1 ? $"  attempt {job.Attempt}" : "")}  outcome: {job.Outcome.ToName()}{Suffix(job.Detail)}");
            foreach (var boot in job.Boots)
            {
                o.WriteLine($"    boot {boot.Index}: {boot.Outcome.ToName()}{Suffix(boot.Detail)}  (corrupt markers: {boot.CorruptMarkers})");
                o.WriteLine($"      {"stage",-20} {"kernel ms",12} {"host ms",12}");
                foreach (var s in boot.Stages)
                {
                    o.WriteLine($"      {C(s.Name),-20} {Ms(s.KernelNs),12} {Ms(s.HostNs),12}");
                }

                foreach (var m in boot.Metrics)
                {
                    o.WriteLine($"      metric {C(m.Name)} = {m.Value.ToString(CultureInfo.InvariantCulture)} {C(m.Unit)} ({C(m.Stat)}, n={m.Samples})");
                }

                foreach (var t in boot.Tests)
                {
                    o.WriteLine($"      test {C(t.Name)}: {C(t.Result)}{Suffix(t.Detail)}");
                }

                foreach (var f in boot.Findings)
                {
                    o.WriteLine($"      FINDING {C(f.Kind)}: {string.Join(' ', f.Fields.Select(kv => $"{C(kv.Key)}={C(kv.Value)}"))}");
                }
            }
        }
    }

    /// <summary>The verdict's headline: what the run is judged against, its regressions and new bugs.</summary>
    public static void PrintVerdicts(RunVerdictsView v, TextWriter o)
    {
        if (!v.Judged)
        {
            o.WriteLine($"  verdict: not judged yet{(v.Pending > 0 ? $" ({v.Pending} baseline or extra runs pending)" : "")}");
            return;
        }
        if (v.Verdicts.Count == 0)
        {
            o.WriteLine($"  verdict: {(v.BaselineCommit is null ? C(v.BaselineReason ?? "no baseline") : "nothing to compare")}");
            return;
        }
        var regressions = v.Verdicts.Where(x => x.Verdict == "regression").ToList();
        o.WriteLine($"  verdict against {(v.BaselineCommit is { } b ? b[..Math.Min(12, b.Length)] : "-")}: " +
            (regressions.Count == 0 ? "no regression" : $"{regressions.Count} regression{(regressions.Count == 1 ? "" : "s")}"));
        foreach (var r in regressions)
            o.WriteLine($"    REGRESSION {C(r.Machine)} {C(r.Variant)} {C(r.Subject == "bug" ? "new bug: " + (r.BugTitle ?? r.Name) : r.Name)}" +
                (r.RelativeShift is { } s ? $" {s.ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture)}" : ""));
    }

    private static string Ms(long? ns) => ns is { } v ? (v / 1e6).ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static string Suffix(string? detail) => string.IsNullOrEmpty(detail) ? "" : $" ({C(detail)})";

    private static string C(string? text) => TerminalText.Clean(text);
}
