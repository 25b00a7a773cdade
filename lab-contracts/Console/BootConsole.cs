using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Console;

/// <summary>
/// Everything one boot's console said, built line by line: stages (from markers and the
/// pipeline's regexes) with kernel and host times, metrics, tests, findings, the profile, the end
/// marker, corrupt-marker count, and the derived <see cref="Outcome"/> (PROTOCOL.md, last section).
/// Not thread-safe: one per boot.
/// </summary>
public sealed class BootConsole
{
    /// <summary>Starts a boot at <paramref name="poweredOnAt"/> (host time zero for stages).</summary>
    public BootConsole(PipelineDefinition pipeline, DateTimeOffset poweredOnAt) => throw new NotImplementedException();

    /// <summary>Takes one line with the host time it arrived and its per-job line index (for findings).</summary>
    public void Accept(RawConsoleLine line, DateTimeOffset hostTime, long lineIndex) => throw new NotImplementedException();

    /// <summary>True once an end marker, a panic or the success regex was seen: the agent stops the machine.</summary>
    public bool Ended => throw new NotImplementedException();

    /// <summary>Valid markers whose checksum or fields failed.</summary>
    public int CorruptMarkers => throw new NotImplementedException();

    /// <summary>
    /// The boot's report. <paramref name="timedOut"/> says the boot timeout passed (or the machine
    /// stopped) before <see cref="Ended"/>; the outcome then is boot-timeout, no-output or garbage.
    /// </summary>
    public BootReport ToReport(int index, DateTimeOffset endedAt, bool timedOut) => throw new NotImplementedException();
}
