using Perfolizer.Mathematics.Distributions.ContinuousDistributions;
using Perfolizer.Mathematics.Distributions.DiscreteDistributions;
using Pragmastat;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Tests.Verdicts;

/// <summary>
/// The statistics core on synthetic samples with fixed seeds. Every expected rate is computed from the design
/// (the exact null distribution of U, or a power formula), then checked with binomial bounds of the trial count:
/// nothing here is a figure read off a previous run.
/// </summary>
public sealed class ShiftComparisonTests
{
    private const int Trials = 2000;

    // Four binomial standard deviations: a correct implementation fails one such check in ~16,000.
    private const double Sigmas = 4;

    private static readonly NormalDistribution StandardNormal = new(0, 1);

    [Theory]
    [InlineData(10, 10, 0.05, 24)] // two-sided 5% critical U of 23 (Mann-Whitney tables): interval D(24)..D(77)
    [InlineData(5, 5, 0.05, 3)]    // critical U of 2
    [InlineData(8, 6, 0.05, 9)]    // critical U of 8
    [InlineData(3, 3, 0.05, 0)]    // P(U = 0) = 0.05 > 0.025: no finite interval exists
    public void RankOfLowerBound_TabulatedCases_MatchesMannWhitneyTables(int n, int m, double alpha, int expected) =>
        Assert.Equal(expected, ShiftInterval.RankOfLowerBound(n, m, alpha));

    [Fact]
    public void Compare_ClearShift_ShiftAndIntervalAroundIt()
    {
        double[] baseline = [100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1];
        var candidate = baseline.Select(v => v + 10).ToArray();

        var c = ShiftComparison.Compare(baseline, candidate, 0.01);

        Assert.Equal(10, c.Shift, 9);
        Assert.InRange(10.0, c.ShiftLow, c.ShiftHigh);
        Assert.True(c.P < 0.01, $"p = {c.P}");
        Assert.Equal(0.1, c.RelativeShift, 2);
    }

    [Fact]
    public void Compare_IdenticalConstantSamples_NoShiftPOne()
    {
        var c = ShiftComparison.Compare([5, 5, 5, 5, 5, 5, 5, 5], [5, 5, 5, 5, 5, 5, 5, 5], 0.01);

        Assert.Equal(1, c.P);
        Assert.Equal(0, c.Shift);
        Assert.Equal(VerdictKind.NoChange, PerformanceVerdicts.Decide(c, new VerdictRule(0.01, 0.02, Better.Lower)));
    }

    [Theory]
    [InlineData(10, 10, 0.01, 11)]
    [InlineData(5, 5, 0.05, 12)]
    [InlineData(20, 15, 0.05, 13)]
    public void Moses_NormalSamples_CoverageWithinBinomialBoundsOfExactCoverage(int n, int m, double alpha, int seed)
    {
        // The interval's exact coverage for continuous data: 1 - 2 P(U <= k - 1).
        var k = ShiftInterval.RankOfLowerBound(n, m, alpha);
        var expected = 1 - 2 * ShiftInterval.NullCdf(n, m, k - 1);
        var noise = new NormalDistribution(1000, 20).Random(seed);
        const double trueShift = 15;

        var covered = 0;
        for (var t = 0; t < Trials; t++)
        {
            var x = noise.Next(n);
            var y = noise.Next(m).Select(v => v + trueShift).ToArray();
            var (low, high) = ShiftInterval.Moses(x, y, alpha);
            if (low <= trueShift && trueShift <= high) covered++;
        }

        AssertWithinBinomial(covered, expected, "coverage");
    }

    [Theory]
    [InlineData(10, 10, 21)]
    [InlineData(5, 5, 22)]
    [InlineData(20, 20, 23)]
    public void Decide_TwoThousandAaComparisons_FalsePositivesWithinBinomialBoundsOfAlpha(int n, int m, int seed)
    {
        var rule = new VerdictRule(VerdictRule.DefaultAlpha, 0.01, Better.Lower);
        // The exact test's size: Perfolizer's two-sided exact p is <= alpha exactly when U <= k - 1 or U >= nm - k + 1.
        var k = ShiftInterval.RankOfLowerBound(n, m, rule.Alpha);
        var size = 2 * ShiftInterval.NullCdf(n, m, k - 1);
        Assert.InRange(size, 0, rule.Alpha);
        var noise = new NormalDistribution(1000, 20).Random(seed);

        int significant = 0, wrongVerdicts = 0;
        for (var t = 0; t < Trials; t++)
        {
            var x = noise.Next(n);
            var y = noise.Next(m);
            var c = ShiftComparison.Compare(x, y, rule.Alpha);
            // The library's p and the interval's ranks come from the same null distribution.
            var u = y.Sum(b => x.Count(a => b > a));
            Assert.Equal(u <= k - 1 || u >= n * m - k + 1, c.P <= rule.Alpha);
            if (c.P <= rule.Alpha) significant++;
            if (PerformanceVerdicts.Decide(c, rule) is VerdictKind.Regression or VerdictKind.Improvement) wrongVerdicts++;
        }

        AssertWithinBinomial(significant, size, "A/A significant");
        // A verdict needs significance and an effect: it can only be rarer than significance alone.
        Assert.True(wrongVerdicts <= UpperBound(size), $"{wrongVerdicts} false regressions/improvements of {Trials} (size {size:P2})");
    }

    [Theory]
    [InlineData(0.02, 10, 31)]
    [InlineData(0.05, 10, 32)]
    [InlineData(0.02, 20, 33)]
    public void Decide_InjectedShift_DetectionMatchesDesignPower(double shift, int n, int seed)
    {
        // Boot-to-boot noise of 3%, so that 2% and 5% shifts land where the power is neither ~0 nor ~1 and the
        // check can fail both ways (the normal approximation of U below is poor at the edges: 5% at n = 20 has
        // power ~0.99, where it overstates by about a percent, so that case is left out). Threshold 1%.
        const double median = 1000, sd = 30;
        var rule = new VerdictRule(VerdictRule.DefaultAlpha, 0.01, Better.Lower);
        var delta = shift * median / sd; // in standard deviations
        var mwPower = MannWhitneyPower(n, n, delta, rule.Alpha);
        // P(Hodges-Lehmann estimate >= threshold): the estimate is close to normal with variance
        // (pi/3) sd^2 (1/n + 1/m) (asymptotic efficiency 3/pi relative to the mean).
        var hlSd = sd * Math.Sqrt(Math.PI / 3 * 2.0 / n);
        var effectPower = StandardNormal.Cdf((shift - rule.Threshold) * median / hlSd);
        var noise = new NormalDistribution(median, sd).Random(seed);

        int significant = 0, regressions = 0;
        for (var t = 0; t < Trials; t++)
        {
            var x = noise.Next(n);
            var y = noise.Next(n).Select(v => v + shift * median).ToArray();
            var c = ShiftComparison.Compare(x, y, rule.Alpha);
            if (c.P <= rule.Alpha && c.Shift > 0) significant++;
            if (PerformanceVerdicts.Decide(c, rule) == VerdictKind.Regression) regressions++;
        }

        AssertWithinBinomial(significant, mwPower, $"Mann-Whitney power at {shift:P0}, n = {n}");
        // Both conditions: at least P(A) + P(B) - 1, at most the rarer of the two.
        Assert.InRange(regressions, LowerBound(Math.Max(0, mwPower + effectPower - 1)), UpperBound(Math.Min(mwPower, effectPower)));
    }

    [Fact]
    public void Decide_HigherIsBetter_DropIsRegression()
    {
        double[] baseline = [100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1, 100.3, 99.7];
        var candidate = baseline.Select(v => v * 0.9).ToArray();

        Assert.Equal(VerdictKind.Regression, PerformanceVerdicts.Decide(baseline, candidate, new VerdictRule(0.01, 0.02, Better.Higher)));
        Assert.Equal(VerdictKind.Improvement, PerformanceVerdicts.Decide(baseline, candidate, new VerdictRule(0.01, 0.02, Better.Lower)));
    }

    [Fact]
    public void Decide_SignificantButBelowThreshold_NoChange()
    {
        double[] baseline = [1000, 1001, 999, 1000.5, 999.5, 1000.2, 999.8, 1000.1, 1000.3, 999.7];
        var candidate = baseline.Select(v => v + 3).ToArray(); // 0.3%: significant, far below 2%

        var c = ShiftComparison.Compare(baseline, candidate, 0.01);

        Assert.True(c.P <= 0.01);
        Assert.Equal(VerdictKind.NoChange, PerformanceVerdicts.Decide(c, new VerdictRule(0.01, 0.02, Better.Lower)));
    }

    [Fact]
    public void Decide_TooFewSamples_Inconclusive() =>
        Assert.Equal(VerdictKind.Inconclusive, PerformanceVerdicts.Decide([1, 2], [10, 11], new VerdictRule(0.01, 0.02, Better.Lower)));

    [Fact]
    public void MoreBoots_InconclusiveBelowCap_StepCappedAtMax()
    {
        var design = new SequentialDesign(Step: 4, MaxPerSide: 10);

        Assert.Equal(4, design.MoreBoots(VerdictKind.Inconclusive, 5, 5));
        Assert.Equal(1, design.MoreBoots(VerdictKind.Inconclusive, 9, 12));
        Assert.Equal(0, design.MoreBoots(VerdictKind.Inconclusive, 10, 10));
        Assert.Equal(0, design.MoreBoots(VerdictKind.Regression, 5, 5));
    }

    [Fact]
    public void Simulate_NoisyEqualSides_StopsAtCapAndAlternates()
    {
        var design = new SequentialDesign(Step: 2, MaxPerSide: 9);
        var order = new List<char>();
        var noise = new NormalDistribution(1000, 20).Random(41);
        var rule = new VerdictRule(0.01, 0.001, Better.Lower); // a threshold below what 9 boots can resolve

        var (verdict, a, b, _) = design.Simulate(3, () => { order.Add('A'); return noise.Next(); }, () => { order.Add('B'); return noise.Next(); }, rule);

        Assert.Equal(VerdictKind.Inconclusive, verdict);
        Assert.Equal((9, 9), (a, b));
        Assert.Equal(string.Concat(Enumerable.Repeat("AB", 9)), new string([.. order]));
    }

    /// <summary>
    /// Power of the two-sided Mann-Whitney test for normal samples shifted by <paramref name="delta"/> standard
    /// deviations: U is approximated by a normal with its exact mean and variance under the alternative
    /// (Lehmann 1975, eq. 2.20: p1 = P(Y > X), p2 = P(Y > X, Y > X'), p3 = P(Y > X, Y' > X)), against the exact
    /// critical values of the null distribution.
    /// </summary>
    private static double MannWhitneyPower(int n, int m, double delta, double alpha)
    {
        var p1 = StandardNormal.Cdf(delta / Math.Sqrt(2));
        double p2 = 0, p3 = 0;
        const double h = 0.001;
        for (var x = -12.0; x <= 12; x += h)
        {
            var phi = Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
            p2 += phi * Math.Pow(StandardNormal.Cdf(x + delta), 2) * h; // Y = x + delta above both X and X'
            p3 += phi * Math.Pow(1 - StandardNormal.Cdf(x - delta), 2) * h; // X = x below both Y and Y'
        }
        var mean = n * m * p1;
        var variance = n * m * (p1 * (1 - p1) + (n - 1) * (p2 - p1 * p1) + (m - 1) * (p3 - p1 * p1));
        var k = ShiftInterval.RankOfLowerBound(n, m, alpha);
        var upperCritical = n * m - k + 1; // reject when U >= this (by symmetry of the null)
        return 1 - StandardNormal.Cdf((upperCritical - 0.5 - mean) / Math.Sqrt(variance));
    }

    private static void AssertWithinBinomial(int count, double p, string what) =>
        Assert.True(count >= LowerBound(p) && count <= UpperBound(p),
            $"{what}: {count} of {Trials}, expected {p * Trials:F1} (bounds {LowerBound(p):F1}..{UpperBound(p):F1})");

    private static double Sd(double p) => Math.Sqrt(Trials * p * (1 - p));

    private static double LowerBound(double p) => Math.Min(p * Trials - Sigmas * Sd(p), new BinomialDistribution(Trials, Probability.Of(p)).Quantile(Probability.Of(0.0001)));

    private static double UpperBound(double p) => Math.Max(p * Trials + Sigmas * Sd(p), new BinomialDistribution(Trials, Probability.Of(p)).Quantile(Probability.Of(0.9999)));
}
