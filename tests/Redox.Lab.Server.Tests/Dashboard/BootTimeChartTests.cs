using Redox.Lab.Dashboard;

namespace Redox.Lab.Server.Tests.Dashboard;

public sealed class BootTimeChartTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.7, 1)]
    [InlineData(13, 20)]
    [InlineData(42, 50)]
    [InlineData(100, 100)]
    [InlineData(730, 1000)]
    public void NiceCeiling_Values_RoundUpTo125(double value, double expected) =>
        Assert.Equal(expected, BootTimeChart.NiceCeiling(value), 6);

    [Fact]
    public void Svg_TwoMachinesTwoRuns_OneLinePerMachineAndEscapedNames()
    {
        var r1 = Guid.NewGuid();
        var r2 = Guid.NewGuid();
        var t = DateTimeOffset.UnixEpoch;
        var svg = BootTimeChart.Svg(
        [
            new(r1, "aaaaaaaaaaaa", t, "a/<q0>", 12, 10),
            new(r1, "aaaaaaaaaaaa", t, "b/q1", 20, null),
            new(r2, "bbbbbbbbbbbb", t.AddHours(1), "a/<q0>", 11, 9),
        ]);

        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("aaaaaaaa", svg, StringComparison.Ordinal);
        Assert.Contains("bbbbbbbb", svg, StringComparison.Ordinal);
        Assert.Contains("a/&lt;q0&gt;", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("<q0>", svg, StringComparison.Ordinal);
        Assert.Equal(3, svg.Split("<polyline").Length - 1); // host a, kernel a, host b
    }
}
