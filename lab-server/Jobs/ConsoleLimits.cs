using System.Text;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Jobs;

/// <summary>One console line as it is stored.</summary>
public readonly record struct StoredLine(long LineNo, int Boot, DateTimeOffset HostTime, string Text);

/// <summary>One boot's console counters as <see cref="ConsoleLimits.Apply"/> reads and updates them (<see cref="ConsoleBootRow"/>).</summary>
public sealed class BootConsole
{
    public long Lines { get; set; }
    public long Bytes { get; set; }
    public long Dropped { get; set; }
    /// <summary>Changed by the chunk: to be written back.</summary>
    public bool Changed { get; set; }
}

/// <summary>
/// What of a console chunk the server stores, under <c>Lab:Limits</c> (validation only; AgentJobs stores). A line
/// longer than <see cref="LimitsOptions.ConsoleLineBytes"/> is cut and says so at its end. Each boot (and the build
/// output, boot -1) may store <see cref="LimitsOptions.ConsoleLinesPerBoot"/> lines and
/// <see cref="LimitsOptions.ConsoleBytesPerBoot"/> bytes, the whole job <see cref="LimitsOptions.ConsoleLinesPerJob"/>
/// lines and <see cref="LimitsOptions.ConsoleBytesPerJob"/> bytes. Past a limit the next line is replaced by a marker
/// line saying so, and every later line (of that boot, or of the job) is counted (<c>console_boots.dropped</c>,
/// <c>jobs.console_dropped</c>) and acknowledged, not stored: the agent is not made to retry a flood, one boot's flood
/// leaves the next boots their console, and the fact is never lost.
/// </summary>
public static class ConsoleLimits
{
    /// <summary>What ends a cut line.</summary>
    public static string CutMarker(int kept, int total) => $" [lab: line cut at {kept} of {total} bytes]";

    /// <summary>The line stored in place of the first line past the job's limit.</summary>
    public static string LimitMarker(string which) => $"[lab: console limit reached ({which}); this and later lines of the job are counted, not stored]";

    /// <summary>The line stored in place of the first line past one boot's limit.</summary>
    public static string BootLimitMarker(int boot, string which) =>
        $"[lab: console limit of {(boot < 0 ? "the build" : $"boot {boot}")} reached ({which}); this and later lines of {(boot < 0 ? "the build" : "the boot")} are counted, not stored]";

    /// <param name="StoredBytes">Bytes stored for the job after the chunk.</param>
    /// <param name="Dropped">Lines dropped for the job's own limit after the chunk (a boot's are in its <see cref="BootConsole"/>).</param>
    public readonly record struct Result(IReadOnlyList<StoredLine> Lines, long StoredBytes, long Dropped);

    /// <summary>Applies the limits to <paramref name="lines"/>, numbered from <paramref name="firstLineNo"/>.</summary>
    /// <param name="storedLines">Lines the job holds (count minus every dropped line, the job's and the boots').</param>
    /// <param name="boots">The job's boots' counters, updated in place (missing boots are added).</param>
    public static Result Apply(IEnumerable<ConsoleLine> lines, long firstLineNo, long storedLines, long storedBytes, long dropped, IDictionary<int, BootConsole> boots, LimitsOptions limits)
    {
        var result = new List<StoredLine>();
        var lineNo = firstLineNo;
        foreach (var line in lines)
        {
            var text = Cut(AgentText.Storable(line.Text), limits.ConsoleLineBytes);
            var bytes = Encoding.UTF8.GetByteCount(text);
            if (!boots.TryGetValue(line.Boot, out var boot))
                boots[line.Boot] = boot = new BootConsole();
            if (dropped > 0)
            {
                dropped++;
            }
            else if (storedLines >= limits.ConsoleLinesPerJob || storedBytes + bytes > limits.ConsoleBytesPerJob)
            {
                var which = storedLines >= limits.ConsoleLinesPerJob
                    ? $"{limits.ConsoleLinesPerJob} lines"
                    : $"{limits.ConsoleBytesPerJob} bytes";
                result.Add(new StoredLine(lineNo, line.Boot, line.HostTime, LimitMarker(which)));
                dropped = 1;
            }
            else if (boot.Dropped > 0)
            {
                boot.Dropped++;
                boot.Changed = true;
            }
            else if (boot.Lines >= limits.ConsoleLinesPerBoot || boot.Bytes + bytes > limits.ConsoleBytesPerBoot)
            {
                var which = boot.Lines >= limits.ConsoleLinesPerBoot
                    ? $"{limits.ConsoleLinesPerBoot} lines"
                    : $"{limits.ConsoleBytesPerBoot} bytes";
                result.Add(new StoredLine(lineNo, line.Boot, line.HostTime, BootLimitMarker(line.Boot, which)));
                boot.Dropped = 1;
                boot.Changed = true;
            }
            else
            {
                result.Add(new StoredLine(lineNo, line.Boot, line.HostTime, text));
                storedLines++;
                storedBytes += bytes;
                boot.Lines++;
                boot.Bytes += bytes;
                boot.Changed = true;
            }
            lineNo++;
        }
        return new Result(result, storedBytes, dropped);
    }
    /// <summary>The text cut to at most <paramref name="maxBytes"/> UTF-8 bytes (on a character boundary), with a note of the cut.</summary>
    public static string Cut(string text, int maxBytes)
    {
        // Fast path: a string of n chars has at most 3n UTF-8 bytes.
        if (text.Length * 3L <= maxBytes) return text;
        var total = Encoding.UTF8.GetByteCount(text);
        if (total <= maxBytes) return text;
        var keep = 0;
        var bytes = 0;
        while (keep < text.Length)
        {
            var width = char.IsHighSurrogate(text[keep]) && keep + 1 < text.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(text.AsSpan(keep, width));
            if (bytes + size > maxBytes) break;
            bytes += size;
            keep += width;
        }
        return text[..keep] + CutMarker(bytes, total);
    }
}
