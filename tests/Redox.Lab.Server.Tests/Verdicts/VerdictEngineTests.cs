using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Bisection;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Tests.Verdicts;

public sealed class VerdictEngineTests
{
    private static readonly VerdictEngine.ThresholdLookup TwoPercent = (_, _) => (0.02, "default");

    private static BootSample Boot(double cycles, bool testPasses = true, Guid? bug = null, double? rate = null, string unit = "cycles")
    {
        var values = new Dictionary<string, Measured> { ["syscall.enosys.cycles"] = new(cycles, unit, Subjects.Metric) };
        if (rate is { } r) values["tlb.stress.iterations_per_sec"] = new(r, "iterations/s", Subjects.Metric);
        values["mm.free.frames"] = new(64861, "frames", Subjects.Metric);
        return new BootSample(Guid.NewGuid(), values,
            new Dictionary<string, bool> { ["mm.selftest"] = testPasses },
            bug is { } b ? new HashSet<Guid> { b } : []);
    }

    private static List<BootSample> Boots(params double[] cycles) => cycles.Select(c => Boot(c)).ToList();

    [Fact]
    public void Judge_SlowerSyscalls_RegressionWithShift()
    {
        var results = VerdictEngine.Judge(Boots(100, 101, 99, 100, 102), Boots(130, 131, 129, 130, 132), JudgeSpec.Default, TwoPercent);

        var r = results.Single(x => x.Name == "syscall.enosys.cycles");
        Assert.Equal(VerdictNames.Regression, r.Verdict);
        Assert.Equal(30, r.Shift!.Value, 6);
        Assert.Equal("lower", r.Better);
        Assert.DoesNotContain(results, x => x.Name == "mm.free.frames"); // a count, not a performance
    }

    [Fact]
    public void Judge_LowerRate_RegressionBecauseRatesAreHigherIsBetter()
    {
        var a = Enumerable.Range(0, 6).Select(i => Boot(100, rate: 60 + i % 2)).ToList();
        var b = Enumerable.Range(0, 6).Select(i => Boot(100, rate: 40 + i % 2)).ToList();

        var r = VerdictEngine.Judge(a, b, JudgeSpec.Default, TwoPercent).Single(x => x.Name == "tlb.stress.iterations_per_sec");

        Assert.Equal(VerdictNames.Regression, r.Verdict);
        Assert.Equal("higher", r.Better);
    }

    [Fact]
    public void Judge_PipelineSaysHigherIsBetter_DirectionFollowsPipeline()
    {
        var spec = JudgeSpec.Default with { Metrics = new Dictionary<string, MetricJudgement> { ["syscall.enosys.cycles"] = new(true, null, false) } };

        var r = VerdictEngine.Judge(Boots(100, 101, 99, 100, 102), Boots(130, 131, 129, 130, 132), spec, TwoPercent).Single(x => x.Name == "syscall.enosys.cycles");

        Assert.Equal(VerdictNames.Improvement, r.Verdict);
    }

    [Fact]
    public void Judge_TestFailingOnlyInCandidate_Regression_FailingInBoth_Known()
    {
        var pass = Enumerable.Repeat(0, 3).Select(_ => Boot(100)).ToList();
        var fail = Enumerable.Repeat(0, 3).Select(_ => Boot(100, testPasses: false)).ToList();

        Assert.Equal(VerdictNames.Regression, VerdictEngine.Judge(pass, fail, JudgeSpec.Default, TwoPercent).Single(x => x.Subject == Subjects.Test).Verdict);
        Assert.Equal(VerdictNames.Improvement, VerdictEngine.Judge(fail, pass, JudgeSpec.Default, TwoPercent).Single(x => x.Subject == Subjects.Test).Verdict);
        Assert.Equal(VerdictNames.Known, VerdictEngine.Judge(fail, fail, JudgeSpec.Default, TwoPercent).Single(x => x.Subject == Subjects.Test).Verdict);
    }

    [Fact]
    public void Judge_BugSeenOnceInCandidate_Regression_FlakyInBaseline_Known()
    {
        var bug = Guid.NewGuid();
        List<BootSample> clean = [Boot(100), Boot(100), Boot(100)];
        List<BootSample> once = [Boot(100), Boot(100, bug: bug), Boot(100)];

        var regression = VerdictEngine.Judge(clean, once, JudgeSpec.Default, TwoPercent).Single(x => x.Subject == Subjects.Bug);
        Assert.Equal(VerdictNames.Regression, regression.Verdict);
        Assert.Equal(bug, regression.BugId);
        Assert.Equal(VerdictNames.Known, VerdictEngine.Judge(once, once, JudgeSpec.Default, TwoPercent).Single(x => x.Subject == Subjects.Bug).Verdict);
        Assert.Equal(VerdictNames.Improvement, VerdictEngine.Judge(once, clean, JudgeSpec.Default, TwoPercent).Single(x => x.Subject == Subjects.Bug).Verdict);
    }

    [Fact]
    public void Judge_IgnoredMetric_NotJudged()
    {
        var spec = JudgeSpec.Default with { Metrics = new Dictionary<string, MetricJudgement> { ["syscall.enosys.cycles"] = new(null, null, true) } };

        Assert.DoesNotContain(VerdictEngine.Judge(Boots(1, 2, 3), Boots(7, 8, 9), spec, TwoPercent), x => x.Subject == Subjects.Metric);
    }

    [Fact]
    public void Calibrated_AaShifts_NinetyFifthPercentileFlooredAtOnePercent()
    {
        Assert.Equal(0.03, Thresholds.Calibrated([0.001, 0.002, 0.01, 0.02, 0.03]));
        Assert.Equal(Thresholds.Floor, Thresholds.Calibrated([0.001, 0.002, 0.003]));
    }

    [Fact]
    public void Judge_BisectionStep_RegressionIsBad_NoChangeIsGood()
    {
        var row = new BisectionRow { Variant = "default", Subject = Subjects.Metric, Name = "syscall.enosys.cycles", GoodCommit = "a", BadCommit = "b", Commits = "x y" };
        var good = Boots(100, 100.1, 99.9, 100, 100.2);
        var bad = Boots(130, 131, 129, 130, 132);

        var slow = BisectionService.Judge(row, good, Boots(130, 129, 131, 130, 132), bad, JudgeSpec.Default, TwoPercent);
        var same = BisectionService.Judge(row, good, Boots(100, 99.9, 100.1, 100, 100.2), bad, JudgeSpec.Default, TwoPercent);

        Assert.Equal((true, false), (slow.Bad, slow.Unclear));
        Assert.Equal((false, false), (same.Bad, same.Unclear));
    }

    [Fact]
    public void Judge_BisectionStepInconclusive_UnclearWithNearerMedian()
    {
        var row = new BisectionRow { Variant = "default", Subject = Subjects.Metric, Name = "syscall.enosys.cycles", GoodCommit = "a", BadCommit = "b", Commits = "x y" };
        // Two boots cannot be significant: unclear (more boots first); at the cap, the side whose median it is nearer.
        var (bad, unclear, evidence) = BisectionService.Judge(row, Boots(100, 101), Boots(128, 131), Boots(130, 131), JudgeSpec.Default, TwoPercent);

        Assert.True(unclear);
        Assert.True(bad);
        Assert.Contains("nearer the bad", evidence, StringComparison.Ordinal);
    }
}
