using System.Globalization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>Prints a comparison as a table: one line per verdict, then the bugs added and removed.</summary>
public static class ComparePrinter
{
    public static void Print(CompareView c, TextWriter o)
    {
        o.WriteLine($"compare {Short(c.CommitB)} ({c.B}) against {Short(c.CommitA)} ({c.A})");
        o.WriteLine($"  {"machine",-24} {"variant",-12} {"verdict",-12} {"what",-36} {"baseline",12} {"candidate",12} {"shift",9} {"interval",21} {"p",8} {"boots",7}");
        foreach (var v in c.Verdicts)
        {
            var what = v.Subject is "metric" ? v.Name : $"{v.Subject}:{v.Name}".Replace("stage:stage:", "stage:", StringComparison.Ordinal);
            o.WriteLine($"  {Cut(v.Machine, 24),-24} {Cut(v.Variant, 12),-12} {v.Verdict,-12} {Cut(what, 36),-36} {Num(v.BaselineMedian),12} {Num(v.CandidateMedian),12} {Pct(v.RelativeShift),9} {Interval(v),21} {Num(v.P),8} {v.BaselineBoots + "/" + v.CandidateBoots,7}");
        }

        foreach (var b in c.BugsAdded)
        {
            o.WriteLine($"  + bug {b.Title} ({b.State}, {b.Count} findings)");
        }

        foreach (var b in c.BugsRemoved)
        {
            o.WriteLine($"  - bug {b.Title} ({b.State})");
        }

        var regressions = c.Verdicts.Count(v => v.Verdict == "regression");
        o.WriteLine(regressions == 0 ? "no regression" : $"{regressions} regression{(regressions == 1 ? "" : "s")}");
    }

    private static string Short(string commit) => commit[..Math.Min(12, commit.Length)];

    private static string Cut(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";

    private static string Num(double? v) => v is { } d ? d.ToString("G5", CultureInfo.InvariantCulture) : "-";

    private static string Pct(double? v) => v is { } d ? d.ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture) : "-";

    private static string Interval(VerdictView v) =>
        v.ShiftLow is { } lo && v.ShiftHigh is { } hi ? $"[{Num(lo)}, {Num(hi)}]" : "-";
}
