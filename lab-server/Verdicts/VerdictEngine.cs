using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Server.Verdicts;

/// <summary>What one boot measured, as the judge reads it.</summary>
/// <param name="Values">Judged series by key (<c>syscall.enosys.cycles</c>, <c>tlb.shootdown.cycles@p99</c>, <c>stage:smp</c>).</param>
/// <param name="Tests">Test name to passed (skipped tests are left out).</param>
/// <param name="Bugs">The bugs whose findings this boot reported.</param>
public sealed record BootSample(
    Guid BootId,
    IReadOnlyDictionary<string, Measured> Values,
    IReadOnlyDictionary<string, bool> Tests,
    IReadOnlySet<Guid> Bugs);

/// <summary>One measured value with its unit and whether the lab judges it by default.</summary>
public readonly record struct Measured(double Value, string Unit, string Subject);

/// <summary>One verdict before it is stored: what <see cref="VerdictRow"/> holds.</summary>
public sealed record VerdictResult(
    string Subject, string Name, string Verdict, string? Unit, string? Better,
    int BaselineCount, int CandidateCount,
    double? BaselineMedian = null, double? CandidateMedian = null,
    double? Shift = null, double? ShiftLow = null, double? ShiftHigh = null, double? P = null,
    double? Threshold = null, string? ThresholdSource = null, string? Detail = null, Guid? BugId = null)
{
    public bool IsRegression => Verdict == VerdictNames.Regression;

    /// <summary>The relative shift (0.05: 5% higher than the baseline's median); null when not a performance verdict.</summary>
    public double? RelativeShift => Shift is { } s && BaselineMedian is { } m && m != 0 ? s / Math.Abs(m) : null;
}

/// <summary>Verdict names as stored and served.</summary>
public static class VerdictNames
{
    public const string Regression = "regression";
    public const string Improvement = "improvement";
    public const string NoChange = "no-change";
    public const string Inconclusive = "inconclusive";
    /// <summary>A failing test or a bug present on both sides: not this commit's doing.</summary>
    public const string Known = "known";
}

/// <summary>
/// The one verdict code: runs, extra boots, bisection steps, compare and calibration all judge through here.
/// Performance: every series both sides measured, by <see cref="PerformanceVerdicts"/>. Correctness: a test that
/// passed in every baseline boot and failed in a candidate boot, or a bug seen in the candidate and in no baseline
/// boot, is a regression; the reverse is an improvement (a fix); failing or seen on both sides is known.
/// </summary>
public static class VerdictEngine
{
    /// <summary>The judged threshold of a series: (relative threshold, where it came from).</summary>
    public delegate (double Threshold, string Source) ThresholdLookup(string subject, string name);

    public static IReadOnlyList<VerdictResult> Judge(
        IReadOnlyList<BootSample> baseline, IReadOnlyList<BootSample> candidate, JudgeSpec spec, ThresholdLookup thresholds)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(thresholds);
        var results = new List<VerdictResult>();
        results.AddRange(Performance(baseline, candidate, spec, thresholds));
        results.AddRange(Tests(baseline, candidate));
        results.AddRange(Bugs(baseline, candidate));
        return results;
    }

    /// <summary>Whether a series is judged: named in the pipeline and not ignored, or a time or a rate.</summary>
    public static bool IsJudged(string name, string unit, JudgeSpec spec)
    {
        if (spec.Metrics.TryGetValue(name, out var m)) return !m.Ignore;
        return IsTime(unit) || IsRate(unit);
    }

    /// <summary>Lower is better unless the pipeline says otherwise or the unit is a rate (<c>iterations/s</c>).</summary>
    public static Better Direction(string name, string unit, JudgeSpec spec) =>
        spec.Metrics.TryGetValue(name, out var m) && m.HigherIsBetter is { } higher
            ? (higher ? Better.Higher : Better.Lower)
            : IsRate(unit) ? Better.Higher : Better.Lower;

    private static bool IsTime(string unit) => unit is "cycles" or "ns" or "us" or "ms" or "s";

    private static bool IsRate(string unit) => unit.EndsWith("/s", StringComparison.Ordinal);

    private static IEnumerable<VerdictResult> Performance(
        IReadOnlyList<BootSample> baseline, IReadOnlyList<BootSample> candidate, JudgeSpec spec, ThresholdLookup thresholds)
    {
        var names = candidate.SelectMany(b => b.Values).Select(kv => (kv.Key, kv.Value.Unit, kv.Value.Subject))
            .Distinct().OrderBy(k => k.Subject, StringComparer.Ordinal).ThenBy(k => k.Key, StringComparer.Ordinal);
        foreach (var (name, unit, subject) in names)
        {
            if (!IsJudged(name, unit, spec)) continue;
            var a = Series(baseline, name);
            var b = Series(candidate, name);
            if (a.Count == 0) continue; // the baseline never measured it: nothing to compare with
            var (threshold, source) = thresholds(subject, name);
            var better = Direction(name, unit, spec);
            var rule = new VerdictRule(spec.Alpha, threshold, better);
            var c = ShiftComparison.Compare(a, b, rule.Alpha);
            var verdict = PerformanceVerdicts.Decide(c, rule).Name();
            yield return new VerdictResult(
                subject, name, verdict, unit, better == Better.Lower ? "lower" : "higher",
                a.Count, b.Count, c.BaselineMedian, ShiftComparison.Median(b),
                c.Shift, Finite(c.ShiftLow), Finite(c.ShiftHigh), c.P, threshold, source);
        }
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    internal static List<double> Series(IReadOnlyList<BootSample> boots, string name) =>
        boots.Where(b => b.Values.ContainsKey(name)).Select(b => b.Values[name].Value).ToList();

    private static IEnumerable<VerdictResult> Tests(IReadOnlyList<BootSample> baseline, IReadOnlyList<BootSample> candidate)
    {
        var names = candidate.SelectMany(b => b.Tests.Keys).Concat(baseline.SelectMany(b => b.Tests.Keys))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var a = baseline.Where(b => b.Tests.ContainsKey(name)).Select(b => b.Tests[name]).ToList();
            var b = candidate.Where(x => x.Tests.ContainsKey(name)).Select(x => x.Tests[name]).ToList();
            if (a.Count == 0 || b.Count == 0) continue;
            int aFail = a.Count(p => !p), bFail = b.Count(p => !p);
            var verdict = (aFail, bFail) switch
            {
                (0, > 0) => VerdictNames.Regression,
                (> 0, 0) => VerdictNames.Improvement,
                (> 0, > 0) => VerdictNames.Known,
                _ => VerdictNames.NoChange,
            };
            yield return new VerdictResult(Subjects.Test, name, verdict, null, null, a.Count, b.Count,
                Detail: $"failed in {aFail} of {a.Count} baseline boots, {bFail} of {b.Count} candidate boots");
        }
    }

    private static IEnumerable<VerdictResult> Bugs(IReadOnlyList<BootSample> baseline, IReadOnlyList<BootSample> candidate)
    {
        var bugs = candidate.SelectMany(b => b.Bugs).Concat(baseline.SelectMany(b => b.Bugs)).Distinct().Order();
        foreach (var bug in bugs)
        {
            int a = baseline.Count(b => b.Bugs.Contains(bug)), b = candidate.Count(x => x.Bugs.Contains(bug));
            var verdict = (a, b) switch
            {
                (0, > 0) => VerdictNames.Regression,
                (> 0, 0) => VerdictNames.Improvement,
                _ => VerdictNames.Known,
            };
            yield return new VerdictResult(Subjects.Bug, bug.ToString(), verdict, null, null, baseline.Count, candidate.Count,
                Detail: $"seen in {a} of {baseline.Count} baseline boots, {b} of {candidate.Count} candidate boots", BugId: bug);
        }
    }
}
