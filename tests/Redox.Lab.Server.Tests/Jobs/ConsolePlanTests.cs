using Redox.Lab.Server.Jobs;

namespace Redox.Lab.Server.Tests.Jobs;

public sealed class ConsolePlanTests
{
    [Fact]
    public void For_AtStoredCount_AppendsAll() =>
        Assert.Equal(new ConsolePlan(false, 0, 13), ConsolePlan.For(10, 10, 3));

    [Fact]
    public void For_RetryOfStoredChunk_SkipsEverything()
    {
        var plan = ConsolePlan.For(10, 7, 3);

        Assert.Equal(new ConsolePlan(false, 3, 10), plan);
        Assert.Equal(0, plan.Take(3));
    }

    [Fact]
    public void For_Overlap_SkipsOnlyStoredLines()
    {
        var plan = ConsolePlan.For(10, 8, 5);

        Assert.Equal(2, plan.Skip);
        Assert.Equal(3, plan.Take(5));
        Assert.Equal(13, plan.Next);
    }

    [Fact]
    public void For_PastStoredCount_Gap() =>
        Assert.Equal(new ConsolePlan(true, 0, 10), ConsolePlan.For(10, 11, 1));

    [Fact]
    public void For_EmptyChunk_NoChange() =>
        Assert.Equal(new ConsolePlan(false, 0, 10), ConsolePlan.For(10, 10, 0));

    [Fact]
    public void StorableText_Nul_ReplacedByReplacementCharacter() =>
        Assert.Equal("a\uFFFDb", Redox.Lab.Server.Data.AgentText.Storable("a\0b"));
}
