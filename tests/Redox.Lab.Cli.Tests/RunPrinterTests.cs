using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class RunPrinterTests
{
    [Fact]
    public void Print_RunWithStagesAndFinding_ShowsKernelAndHostTimesAndTheFinding()
    {
        var now = DateTimeOffset.UnixEpoch;
        var boot = new BootView(0, Outcome.TestFailed, "end status=fail", now, now, 2_000_000_000, 1,
            [new StageReport("entry", "marker", 0, 150_000_000), new StageReport("login", "regex", null, 2_500_000_000)],
            [new MetricReport("alloc.order0.cycles", 3692, "cycles", 4096, "median")],
            [new TestReport("leak.check", "fail", "signal_objects=1")],
            [new FindingReport("double-free", new Dictionary<string, string> { ["frame"] = "0x32000" }, 42)]);
        var run = new RunView(Guid.Empty, "/src", "main", "6ddd852c2796e7705504fde9e267e1d316bac39d", "pipelines/x.yaml",
            Outcome.TestFailed, now, now, [new JobView(Guid.Empty, "p2buddy", "qemu-0", "vm", Outcome.TestFailed, null, now, now, now, [boot])]);
        var output = new StringWriter();

        RunPrinter.Print(run, output);

        var text = output.ToString();
        Assert.Contains("commit 6ddd852c2796 ", text, StringComparison.Ordinal);
        Assert.Matches(@"entry\s+0\.000\s+150\.000", text);
        Assert.Matches(@"login\s+-\s+2500\.000", text);
        Assert.Contains("metric alloc.order0.cycles = 3692 cycles (median, n=4096)", text, StringComparison.Ordinal);
        Assert.Contains("test leak.check: fail (signal_objects=1)", text, StringComparison.Ordinal);
        Assert.Contains("FINDING double-free: frame=0x32000", text, StringComparison.Ordinal);
        Assert.Contains("corrupt markers: 1", text, StringComparison.Ordinal);
    }
}
