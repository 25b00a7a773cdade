using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Forges;

namespace Redox.Lab.Server.Tests.Forges;

public sealed class StatusSummaryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Final_JudgedWithoutBaselineNothingFound_BootTimeNoBaselineAndNoNewBugs()
    {
        var job = Job([new StageReport("entry", "marker", 1_000_000, 1_500_000), new StageReport("kmain-done", "marker", 812_400_000, 900_000_000)], []);
        var verdicts = new RunVerdictsView(Guid.NewGuid(), "push", "abc", null, "none: the first tested commit of main", true, 0, [], []);

        Assert.Equal((CommitStates.Success, "passed, boot 812.4 ms (no baseline), no new bugs"), StatusSummary.Final(job, verdicts));
    }

    [Fact]
    public void Final_NotJudgedNothingFound_SaysNothingAboutBugs()
    {
        var job = Job([new StageReport("kmain-done", "marker", 3_000_000, 4_000_000)], []);
        var verdicts = new RunVerdictsView(Guid.NewGuid(), "push", "abc", null, null, false, 0, [], []);

        Assert.Equal((CommitStates.Success, "passed, boot 3 ms (no baseline)"), StatusSummary.Final(job, verdicts));
    }

    [Fact]
    public void Final_JudgedWithoutBaselineWithFindings_CountsTheFindings()
    {
        var job = Job([new StageReport("kmain-done", "marker", 3_000_000, 4_000_000)],
            [new FindingReport("double-free", new Dictionary<string, string> { ["addr"] = "0x1000" }, 12)]);
        var verdicts = new RunVerdictsView(Guid.NewGuid(), "push", "abc", null, "none", true, 0, [], []);

        Assert.Equal((CommitStates.Success, "passed, boot 3 ms (no baseline), 1 finding"), StatusSummary.Final(job, verdicts));
    }

    private static JobView Job(IReadOnlyList<StageReport> stages, IReadOnlyList<FindingReport> findings) =>
        new(Guid.NewGuid(), "default", "qemu-0", "agent", Outcome.Passed, null, T0, T0, T0.AddMinutes(1),
            [new BootView(0, Outcome.Passed, null, T0, T0.AddSeconds(2), 1_000_000_000, 0, stages, [], [], findings)]);
}
