namespace Redox.Lab.Server.Verdicts;

/// <summary>What the lab concludes about one metric, stage, test or bug between a baseline and a candidate.</summary>
public enum VerdictKind
{
    /// <summary>Not enough evidence either way (yet): more boots may settle it.</summary>
    Inconclusive,
    /// <summary>Any change is smaller than the threshold, with confidence.</summary>
    NoChange,
    /// <summary>Worse, significantly and by more than the threshold; for tests and bugs: newly failing or newly seen.</summary>
    Regression,
    /// <summary>Better, significantly and by more than the threshold; for tests and bugs: fixed.</summary>
    Improvement,
}

/// <summary>Which way a metric is better.</summary>
public enum Better
{
    Lower,
    Higher,
}

/// <summary>How a performance verdict is decided.</summary>
/// <param name="Alpha">Significance level of the Mann-Whitney test, and 1 - coverage of the shift's interval.</param>
/// <param name="Threshold">The smallest relative shift that counts (0.02: 2% of the baseline's median).</param>
/// <param name="Better">Which direction is an improvement.</param>
/// <param name="MinSamples">Fewer samples on either side than this: inconclusive whatever the data say.</param>
public sealed record VerdictRule(double Alpha, double Threshold, Better Better, int MinSamples = 3)
{
    /// <summary>Pinpoint's level: one comparison in a hundred with no change may come out significant.</summary>
    public const double DefaultAlpha = 0.01;

    /// <summary>The relative threshold when the pipeline names none and the machine has no calibration yet.</summary>
    public const double DefaultThreshold = 0.02;
}

/// <summary>The verdict rule of the lab, in one place so runs, extra boots, bisection, calibration and the benchmark agree.</summary>
public static class PerformanceVerdicts
{
    /// <summary>
    /// Regression or improvement: p ≤ alpha AND |relative shift| ≥ threshold (significance and effect, as Mozilla
    /// asks). No change: the shift's whole (1 - alpha) interval lies inside ±threshold. Anything else, or too few
    /// samples: inconclusive, which is what asks for more boots.
    /// </summary>
    public static VerdictKind Decide(ShiftComparison c, VerdictRule rule)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(rule);
        if (c.BaselineCount < rule.MinSamples || c.CandidateCount < rule.MinSamples) return VerdictKind.Inconclusive;
        var rel = c.RelativeShift;
        if (double.IsNaN(rel)) return VerdictKind.Inconclusive;
        if (c.P <= rule.Alpha && Math.Abs(rel) >= rule.Threshold)
        {
            var worse = rule.Better == Better.Lower ? rel > 0 : rel < 0;
            return worse ? VerdictKind.Regression : VerdictKind.Improvement;
        }
        if (c.RelativeLow > -rule.Threshold && c.RelativeHigh < rule.Threshold) return VerdictKind.NoChange;
        return VerdictKind.Inconclusive;
    }

    public static VerdictKind Decide(IReadOnlyList<double> baseline, IReadOnlyList<double> candidate, VerdictRule rule) =>
        Decide(ShiftComparison.Compare(baseline, candidate, rule.Alpha), rule);

    public static string Name(this VerdictKind kind) => kind switch
    {
        VerdictKind.NoChange => "no-change",
        VerdictKind.Regression => "regression",
        VerdictKind.Improvement => "improvement",
        _ => "inconclusive",
    };

    public static VerdictKind ParseVerdict(string name) => name switch
    {
        "no-change" => VerdictKind.NoChange,
        "regression" => VerdictKind.Regression,
        "improvement" => VerdictKind.Improvement,
        _ => VerdictKind.Inconclusive,
    };
}
