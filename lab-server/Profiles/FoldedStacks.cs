using System.Globalization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Profiles;

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

/// <summary>Folded stacks uploaded as text: validated, identical stacks merged, sorted.</summary>
public static class FoldedImport
{
    /// <summary>The normalised text of <paramref name="text"/>; lines that are not <c>stack count</c> are counted in <paramref name="skipped"/>.</summary>
    public static string Normalise(string text, out long samples, out int stacks, out long skipped)
    {
        ArgumentNullException.ThrowIfNull(text);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        samples = 0;
        skipped = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            var space = line.LastIndexOf(' ');
            if (space <= 0 || !long.TryParse(line.AsSpan(space + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count))
            {
                skipped++;
                continue;
            }
            var stack = line[..space].TrimEnd();
            counts[stack] = counts.GetValueOrDefault(stack) + count;
            samples += count;
        }
        stacks = counts.Count;
        var sb = new System.Text.StringBuilder();
        foreach (var (stack, count) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(stack).Append(' ').Append(count.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }
}
