using System.Text.Json;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Server;

/// <summary>
/// Keeps a boot report within the server's published <see cref="ReportLimits"/> (SPOOL.md, "Reports that fit"): a
/// kernel that prints 800,000 test markers must not make a report the server refuses with 413, which would lose the
/// boot and blame the lab. What is left out is counted in <see cref="BootReport.Cut"/>, which the server records in
/// the boot's detail and judges as the kernel's fault (a passed boot that had to be cut is sent as test-failed).
/// </summary>
public static class BootReportFit
{
    /// <summary>Room kept below <see cref="ReportLimits.ReportBytes"/> for what the count cannot see (the cut itself, rounding).</summary>
    public const long Headroom = 64 * 1024;

    /// <summary>The report cut to <paramref name="limits"/>: counts first, then texts, then bytes (the profile goes first, then halves of the largest list).</summary>
    public static BootReport Fit(BootReport report, ReportLimits limits)
    {
        var cut = report.Cut ?? new ReportCut();
        var stages = Cap(report.Stages, limits.StagesPerBoot, out var s);
        var tests = Cap(report.Tests, limits.TestsPerBoot, out var t);
        var metrics = Cap(report.Metrics, limits.MetricsPerBoot, out var m);
        var findings = Cap(report.Findings, limits.FindingsPerBoot, out var f);
        cut = cut with { Stages = cut.Stages + s, Tests = cut.Tests + t, Metrics = cut.Metrics + m, Findings = cut.Findings + f };

        var chars = limits.TextChars;
        var fitted = report with
        {
            Detail = BoundOrNull(report.Detail, chars),
            Stages = stages.Select(x => x with { Name = Bound(x.Name, chars), Source = Bound(x.Source, chars) }).ToList(),
            Tests = tests.Select(x => x with { Name = Bound(x.Name, chars), Result = Bound(x.Result, chars), Detail = BoundOrNull(x.Detail, chars) }).ToList(),
            Metrics = metrics.Select(x => x with { Name = Bound(x.Name, chars), Unit = Bound(x.Unit, chars), Stat = Bound(x.Stat, chars) }).ToList(),
            Findings = findings.Select(x => x with { Kind = Bound(x.Kind, chars), Fields = x.Fields.ToDictionary(kv => kv.Key, kv => Bound(kv.Value, chars), StringComparer.Ordinal) }).ToList(),
        };

        var budget = Math.Max(limits.ReportBytes - Headroom, 1);
        while (Size(fitted with { Cut = cut }) > budget)
        {
            if (fitted.Profile is { } profile)
            {
                cut = cut with { ProfileChars = cut.ProfileChars + profile.Length };
                fitted = fitted with { Profile = null };
                continue;
            }
            // Halve the list that weighs most; each round removes something, so this ends.
            var weights = new[] { Size(fitted.Stages), Size(fitted.Tests), Size(fitted.Metrics), Size(fitted.Findings) };
            var heaviest = Array.IndexOf(weights, weights.Max());
            if (heaviest == 0 && fitted.Stages.Count > 0)
            {
                cut = cut with { Stages = cut.Stages + fitted.Stages.Count - fitted.Stages.Count / 2 };
                fitted = fitted with { Stages = fitted.Stages.Take(fitted.Stages.Count / 2).ToList() };
            }
            else if (heaviest == 1 && fitted.Tests.Count > 0)
            {
                cut = cut with { Tests = cut.Tests + fitted.Tests.Count - fitted.Tests.Count / 2 };
                fitted = fitted with { Tests = fitted.Tests.Take(fitted.Tests.Count / 2).ToList() };
            }
            else if (heaviest == 2 && fitted.Metrics.Count > 0)
            {
                cut = cut with { Metrics = cut.Metrics + fitted.Metrics.Count - fitted.Metrics.Count / 2 };
                fitted = fitted with { Metrics = fitted.Metrics.Take(fitted.Metrics.Count / 2).ToList() };
            }
            else if (heaviest == 3 && fitted.Findings.Count > 0)
            {
                cut = cut with { Findings = cut.Findings + fitted.Findings.Count - fitted.Findings.Count / 2 };
                fitted = fitted with { Findings = fitted.Findings.Take(fitted.Findings.Count / 2).ToList() };
            }
            else
            {
                break; // nothing left to cut: the bounded detail and fingerprint are all that is left
            }
        }
        return Judged(fitted, cut);
    }

    /// <summary>
    /// The boot with its outcome, times and detail only, everything else counted as cut: what the agent sends when the
    /// server refused a report as too large anyway (a server with smaller limits than it published), so the boot is
    /// stored and the job is not retried as an infrastructure error.
    /// </summary>
    public static BootReport Stripped(BootReport report, int textChars)
    {
        var cut = report.Cut ?? new ReportCut();
        cut = cut with
        {
            Stages = cut.Stages + report.Stages.Count,
            Tests = cut.Tests + report.Tests.Count,
            Metrics = cut.Metrics + report.Metrics.Count,
            Findings = cut.Findings + report.Findings.Count,
            ProfileChars = cut.ProfileChars + (report.Profile?.Length ?? 0),
        };
        return Judged(report with { Detail = BoundOrNull(report.Detail, textChars), Stages = [], Tests = [], Metrics = [], Findings = [], Profile = null }, cut);
    }

    /// <summary>A cut report carries its cut; a passed boot that had to be cut is test-failed, as the server judges it.</summary>
    private static BootReport Judged(BootReport report, ReportCut cut) => cut.Any
        ? report with { Cut = cut, Outcome = report.Outcome == Outcome.Passed ? Outcome.TestFailed : report.Outcome }
        : report with { Cut = report.Cut };

    private static IReadOnlyList<T> Cap<T>(IReadOnlyList<T> items, int max, out int dropped)
    {
        max = Math.Max(max, 0);
        dropped = Math.Max(items.Count - max, 0);
        return dropped == 0 ? items : items.Take(max).ToList();
    }

    /// <summary>Cut to at most <paramref name="max"/> characters marker included, so the server keeps it as it is.</summary>
    internal static string Bound(string text, int max)
    {
        if (text.Length <= max) return text;
        // keep <= max, so the marker written with max is at least as long as the one written with keep.
        var keep = max - Marker(max, text.Length).Length;
        if (keep <= 0) return text[..max];
        if (char.IsHighSurrogate(text[keep - 1])) keep--;
        return text[..keep] + Marker(keep, text.Length);
    }

    private static string Marker(int kept, int total) => $" [lab: cut at {kept} of {total} characters]";

    private static string? BoundOrNull(string? text, int max) => text is null ? null : Bound(text, max);

    /// <summary>The JSON size in UTF-8 bytes as the client sends it, counted without keeping the bytes.</summary>
    internal static long Size<T>(T value)
    {
        using var counter = new CountingStream();
        JsonSerializer.Serialize(counter, value, ServerJson.Options);
        return counter.Length;
    }

    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}
