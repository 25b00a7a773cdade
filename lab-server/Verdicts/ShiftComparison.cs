using Pragmastat;
using Perfolizer.Mathematics.Distributions.ContinuousDistributions;
using Perfolizer.Mathematics.SignificanceTesting.Base;
using Perfolizer.Mathematics.SignificanceTesting.MannWhitney;
using Perfolizer.Metrology;

namespace Redox.Lab.Server.Verdicts;

/// <summary>
/// Candidate samples against baseline samples, location only: the two-sided Mann-Whitney p (Perfolizer), the
/// Hodges-Lehmann shift <c>candidate - baseline</c> (Pragmastat) and its distribution-free confidence interval.
/// </summary>
/// <param name="BaselineCount">Samples on the baseline side.</param>
/// <param name="CandidateCount">Samples on the candidate side.</param>
/// <param name="BaselineMedian">The baseline's median, the unit of the relative figures.</param>
/// <param name="P">Two-sided Mann-Whitney p-value.</param>
/// <param name="Shift">Hodges-Lehmann estimate of candidate minus baseline.</param>
/// <param name="ShiftLow">Lower end of the shift's confidence interval (-infinity when the samples are too few for one).</param>
/// <param name="ShiftHigh">Upper end (+infinity when too few).</param>
/// <param name="Confidence">The interval's coverage, 1 - alpha.</param>
public sealed record ShiftComparison(
    int BaselineCount, int CandidateCount, double BaselineMedian,
    double P, double Shift, double ShiftLow, double ShiftHigh, double Confidence)
{
    /// <summary>The shift relative to the baseline's median (0.05: candidate 5% higher).</summary>
    public double RelativeShift => Relative(Shift);

    public double RelativeLow => Relative(ShiftLow);

    public double RelativeHigh => Relative(ShiftHigh);

    private double Relative(double v) => BaselineMedian == 0 ? (v == 0 ? 0 : double.NaN) : v / Math.Abs(BaselineMedian);

    /// <summary>Compares <paramref name="candidate"/> with <paramref name="baseline"/>; the interval has coverage 1 - <paramref name="alpha"/>.</summary>
    public static ShiftComparison Compare(IReadOnlyList<double> baseline, IReadOnlyList<double> candidate, double alpha)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.Count == 0 || candidate.Count == 0) throw new ArgumentException("both sides need at least one sample");
        if (alpha is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1)");

        var x = new Sample(baseline.ToArray());
        var y = new Sample(candidate.ToArray());
        var median = Median(baseline);
        // Perfolizer's x/y: the p-value is symmetric for a two-sided test; the shift is y - x.
        double p = baseline.Count + candidate.Count < 3 || AllEqual(baseline, candidate)
            ? 1.0
            : MannWhitneyTest.Instance.Perform(x, y, AlternativeHypothesis.TwoSides, Threshold.Zero).PValue.Value;
        var shift = Toolkit.Shift(y, x).NominalValue;
        var (low, high) = ShiftInterval.Moses(baseline, candidate, alpha);
        return new ShiftComparison(baseline.Count, candidate.Count, median, p, shift, low, high, 1 - alpha);
    }

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static bool AllEqual(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var first = a[0];
        return a.All(v => v == first) && b.All(v => v == first);
    }
}

/// <summary>
/// The distribution-free confidence interval of the Hodges-Lehmann shift (Moses 1953; Lehmann, Nonparametrics,
/// 1975, §2.6): the k-th smallest and k-th largest of the n·m pairwise differences <c>y_j - x_i</c>, where k - 1
/// is the largest u with P(U ≤ u) ≤ alpha/2 under the Mann-Whitney null distribution.
/// </summary>
/// <remarks>
/// Written here because neither library has it: Pragmastat gives the shift's point estimate only, and its
/// <c>FastShift</c> quantiles interpolate between pairwise differences, while this interval's coverage rests on
/// taking exact order statistics at ranks read from the exact null distribution of U. Pairwise differences are
/// enumerated directly (n·m ≤ a few 10⁴ at the lab's sample sizes); the null CDF is Perfolizer's.
/// </remarks>
public static class ShiftInterval
{
    /// <summary>Above this many pairs the null CDF is taken from the normal approximation with continuity correction.</summary>
    public const int ExactPairsLimit = 2500;

    private static readonly NormalDistribution StandardNormal = new(0, 1);

    /// <summary>[low, high] with coverage at least 1 - alpha (exactly, for continuous data); infinite ends when the samples are too few.</summary>
    public static (double Low, double High) Moses(IReadOnlyList<double> baseline, IReadOnlyList<double> candidate, double alpha)
    {
        var n = baseline.Count;
        var m = candidate.Count;
        var k = RankOfLowerBound(n, m, alpha);
        if (k < 1) return (double.NegativeInfinity, double.PositiveInfinity);

        var diffs = new double[n * m];
        var i = 0;
        foreach (var y in candidate)
            foreach (var x in baseline)
                diffs[i++] = y - x;
        Array.Sort(diffs);
        return (diffs[k - 1], diffs[diffs.Length - k]);
    }

    /// <summary>k (1-based): the largest u + 1 with P(U ≤ u) ≤ alpha/2; 0 when even P(U = 0) exceeds alpha/2.</summary>
    public static int RankOfLowerBound(int n, int m, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        var half = alpha / 2;
        var pairs = n * m;
        var u = -1;
        // P(U ≤ u) grows with u; U is symmetric about nm/2, so the bound is below the middle.
        while (u + 1 <= pairs / 2 && NullCdf(n, m, u + 1) <= half) u++;
        return u + 1;
    }

    /// <summary>P(U ≤ u) under the null hypothesis (no shift, continuous data).</summary>
    public static double NullCdf(int n, int m, int u)
    {
        if (u < 0) return 0;
        if (u >= n * m) return 1;
        // Perfolizer's exact CDF takes u as an exclusive bound: Cdf(n, m, u) = P(U < u) (Cdf(3, 3, 0) = 0,
        // Cdf(3, 3, 1) = 1/20); the table cases in the tests pin this down.
        if (n * m <= ExactPairsLimit) return MannWhitneyLoefflerExactCdf.Instance.Cdf(n, m, u + 1);
        var mean = n * m / 2.0;
        var sd = Math.Sqrt(n * m * (n + m + 1) / 12.0);
        return StandardNormal.Cdf((u + 0.5 - mean) / sd);
    }
}
