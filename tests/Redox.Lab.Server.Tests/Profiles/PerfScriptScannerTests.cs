using System.Text;
using System.Text.RegularExpressions;
using Redox.Lab.Server.Profiles;

namespace Redox.Lab.Server.Tests.Profiles;

/// <summary>The folder's hand-written scanners against the Perl script's regexes, run by .NET's backtracking engine.</summary>
public sealed class PerfScriptScannerTests
{
    // stackcollapse-perf.pl's frame regex. On ASCII text .NET's \s, \w and . mean what Perl's do on bytes.
    private static readonly Regex FrameRegex = new(@"^\s*(\w+)\s*(.+) \((\S*)\)", RegexOptions.CultureInvariant);

    [Theory]
    [InlineData("\tffffffff81001234 do_idle+0x24 ([kernel.kallsyms])")]
    [InlineData("55d4a00f51a5 std::function<void (int)>::operator()(int) const+0x65 (/usr/bin/app)")]
    [InlineData("abc sym (dso) (other)")]
    [InlineData("abc sym (dso) trailing")]
    [InlineData("abc sym (a b)")]
    [InlineData("abc sym\t(dso)")]
    [InlineData("abc  (dso)")]
    [InlineData("abc (dso)")]
    [InlineData("a (dso)")]
    [InlineData("abc sym (a)b)")]
    [InlineData("abc sym (dso)\t")]
    [InlineData("abc sym ()")]
    public void MatchFrame_PerfLinesAndEdgeCases_AgreesWithThePerlRegex(string line) => AssertAgrees(line);

    [Fact]
    public void MatchFrame_RandomLinesOfFrameCharacters_AgreesWithThePerlRegex()
    {
        // Short lines over the characters the regex cares about, so every backtracking case comes up many times.
        const string alphabet = " \t()a0_x+:";
        var random = new Random(12);
        for (var n = 0; n < 20_000; n++)
        {
            var chars = new char[random.Next(1, 16)];
            for (var i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            AssertAgrees(new string(chars));
        }
    }

    [Theory]
    [InlineData("cpu_startup_entry+0x3f", "cpu_startup_entry")]
    [InlineData("f+0x1+0xab", "f+0x1")]
    [InlineData("f+0xab0x", "f+0xab0x")]
    [InlineData("a+0x0x12", "a+0x0x12")]
    [InlineData("f+0xAB", "f+0xAB")]
    [InlineData("f+0x", "f+0x")]
    [InlineData("+0x10", "")]
    [InlineData("0x10", "0x10")]
    [InlineData("f-0x10", "f-0x10")]
    [InlineData("", "")]
    public void WithoutOffset_Symbol_CutsATrailingLowerHexOffsetOnly(string symbol, string expected) =>
        Assert.Equal(expected, Encoding.ASCII.GetString(PerfScriptFolder.WithoutOffset(Encoding.ASCII.GetBytes(symbol))));

    private static void AssertAgrees(string line)
    {
        var bytes = Encoding.ASCII.GetBytes(line);
        var match = FrameRegex.Match(line);

        var matched = PerfScriptFolder.MatchFrame(bytes, out var pc, out var func, out var dso);

        Assert.True(match.Success == matched, $"'{line}': regex {match.Success}, scanner {matched}");
        if (!matched) return;
        Assert.Equal((match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value), (line[pc], line[func], line[dso]));
    }
}
