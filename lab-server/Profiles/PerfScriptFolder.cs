using System.Globalization;
using System.Text;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Profiles;

/// <summary>A profile as folded stacks.</summary>
/// <param name="Text">One line per unique stack, <c>comm;root;...;leaf count</c>, sorted by stack (ordinal), each line ending in <c>\n</c>.</param>
/// <param name="Samples">Samples read (one per perf-script header line).</param>
public sealed record FoldedProfile(string Text, int Samples);

/// <summary>
/// Folds perf-script text into flamegraph input, as <c>stackcollapse-perf.pl</c> does: per sample the
/// header's command name (first word, e.g. <c>kernel</c>) is the root, then the frames outermost first (perf
/// script lists them innermost first), and identical stacks are counted.
/// </summary>
/// <remarks>
/// A frame line is <c>&lt;whitespace&gt;&lt;hex address&gt; &lt;symbol&gt; (&lt;dso&gt;)</c>. Its name is, in order: the
/// function holding the address in the kernel ELF (no offset); the line's own symbol when it is not
/// <c>[unknown]</c> (without its <c>+0x..</c>); the address as <c>0x</c> hex.
/// </remarks>
public static class PerfScriptFolder
{
    /// <summary>Folds <paramref name="perfScript"/>; <paramref name="functionAt"/> names an address (null: not known).</summary>
    public static FoldedProfile Fold(string perfScript, Func<ulong, string?>? functionAt)
    {
        ArgumentNullException.ThrowIfNull(perfScript);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var samples = 0;
        string? comm = null;
        var frames = new List<string>();

        void EndSample()
        {
            if (comm is null) return;
            frames.Reverse();
            var stack = frames.Count == 0 ? comm : comm + ";" + string.Join(';', frames);
            counts[stack] = counts.GetValueOrDefault(stack) + 1;
            comm = null;
            frames.Clear();
        }

        foreach (var line in perfScript.Split('\n'))
        {
            var text = line.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(text))
            {
                EndSample();
            }
            else if (char.IsWhiteSpace(text[0]))
            {
                if (comm is null)
                {
                    // Frames without a header: perf never writes that, but a cut profile might; keep the samples.
                    comm = "[unknown]";
                    samples++;
                }
                if (FrameName(text, functionAt) is { } name) frames.Add(name);
            }
            else if (text[0] != '#')
            {
                EndSample();
                comm = Clean(text.Split(' ', '\t')[0]);
                samples++;
            }
        }
        EndSample();

        var sb = new StringBuilder();
        foreach (var (stack, count) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(stack).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return new FoldedProfile(sb.ToString(), samples);
    }

    /// <summary>Folds with function names from <paramref name="symbols"/> when given, hex addresses otherwise.</summary>
    public static FoldedProfile Fold(string perfScript, Symbolizer? symbols) =>
        Fold(perfScript, symbols is null ? null : a => symbols.Lookup(a)?.Name);

    private static string? FrameName(string line, Func<ulong, string?>? functionAt)
    {
        var text = line.Trim();
        var space = text.IndexOfAny([' ', '\t']);
        var addressText = space < 0 ? text : text[..space];
        var rest = space < 0 ? "" : text[(space + 1)..].Trim();
        if (rest.EndsWith(')') && rest.LastIndexOf(" (", StringComparison.Ordinal) is var dso and >= 0) rest = rest[..dso].TrimEnd();

        var address = Symbolizer.ParseAddress(addressText);
        if (address is { } a && functionAt?.Invoke(a) is { } function) return Clean(function);
        if (rest.Length > 0 && rest != "[unknown]")
        {
            var plus = rest.LastIndexOf("+0x", StringComparison.Ordinal);
            return Clean(plus > 0 ? rest[..plus] : rest);
        }
        return address is { } hex ? "0x" + hex.ToString("x", CultureInfo.InvariantCulture) : null;
    }

    /// <summary>';' separates frames, so a name may not hold one (a space it may: the count follows the last space).</summary>
    private static string Clean(string name) => name.Replace(';', ':');
}

/// <summary>Reads folded stacks back: samples and the functions with the most self and total samples.</summary>
public static class FoldedStacks
{
    /// <summary>
    /// The summary of <paramref name="folded"/> (<c>comm;root;...;leaf count</c> lines). The first frame of each
    /// stack is the command name, not a function, and is left out; a function is counted once per sample
    /// however often it recurs on the stack.
    /// </summary>
    public static ProfileSummary Summarise(string folded, bool symbolized, int top)
    {
        long samples = 0;
        var self = new Dictionary<string, long>(StringComparer.Ordinal);
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (frames, count) in Parse(folded))
        {
            samples += count;
            if (frames.Length < 2) continue;
            self[frames[^1]] = self.GetValueOrDefault(frames[^1]) + count;
            seen.Clear();
            for (var i = 1; i < frames.Length; i++)
                if (seen.Add(frames[i])) total[frames[i]] = total.GetValueOrDefault(frames[i]) + count;
        }

        List<FunctionSamples> Top(Dictionary<string, long> by) => by
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(top)
            .Select(kv => new FunctionSamples(kv.Key, self.GetValueOrDefault(kv.Key), total.GetValueOrDefault(kv.Key)))
            .ToList();
        return new ProfileSummary((int)Math.Min(samples, int.MaxValue), symbolized, Top(self), Top(total));
    }

    /// <summary>The stacks of folded text; lines that do not end in a count are skipped.</summary>
    public static IEnumerable<(string[] Frames, long Count)> Parse(string folded)
    {
        foreach (var line in folded.Split('\n'))
        {
            var text = line.TrimEnd('\r');
            var space = text.LastIndexOf(' ');
            if (space <= 0 || !long.TryParse(text.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)) continue;
            yield return (text[..space].Split(';'), count);
        }
    }
}
