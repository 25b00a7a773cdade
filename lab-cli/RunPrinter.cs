using System.Globalization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>Prints a run as a person reads it in a terminal: jobs, boots, stages with kernel and host times.</summary>
public static class RunPrinter
{
    public static void Print(RunView run, TextWriter o)
    {
        o.WriteLine($"run {run.Id}  commit {run.Commit[..Math.Min(12, run.Commit.Length)]}  {run.Branch}  outcome: {run.Outcome.ToName()}");
        if (run.BaselineReason is not null)
        {
            o.WriteLine($"  baseline: {(run.BaselineCommit is { } b ? b[..Math.Min(12, b.Length)] + " (" + run.BaselineReason + ")" : run.BaselineReason)}");
        }

        foreach (var job in run.Jobs)
        {
            o.WriteLine($"  job {job.Id}  machine {job.Machine}  variant {job.Variant}{(job.Attempt > 1 ? $"  attempt {job.Attempt}" : "")}  outcome: {job.Outcome.ToName()}{Suffix(job.Detail)}");
            foreach (var boot in job.Boots)
            {
                o.WriteLine($"    boot {boot.Index}: {boot.Outcome.ToName()}{Suffix(boot.Detail)}  (corrupt markers: {boot.CorruptMarkers})");
                o.WriteLine($"      {"stage",-20} {"kernel ms",12} {"host ms",12}");
                foreach (var s in boot.Stages)
                {
                    o.WriteLine($"      {s.Name,-20} {Ms(s.KernelNs),12} {Ms(s.HostNs),12}");
                }

                foreach (var m in boot.Metrics)
                {
                    o.WriteLine($"      metric {m.Name} = {m.Value.ToString(CultureInfo.InvariantCulture)} {m.Unit} ({m.Stat}, n={m.Samples})");
                }

                foreach (var t in boot.Tests)
                {
                    o.WriteLine($"      test {t.Name}: {t.Result}{Suffix(t.Detail)}");
                }

                foreach (var f in boot.Findings)
                {
                    o.WriteLine($"      FINDING {f.Kind}: {string.Join(' ', f.Fields.Select(kv => $"{kv.Key}={kv.Value}"))}");
                }
            }
        }
    }

    private static string Ms(long? ns) => ns is { } v ? (v / 1e6).ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static string Suffix(string? detail) => string.IsNullOrEmpty(detail) ? "" : $" ({detail})";
}
