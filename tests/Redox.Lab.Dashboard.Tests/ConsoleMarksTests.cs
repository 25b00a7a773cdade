namespace Redox.Lab.Dashboard.Tests;

public sealed class ConsoleMarksTests
{
    [Theory]
    [InlineData("plain kernel log", LineKind.Text)]
    [InlineData("@@LAB stage name=entry *9f9cb701", LineKind.Marker)]
    [InlineData("[cpu0] @@LAB end status=pass code=0 *e2b32145", LineKind.Marker)]
    [InlineData("@@LAB end status=fail code=1 *00000000", LineKind.Fail)]
    [InlineData("@@LAB end status=panic *00000000", LineKind.Fail)]
    [InlineData("@@LAB test name=mm.buddy result=fail *00000000", LineKind.Fail)]
    [InlineData("@@LAB test name=mm.buddy result=pass *00000000", LineKind.Marker)]
    [InlineData("@@LAB finding kind=double-free addr=0x1000 *00000000", LineKind.Finding)]
    [InlineData("@@LAB finding kind=panic msg=oops *00000000", LineKind.Fail)]
    [InlineData("KERNEL PANIC: out of frames", LineKind.Fail)]
    public void Classify_Line_Kind(string line, LineKind expected) =>
        Assert.Equal(expected, new ConsoleMarks(["KERNEL PANIC"]).Classify(line));

    [Fact]
    public void Constructor_InvalidRegex_IgnoredInsteadOfThrowing()
    {
        var marks = new ConsoleMarks(["(unclosed", "^panic"]);

        Assert.Equal(LineKind.Fail, marks.Classify("panic: here"));
        Assert.Equal(LineKind.Text, marks.Classify("(unclosed"));
    }
}
