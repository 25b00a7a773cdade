using System.Globalization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Contracts.Console;

// The outcome of a boot, in the order of precedence of PROTOCOL.md ("What the agent derives").
public sealed partial class BootConsole
{
    private const int FailedTestsNamed = 3;

    /// <summary>
    /// The boot's report. <paramref name="timedOut"/> says the boot timeout passed (or the machine
    /// stopped) before <see cref="Ended"/>; the outcome then is boot-timeout, no-output or garbage.
    /// </summary>
    /// <remarks>
    /// Before <see cref="Ended"/> and without <paramref name="timedOut"/> the outcome is
    /// <see cref="Outcome.Pending"/>: a snapshot of a boot still running. The report does not
    /// change with later lines; calling this again gives a new one.
    /// </remarks>
    public BootReport ToReport(int index, DateTimeOffset endedAt, bool timedOut)
    {
        var (outcome, detail) = Derive(endedAt - _poweredOnAt, timedOut);
        var notes = new List<string>();
        if (detail is not null)
        {
            notes.Add(detail);
        }

        if (_corrupt.Count > 0)
        {
            var first = _corrupt[0];
            notes.Add($"{Count(_corrupt.Count, "corrupt marker")} (first at line {first.Line}: {first.Error})");
        }

        notes.AddRange(_profile.ProblemsAtEnd());
        return new BootReport(
            index,
            outcome,
            notes.Count == 0 ? null : string.Join("; ", notes),
            _poweredOnAt,
            endedAt,
            TscHz,
            _stages.Report(TscHz, _tscBase),
            _metrics.ToList(),
            _tests.ToList(),
            _findings.ToList(),
            _corrupt.Count,
            _profile.Text);
    }

    private (Outcome Outcome, string? Detail) Derive(TimeSpan elapsed, bool timedOut)
    {
        if (_panicDetail is not null)
        {
            return (Outcome.KernelPanic, _panicDetail);
        }

        var failed = _tests.Where(t => t.Result == "fail").Select(t => t.Name).ToList();
        if (_end is not null)
        {
            return _end.Status == "pass" && failed.Count == 0
                ? (Outcome.Passed, PassDetail())
                : (Outcome.TestFailed, FailDetail(failed));
        }

        if (_successMatched)
        {
            return (Outcome.Passed, "success regex matched");
        }

        if (!timedOut)
        {
            return (Outcome.Pending, "boot still running");
        }

        string seconds = elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";
        if (LinesSeen == 0)
        {
            return (Outcome.NoOutput, $"no console output in {seconds}");
        }

        // Noise, not a hung kernel: no valid marker, and no readable line or mostly unprintable bytes
        // (random bytes make the odd short line that reads as text; the share is what tells).
        if (!_validMarker && (!_readableLine || _unprintableBytes * 2 > BytesSeen))
        {
            string what = _readableLine
                ? $"{_unprintableBytes} of {BytesSeen} bytes unprintable"
                : $"no readable line in {BytesSeen} bytes";
            return (Outcome.Garbage, _corrupt.Count > 0 ? $"{what}, only corrupt markers" : what);
        }

        string reached = LastStage is null ? "no stage reached" : "last stage " + LastStage;
        return (Outcome.BootTimeout, $"no end marker after {seconds}, {reached}");
    }

    private string PassDetail()
    {
        if (_tests.Count == 0)
        {
            return "end status=pass";
        }

        int skipped = _tests.Count(t => t.Result == "skip");
        string text = Count(_tests.Count - skipped, "test") + " passed";
        return skipped == 0 ? text : $"{text}, {skipped} skipped";
    }

    private string FailDetail(List<string> failed)
    {
        string code = _end?.Code is { } c ? $" code={c}" : "";
        if (failed.Count == 0)
        {
            return $"end status={_end?.Status}{code}";
        }

        string names = string.Join(", ", failed.Take(FailedTestsNamed)) + (failed.Count > FailedTestsNamed ? ", ..." : "");
        return $"{failed.Count} of {Count(_tests.Count, "test")} failed: {names}";
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
