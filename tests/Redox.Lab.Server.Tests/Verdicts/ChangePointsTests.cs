using Perfolizer.Mathematics.Distributions.ContinuousDistributions;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Tests.Verdicts;

public sealed class ChangePointsTests
{
    [Fact]
    public void Detect_LastingStep_FoundAtItsFirstCommitWithMedians()
    {
        var noise = new NormalDistribution(0, 1).Random(7);
        var series = Enumerable.Range(0, 20).Select(i => (i < 12 ? 100 : 110) + noise.Next()).ToList();

        var cp = Assert.Single(ChangePoints.Detect(series));

        Assert.Equal(12, cp.Index);
        Assert.InRange(cp.Relative, 0.08, 0.12);
    }

    [Fact]
    public void Detect_FlatNoise_NoStep()
    {
        var noise = new NormalDistribution(100, 1).Random(8);

        Assert.Empty(ChangePoints.Detect(noise.Next(30)));
    }

    [Fact]
    public void Detect_StepOfFourPercentInPerCommitMedians_FoundWithItsSegments()
    {
        // The medians of ChangePointsHistoryTests' commits: a 4% step that no single commit's five boots resolve.
        var cp = Assert.Single(ChangePoints.Detect([1000, 1003, 998, 1001, 1042, 1039, 1043, 1040]));

        Assert.Equal(4, cp.Index);
        Assert.InRange(cp.Relative, 0.035, 0.045);
    }

    [Fact]
    public void Detect_TooShortHistory_Nothing() =>
        Assert.Empty(ChangePoints.Detect([1, 1, 5, 5, 5]));
}
