using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Server;

public sealed class BootReportFitTests
{
    private static BootReport Report(Outcome outcome = Outcome.Passed, int tests = 1, string? profile = null) => new(
        0, outcome, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), null,
        [new StageReport("kernel", "marker", 1, 2)],
        [new MetricReport("alloc.ns", 1, "ns", 1, "p50")],
        Enumerable.Range(0, tests).Select(i => new TestReport($"t{i}", "pass", null)).ToList(),
        [],
        0,
        profile);

    [Fact]
    public void Fit_WithinTheLimits_SentAsItIsWithoutACut()
    {
        var report = Report(tests: 3, profile: "swapper 0 [000] 1.0: cycles:\n\tffffffff8000 kmain\n");

        var fitted = BootReportFit.Fit(report, ReportLimits.Default);

        Assert.Null(fitted.Cut);
        Assert.Equal(Outcome.Passed, fitted.Outcome);
        Assert.Equal(3, fitted.Tests.Count);
        Assert.Equal(report.Profile, fitted.Profile);
    }

    [Fact]
    public void Fit_EightHundredThousandTests_CappedToThePublishedCountAndCountedAsTheKernelsFault()
    {
        var report = Report(tests: 800_000);

        var fitted = BootReportFit.Fit(report, ReportLimits.Default);

        Assert.Equal(ReportLimits.Default.TestsPerBoot, fitted.Tests.Count);
        Assert.Equal(new ReportCut(Tests: 790_000), fitted.Cut);
        Assert.Equal(Outcome.TestFailed, fitted.Outcome);
        Assert.True(BootReportFit.Size(fitted) <= ReportLimits.Default.ReportBytes);
    }

    [Fact]
    public void Fit_KernelPanicWithACut_KeepsItsOutcome()
    {
        var fitted = BootReportFit.Fit(Report(Outcome.KernelPanic, tests: 20), ReportLimits.Default with { TestsPerBoot = 5 });

        Assert.Equal(Outcome.KernelPanic, fitted.Outcome);
        Assert.Equal(15, fitted.Cut!.Tests);
    }

    [Fact]
    public void Fit_ProfileOverTheBytes_ProfileLeftOutFirstAndTheRestKept()
    {
        var profile = new string('p', 300_000);
        var limits = ReportLimits.Default with { ReportBytes = 200_000 };

        var fitted = BootReportFit.Fit(Report(tests: 100, profile: profile), limits);

        Assert.Null(fitted.Profile);
        Assert.Equal(new ReportCut(ProfileChars: 300_000), fitted.Cut);
        Assert.Equal(100, fitted.Tests.Count);
        Assert.True(BootReportFit.Size(fitted) <= limits.ReportBytes);
    }

    [Fact]
    public void Fit_LongTextsOverTheBytes_TextsCutAndTheHeaviestListHalvedUntilItFits()
    {
        // 10,000 tests with 4 KiB details each: within the count, 40 MiB of JSON, over the 32 MiB request limit.
        var detail = new string('d', 20_000);
        var report = Report() with { Tests = Enumerable.Range(0, 10_000).Select(i => new TestReport($"t{i}", "fail", detail)).ToList() };

        var fitted = BootReportFit.Fit(report, ReportLimits.Default);

        Assert.True(BootReportFit.Size(fitted) <= ReportLimits.Default.ReportBytes);
        Assert.All(fitted.Tests, t => Assert.True(t.Detail!.Length <= ReportLimits.Default.TextChars));
        Assert.EndsWith(" of 20000 characters]", fitted.Tests[0].Detail, StringComparison.Ordinal);
        Assert.Equal(10_000, fitted.Tests.Count + fitted.Cut!.Tests);
        Assert.InRange(fitted.Tests.Count, 1, 9_999);
        Assert.Equal(["t0", "t1"], fitted.Tests.Take(2).Select(t => t.Name));
    }

    [Fact]
    public void Bound_TextOverTheLength_MarkerIncludedWithinTheLength()
    {
        var bounded = BootReportFit.Bound(new string('a', 5000), 4096);

        Assert.Equal(4096, bounded.Length);
        Assert.Matches(@"^a+ \[lab: cut at \d+ of 5000 characters\]$", bounded);
    }

    [Fact]
    public void Stripped_Report_OutcomeKeptEveryListCounted()
    {
        var stripped = BootReportFit.Stripped(Report(tests: 7, profile: "xyz") with { Cut = new ReportCut(Tests: 10) }, 4096);

        Assert.Empty(stripped.Tests);
        Assert.Empty(stripped.Stages);
        Assert.Null(stripped.Profile);
        Assert.Equal(new ReportCut(Stages: 1, Tests: 17, Metrics: 1, ProfileChars: 3), stripped.Cut);
        Assert.Equal(Outcome.TestFailed, stripped.Outcome);
    }
}
