using System.Text.RegularExpressions;

namespace Redox.Lab.Dashboard;

/// <summary>What a console line is, for highlighting: a line that failed the boot, a finding, another marker, or plain text.</summary>
public enum LineKind
{
    Text,
    Marker,
    Finding,
    Fail,
}

/// <summary>
/// Classifies console lines by the console protocol (lab-contracts/Console/PROTOCOL.md): <c>finding kind=panic</c>,
/// <c>end status=fail|panic</c>, <c>test ... result=fail</c> and the pipeline's panic regexes fail a boot.
/// </summary>
public sealed class ConsoleMarks(IReadOnlyList<string> panicRegexes)
{
    private const string Prefix = "@@LAB ";
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(50);
    private readonly Regex[] _panic = panicRegexes.Select(Compile).OfType<Regex>().ToArray();

    public static readonly ConsoleMarks Default = new([]);

    public LineKind Classify(string text)
    {
        var at = text.IndexOf(Prefix, StringComparison.Ordinal);
        if (at >= 0)
        {
            var marker = text.AsSpan(at + Prefix.Length);
            if (marker.StartsWith("finding ", StringComparison.Ordinal))
                return marker.Contains("kind=panic", StringComparison.Ordinal) ? LineKind.Fail : LineKind.Finding;
            if (marker.StartsWith("end ", StringComparison.Ordinal))
                return marker.Contains("status=pass", StringComparison.Ordinal) ? LineKind.Marker : LineKind.Fail;
            if (marker.StartsWith("test ", StringComparison.Ordinal) && marker.Contains("result=fail", StringComparison.Ordinal))
                return LineKind.Fail;
            return LineKind.Marker;
        }
        foreach (var regex in _panic)
        {
            try
            {
                if (regex.IsMatch(text)) return LineKind.Fail;
            }
            catch (RegexMatchTimeoutException)
            {
                // A pathological pattern on a pathological line: not a highlight.
            }
        }
        return LineKind.Text;
    }

    public static string Css(LineKind kind) => kind switch
    {
        LineKind.Fail => "l fail",
        LineKind.Finding => "l finding",
        LineKind.Marker => "l marker",
        _ => "l",
    };

    private static Regex? Compile(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
