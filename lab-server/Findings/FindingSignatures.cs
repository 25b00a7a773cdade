using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Findings;

/// <summary>A finding's signature and a bug's title, from its kind and its top symbolized frames.</summary>
/// <param name="Signature">The dedup key: <c>kind|frame|frame|frame</c>.</param>
/// <param name="Title">For people: <c>double-free in p2buddy_free ← bugs_trigger</c>.</param>
public sealed record FindingSignature(string Signature, string Title);

/// <summary>
/// Findings with one signature are one bug. The signature is the kind plus the top symbolized frames with their
/// addresses and offsets left out (a rebuild moves code, not the bug), and with the pipeline's plumbing frames
/// (panic and report helpers, <c>judge.plumbing</c>) left out, so the frames name where the bug is, not how it was
/// reported. Unsymbolized frames (<c>?</c>) are skipped; a finding without any named frame falls back to its
/// <c>msg</c>, else its kind alone.
/// </summary>
public static partial class FindingSignatures
{
    public static FindingSignature Of(FindingReport finding, IReadOnlyList<string> plumbing, int frames)
    {
        ArgumentNullException.ThrowIfNull(finding);
        ArgumentNullException.ThrowIfNull(plumbing);
        var names = new List<string>();
        // rip names the faulting function of an exception; bt starts at the reporting code's caller.
        if (finding.Fields.TryGetValue("rip.sym", out var rip)) names.Add(Function(rip));
        if (finding.Fields.TryGetValue("bt.sym", out var bt)) names.AddRange(bt.Split(',').Select(Function));
        var top = names
            .Where(n => n.Length > 0 && n != "?" && !plumbing.Any(p => Matches(n, p)))
            .Aggregate(new List<string>(), (list, n) => { if (list.Count == 0 || list[^1] != n) list.Add(n); return list; })
            .Take(Math.Max(1, frames))
            .ToList();
        if (top.Count > 0)
            return new FindingSignature($"{finding.Kind}|{string.Join('|', top)}", $"{finding.Kind} in {string.Join(" ← ", top)}");

        var msg = finding.Fields.TryGetValue("msg", out var m) ? Digits().Replace(m.Trim(), "N") : "";
        return msg.Length > 0
            ? new FindingSignature($"{finding.Kind}|msg:{msg}", $"{finding.Kind}: {msg}")
            : new FindingSignature(finding.Kind, finding.Kind);
    }

    /// <summary><c>p2buddy_free+0x3c</c> → <c>p2buddy_free</c>.</summary>
    internal static string Function(string frame)
    {
        var f = frame.Trim();
        var plus = f.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 ? f[..plus] : f;
    }

    /// <summary>A glob with <c>*</c> only (<c>report_*</c>), whole-name.</summary>
    internal static bool Matches(string name, string glob) =>
        glob.Contains('*', StringComparison.Ordinal)
            ? Regex.IsMatch(name, "^" + Regex.Escape(glob).Replace(@"\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.None, TimeSpan.FromMilliseconds(100))
            : string.Equals(name, glob, StringComparison.Ordinal);

    // Addresses and counts in a message differ between occurrences of one bug.
    [GeneratedRegex(@"(0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*")]
    private static partial Regex Digits();
}
