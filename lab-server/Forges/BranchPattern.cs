using System.Text.RegularExpressions;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// A branch to test: a name, or a pattern where <c>*</c> is any characters but <c>/</c> and <c>**</c> any characters
/// (<c>main</c>, <c>feature/*</c>, <c>**</c>). Translated to an anchored regex; our own because it is a few lines.
/// </summary>
public static class BranchPattern
{
    public static bool IsValid(string pattern) =>
        pattern == "**" || Runs.PushService.IsBranchName(pattern.Replace("**", "x", StringComparison.Ordinal).Replace('*', 'x'));

    public static bool Matches(string pattern, string branch)
    {
        var regex = "^" + string.Concat(Split(pattern).Select(part => part switch
        {
            "**" => ".*",
            "*" => "[^/]*",
            _ => Regex.Escape(part),
        })) + "$";
        return Regex.IsMatch(branch, regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public static bool MatchesAny(IEnumerable<string> patterns, string branch) => patterns.Any(p => Matches(p, branch));

    private static IEnumerable<string> Split(string pattern)
    {
        var i = 0;
        while (i < pattern.Length)
        {
            if (pattern[i] == '*')
            {
                var n = i + 1 < pattern.Length && pattern[i + 1] == '*' ? 2 : 1;
                yield return pattern.Substring(i, n);
                i += n;
                continue;
            }
            var next = pattern.IndexOf('*', i);
            if (next < 0) next = pattern.Length;
            yield return pattern[i..next];
            i = next;
        }
    }
}
