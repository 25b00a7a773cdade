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
    public BootReport ToReport(int index, DateTimeOffset endedAt, bool timedOut) => ToReport(index, endedAt, timedOut, BootStop.None);

    /// <summary>
    /// The boot's report, knowing how the machine stopped (<paramref name="stop"/>): a clean power-off
    /// ends a boot that printed no end, a reset is <see cref="Outcome.MachineReset"/>, the guest panic
    /// device a kernel panic.
    /// </summary>
    public BootReport ToReport(int index, DateTimeOffset endedAt, bool timedOut, BootStop stop)
    {
        var (outcome, detail) = Derive(endedAt - _poweredOnAt, timedOut, stop);
        var notes = new List<string>();
        if (detail is not null)
        {
            notes.Add(detail);
        }

        if (outcome != Outcome.Passed && outcome != Outcome.Pending)
        {
            var missing = _stages.Missing.ToList();
            if (missing.Count > 0)
            {
                notes.Add($"stages not reached: {string.Join(", ", missing)}");
            }
        }

        if (_crashLike > 0 && _firstCrashLike is { } first0)
        {
            notes.Add($"warning: {Count(_crashLike, "line")} that look like a crash but no pattern claimed (first at line {first0.Line}: {first0.Text})");
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
            _adapter is null ? _metrics.ToList() : [.. _metrics, .. _adapter.Metrics()],
            _tests.ToList(),
            _adapter is null ? _findings.ToList() : [.. _findings.Concat(_adapter.Findings()).OrderBy(f => f.Line)],
            _corrupt.Count,
            _profile.Text,
            Machine?.Fingerprint() is { Count: > 0 } seen ? seen : null);
    }

    private (Outcome Outcome, string? Detail) Derive(TimeSpan elapsed, bool timedOut, BootStop stop)
    {
        string reachedNote = LastStage is null ? "no stage reached" : "last stage " + LastStage;
        if (_panicDetail is not null)
        {
            return (Outcome.KernelPanic, $"{_panicDetail}; {reachedNote}");
        }

        if (_adapter?.Panic is { } crash)
        {
            return (Outcome.KernelPanic, $"{Describe(crash.ToReport())}; {reachedNote}");
        }

        var failed = _tests.Where(t => t.Result == "fail").Select(t => t.Name).ToList();
        if (_end is not null)
        {
            return _end.Status == "pass" && failed.Count == 0
                ? (Outcome.Passed, PassDetail())
                : (Outcome.TestFailed, FailDetail(failed));
        }

        if ((_endLine ?? _adapter?.End) is { } endLine)
        {
            return endLine.Outcome == Outcome.Passed && failed.Count > 0
                ? (Outcome.TestFailed, FailDetail(failed))
                : (endLine.Outcome, $"end line {endLine.Line}: {endLine.Text}" + (endLine.Outcome == Outcome.Passed ? "" : $"; {reachedNote}"));
        }

        if (_successMatched)
        {
            return (Outcome.Passed, "success regex matched");
        }

        if (!timedOut)
        {
            return (Outcome.Pending, "boot still running");
        }

        switch (stop)
        {
            case BootStop.GuestPanic:
                return (Outcome.KernelPanic, $"the guest's panic device fired; {reachedNote}");
            case BootStop.Reset:
                return (Outcome.MachineReset, $"the machine reset (triple fault or reboot) before the boot ended; {reachedNote}");
            case BootStop.PoweredOff:
                var missing = _stages.Missing.ToList();
                return failed.Count > 0 ? (Outcome.TestFailed, FailDetail(failed) + "; then the machine powered off")
                    : missing.Count == 0 ? (Outcome.Passed, "the machine powered off cleanly" + (LastStage is null ? "" : $" after stage {LastStage}"))
                    : (Outcome.TestFailed, $"the machine powered off before every stage was reached; {reachedNote}");
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

        return (Outcome.BootTimeout, $"no end marker after {seconds}, {reachedNote}");
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

/// <summary>How the machine stopped, as the agent learned it (QEMU: from QMP events).</summary>
public enum BootStop
{
    /// <summary>The console said the boot ended, or nothing is known.</summary>
    None,
    /// <summary>The boot timeout passed.</summary>
    Timeout,
    /// <summary>The console printed nothing for <c>boot.silence</c>.</summary>
    Silence,
    /// <summary>The guest powered the machine off (ACPI shutdown): an end, not a timeout.</summary>
    PoweredOff,
    /// <summary>The guest reset the machine (a reboot, or a triple fault).</summary>
    Reset,
    /// <summary>The guest's panic device (pvpanic) reported a panic.</summary>
    GuestPanic,
    /// <summary>The machine stopped for another reason (QEMU exited, the console closed).</summary>
    Exited,
}
