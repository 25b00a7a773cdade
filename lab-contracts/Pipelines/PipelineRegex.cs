using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Redox.Lab.Contracts.Pipelines;

/// <summary>
/// The compiled form of a pipeline's regexes (stages, console.panic, console.success), built once
/// per pattern and process: every boot of every job of a pipeline reuses them. Thread-safe.
/// </summary>
internal static class PipelineRegex
{
    /// <summary>How long one match against one console line may take (pipelines/FORMAT.md).</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    // Patterns come from pushed pipeline files, so the cache is bounded: past the limit it starts
    // over, which costs recompilation, never correctness.
    private const int Capacity = 512;

    private static readonly ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    /// <summary>The compiled regex; throws <see cref="ArgumentException"/> when the pattern does not compile.</summary>
    public static Regex Get(string pattern)
    {
        if (Cache.TryGetValue(pattern, out var regex))
        {
            return regex;
        }

        if (Cache.Count >= Capacity)
        {
            Cache.Clear();
        }

        return Cache.GetOrAdd(pattern, p => new Regex(p, RegexOptions.Compiled | RegexOptions.CultureInvariant, MatchTimeout));
    }

    /// <summary>Null when the pattern compiles, else the parser's message.</summary>
    public static string? Check(string pattern)
    {
        try
        {
            // Interpreted: validation must not pay for code generation, nor fill the cache with patterns of rejected files.
            _ = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>Whether <paramref name="regex"/> matches <paramref name="line"/>; a match that times out counts as none.</summary>
    public static bool IsMatch(Regex regex, string line)
    {
        try
        {
            return regex.IsMatch(line);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
