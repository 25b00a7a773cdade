using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class ComparePrinterTests
{
    private static VerdictView Verdict(string name, string verdict, double shift) => new(
        "agent/qemu-0", "default", "metric", name, verdict, "cycles", "lower", 5, 7, 100, 100 + shift, shift, shift - 2, shift + 2,
        shift / 100, 0.004, 0.02, "default", 1, null, null, null);

    [Fact]
    public void Print_Regression_RowWithShiftIntervalPAndBootsThenBugs()
    {
        var bug = new BugView(Guid.Empty, "/r", "double-free|p2buddy_free", "double-free", "double-free in p2buddy_free", "new", 5,
            Guid.Empty, "c", DateTimeOffset.UnixEpoch, Guid.Empty, "c", DateTimeOffset.UnixEpoch, null, ["c"], ["agent/qemu-0"]);
        var view = new CompareView(Guid.Empty, Guid.Empty, "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb",
            [Verdict("syscall.enosys.cycles", "regression", 30)], [bug], []);
        var output = new StringWriter();

        ComparePrinter.Print(view, output);

        var text = output.ToString();
        Assert.Contains("compare bbbbbbbbbbbb", text, StringComparison.Ordinal);
        Assert.Matches(@"regression\s+syscall\.enosys\.cycles\s+100\s+130\s+\+30\.0%\s+\[28, 32\]\s+0\.004\s+5/7", text);
        Assert.Contains("+ bug double-free in p2buddy_free (new, 5 findings)", text, StringComparison.Ordinal);
        Assert.EndsWith("1 regression" + Environment.NewLine, text, StringComparison.Ordinal);
        Assert.True(view.HasRegression);
    }
}
