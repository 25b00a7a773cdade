namespace Redox.Lab.Contracts.Console;

/// <summary>A complete console line: its bytes (without newline), decoded text, and whether it was cut at the length limit.</summary>
public sealed record RawConsoleLine(byte[] Bytes, string Text, bool Truncated);

/// <summary>
/// Cuts a console byte stream into lines across arbitrary read boundaries (PROTOCOL.md, "Lines").
/// Not thread-safe: one per console reader.
/// </summary>
public sealed class ConsoleLineSplitter
{
    /// <summary>Lines longer than this many bytes are cut and flagged.</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>Feeds bytes as they were read; returns the lines they completed (possibly none).</summary>
    public IReadOnlyList<RawConsoleLine> Feed(ReadOnlySpan<byte> bytes) => throw new NotImplementedException();

    /// <summary>At end of stream: the unterminated rest as a last line, or null when there is none.</summary>
    public RawConsoleLine? Flush() => throw new NotImplementedException();

    /// <summary>Total bytes fed so far.</summary>
    public long BytesSeen => throw new NotImplementedException();
}
