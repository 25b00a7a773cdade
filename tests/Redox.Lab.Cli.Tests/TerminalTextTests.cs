using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("\u001b]0;pwned\u0007title", "\\x1b]0;pwned\\x07title")] // OSC: re-title the terminal
    [InlineData("\u001b[2J\u001b[Hcleared", "\\x1b[2J\\x1b[Hcleared")] // CSI: clear the screen
    [InlineData("\u009b2J", "\\x9b2J")] // 8-bit CSI
    [InlineData("a\rb", "a\\x0db")] // carriage return hides what came before
    [InlineData("safe\u202Egnp.exe", "safe\\u202egnp.exe")] // bidi override
    [InlineData("plain text = 42", "plain text = 42")]
    public void Clean_ControlSequences_BecomeVisibleEscapes(string kernel, string shown) =>
        Assert.Equal(shown, TerminalText.Clean(kernel));

    [Fact]
    public void Print_FindingWithAnsiAndOsc_NoControlCharacterReachesTheTerminal()
    {
        var now = DateTimeOffset.UnixEpoch;
        var hostile = "\u001b]0;owned\u0007\u001b[2J";
        var boot = new BootView(0, Outcome.KernelPanic, hostile, now, now, null, 0, [new StageReport(hostile, "marker", 1, 1)],
            [new MetricReport(hostile, 1, hostile, 1, hostile)], [new TestReport(hostile, hostile, hostile)],
            [new FindingReport(hostile, new Dictionary<string, string> { [hostile] = hostile }, 1)]);
        var run = new RunView(Guid.Empty, "r", hostile, "abc", "p", Outcome.KernelPanic, now, now,
            [new JobView(Guid.Empty, hostile, hostile, null, Outcome.KernelPanic, hostile, now, now, now, [boot])], hostile);
        var output = new StringWriter();

        RunPrinter.Print(run, output);

        Assert.DoesNotContain(output.ToString(), c => char.IsControl(c) && c != '\n' && c != '\r');
        Assert.Contains("\\x1b]0;owned", output.ToString(), StringComparison.Ordinal);
    }
}
