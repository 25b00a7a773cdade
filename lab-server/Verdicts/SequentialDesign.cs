namespace Redox.Lab.Server.Verdicts;

/// <summary>
/// More boots only when unclear: start with the pipeline's boots per side, and while the verdict is inconclusive
/// add <see cref="Step"/> boots per side, alternating baseline and candidate (A B A B, so a drift of the machine
/// falls on both sides alike), until <see cref="MaxPerSide"/>. Stops as soon as the verdict is clear.
/// </summary>
/// <param name="Step">Boots added per side per round (at least 1).</param>
/// <param name="MaxPerSide">The cap of boots per side (pipeline <c>judge.boots.max</c>).</param>
public sealed record SequentialDesign(int Step, int MaxPerSide)
{
    public const int DefaultStep = 2;

    public const int DefaultMaxPerSide = 10;

    /// <summary>How many more boots each side needs: 0 when the verdict is clear or a side reached the cap.</summary>
    public int MoreBoots(VerdictKind verdict, int baselineBoots, int candidateBoots)
    {
        if (verdict != VerdictKind.Inconclusive) return 0;
        var have = Math.Min(baselineBoots, candidateBoots);
        if (have >= MaxPerSide) return 0;
        return Math.Min(Math.Max(Step, 1), MaxPerSide - have);
    }

    /// <summary>
    /// Runs the design against two sources of samples (used by the benchmark and the tests; the server runs the
    /// same loop one round of real boots at a time). Extra samples are drawn A, B, A, B.
    /// </summary>
    public (VerdictKind Verdict, int BaselineBoots, int CandidateBoots, ShiftComparison Comparison) Simulate(
        int initialPerSide, Func<double> baseline, Func<double> candidate, VerdictRule rule)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        var a = new List<double>();
        var b = new List<double>();
        for (var i = 0; i < initialPerSide; i++)
        {
            a.Add(baseline());
            b.Add(candidate());
        }
        while (true)
        {
            var comparison = ShiftComparison.Compare(a, b, rule.Alpha);
            var verdict = PerformanceVerdicts.Decide(comparison, rule);
            var more = MoreBoots(verdict, a.Count, b.Count);
            if (more == 0) return (verdict, a.Count, b.Count, comparison);
            for (var i = 0; i < more; i++)
            {
                a.Add(baseline());
                b.Add(candidate());
            }
        }
    }
}
