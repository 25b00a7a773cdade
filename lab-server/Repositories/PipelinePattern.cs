namespace Redox.Lab.Server.Repositories;

/// <summary>
/// A registered pipeline file: a path (<c>pipelines/redox-reference.yaml</c>) or a pattern where <c>*</c> stands for
/// any characters within one path segment (<c>pipelines/*.yaml</c>). Written by hand: a glob library for one
/// operator is more than this needs.
/// </summary>
public static class PipelinePattern
{
    public static bool Matches(string pattern, string path) => Match(pattern.AsSpan(), path.AsSpan());

    private static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> path)
    {
        while (!pattern.IsEmpty)
        {
            if (pattern[0] == '*')
            {
                var rest = pattern[1..];
                // '*' takes 0..n characters, never a '/'.
                for (var i = 0; i <= path.Length; i++)
                {
                    if (Match(rest, path[i..])) return true;
                    if (i < path.Length && path[i] == '/') return false;
                }
                return false;
            }
            if (path.IsEmpty || path[0] != pattern[0]) return false;
            pattern = pattern[1..];
            path = path[1..];
        }
        return path.IsEmpty;
    }
}
