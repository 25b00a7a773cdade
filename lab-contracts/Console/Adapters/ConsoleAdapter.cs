using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Contracts.Console.Adapters;

/// <summary>What an adapter made of one console line.</summary>
/// <param name="KernelNs">The kernel's own time of the line (Linux printk timestamps), when it has one.</param>
/// <param name="Stage">A boot milestone the line announces (ADAPTERS.md lists each adapter's).</param>
/// <param name="Claimed">The line belongs to a crash report the adapter read (it is not an unclaimed crash-like line).</param>
public readonly record struct AdapterLine(long? KernelNs, string? Stage, bool Claimed);

/// <summary>A console line that ended the boot, and the outcome it gives.</summary>
public sealed record EndLine(Outcome Outcome, string Text, long Line);

/// <summary>
/// Reads one kernel's own console formats (ADAPTERS.md beside this file): milestones as stages,
/// kernel times, crash reports as findings, panics, and the lines that end a boot. One per boot;
/// not thread-safe. Adapters never see lab-protocol markers' meaning: they run beside the marker
/// parser and the pipeline's regexes, and all of them feed the same boot.
/// </summary>
public abstract class ConsoleAdapter
{
    private readonly List<FindingBuilder> _findings = [];

    /// <summary>The adapter for <c>console.kernel</c>; null for <c>lab</c> (markers and regexes only).</summary>
    public static ConsoleAdapter? For(string kernel) => kernel switch
    {
        "redox" => new RedoxConsoleAdapter(),
        "linux" => new LinuxConsoleAdapter(),
        "lab" => null,
        _ => throw new ArgumentException($"no console adapter '{kernel}'", nameof(kernel)),
    };

    /// <summary>The adapter's name as pipelines write it.</summary>
    public abstract string Name { get; }

    /// <summary>Reads one line (its text without the newline) with its per-job line index.</summary>
    public abstract AdapterLine Accept(string text, long lineIndex);

    /// <summary>The crash that made the kernel panic, once one did (its finding may still be growing).</summary>
    public FindingBuilder? Panic { get; protected set; }

    /// <summary>The line that ended the boot by this adapter's defaults (<c>HALT</c>, <c>reboot: Power down</c>), when one did.</summary>
    public EndLine? End { get; protected set; }

    /// <summary>True once the kernel panicked or printed an end line: the agent stops the machine soon.</summary>
    public bool Ended => Panic is not null || End is not null;

    /// <summary>Log lines at warning level.</summary>
    public int Warnings { get; protected set; }

    /// <summary>Log lines at error level.</summary>
    public int Errors { get; protected set; }

    /// <summary>The adapter's findings so far, in the order their first line arrived.</summary>
    public IEnumerable<FindingReport> Findings() => _findings.Select(f => f.ToReport());

    /// <summary>Metrics the adapter counted (log warnings and errors), for adapters that read log levels.</summary>
    public virtual IEnumerable<MetricReport> Metrics() => [];

    /// <summary>Starts a finding at <paramref name="line"/>.</summary>
    protected FindingBuilder Open(string kind, long line)
    {
        var finding = new FindingBuilder(kind, line);
        _findings.Add(finding);
        return finding;
    }

    /// <summary>Matches with the shared timeout of adapter patterns; a match that times out counts as none.</summary>
    protected static Match Try(Regex regex, string text)
    {
        try
        {
            return regex.Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return Match.Empty;
        }
    }

    /// <summary>Adapter patterns are fixed, anchored and linear; the timeout guards against pathological lines anyway.</summary>
    protected const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    /// <summary>Match timeout of adapter patterns.</summary>
    protected const int TimeoutMs = 100;

    /// <summary><c>0x</c> and the lower-case hex digits of <paramref name="hex"/> (which may carry a <c>0x</c> already).</summary>
    protected static string Hex(string hex)
    {
        string digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        return "0x" + digits.ToLowerInvariant();
    }
}
