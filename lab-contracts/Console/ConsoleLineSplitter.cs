using System.Text;

namespace Redox.Lab.Contracts.Console;

/// <summary>A complete console line: its bytes (without newline), decoded text, and whether it was cut at the length limit.</summary>
public sealed record RawConsoleLine(byte[] Bytes, string Text, bool Truncated)
{
    /// <summary>A line from its bytes, decoded as UTF-8 with U+FFFD for invalid bytes.</summary>
    public static RawConsoleLine FromBytes(ReadOnlySpan<byte> bytes, bool truncated = false) =>
        new(bytes.ToArray(), Encoding.UTF8.GetString(bytes), truncated);

    /// <summary>A line from text (UTF-8 encoded), for tests and replays of stored console logs.</summary>
    public static RawConsoleLine FromText(string text) =>
        new(Encoding.UTF8.GetBytes(text), text, Truncated: false);
}

/// <summary>
/// Cuts a console byte stream into lines across arbitrary read boundaries (PROTOCOL.md, "Lines").
/// Not thread-safe: one per console reader.
/// </summary>
/// <remarks>
/// A <c>\r</c> right before <c>\n</c> is dropped. A line longer than <see cref="MaxLineBytes"/>
/// is emitted in pieces of that size flagged <see cref="RawConsoleLine.Truncated"/>; its rest
/// goes on as a new line. Memory stays bounded by one line whatever the stream holds.
/// </remarks>
public sealed class ConsoleLineSplitter
{
    /// <summary>Lines longer than this many bytes are cut and flagged.</summary>
    public const int MaxLineBytes = 4096;

    // One byte more than a line may hold: it may be a '\r' that a following '\n' drops, which
    // decides whether a line of exactly MaxLineBytes is whole or cut.
    private readonly byte[] _pending = new byte[MaxLineBytes + 1];
    private int _length;
    private long _bytesSeen;

    /// <summary>Feeds bytes as they were read; returns the lines they completed (possibly none).</summary>
    public IReadOnlyList<RawConsoleLine> Feed(ReadOnlySpan<byte> bytes)
    {
        _bytesSeen += bytes.Length;
        List<RawConsoleLine>? lines = null;
        while (!bytes.IsEmpty)
        {
            int newline = bytes.IndexOf((byte)'\n');
            Append(newline < 0 ? bytes : bytes[..newline], ref lines);
            if (newline < 0)
            {
                break;
            }

            EmitPending(ref lines);
            bytes = bytes[(newline + 1)..];
        }

        return lines is null ? [] : lines;
    }

    /// <summary>At end of stream: the unterminated rest as a last line, or null when there is none.</summary>
    /// <remarks>A trailing <c>\r</c> is dropped, as if the newline it announced had arrived.</remarks>
    public RawConsoleLine? Flush()
    {
        if (_length == 0)
        {
            return null;
        }

        List<RawConsoleLine>? unused = null;
        return EmitPending(ref unused);
    }

    /// <summary>Total bytes fed so far.</summary>
    public long BytesSeen => _bytesSeen;

    /// <summary>Appends bytes that hold no newline, cutting full lines off the front as they overflow.</summary>
    private void Append(ReadOnlySpan<byte> bytes, ref List<RawConsoleLine>? lines)
    {
        while (!bytes.IsEmpty)
        {
            if (_length == _pending.Length)
            {
                CutFull(ref lines); // the held '\r' was not followed by '\n'
            }

            int n = Math.Min(_pending.Length - _length, bytes.Length);
            bytes[..n].CopyTo(_pending.AsSpan(_length));
            _length += n;
            bytes = bytes[n..];
            if (_length == _pending.Length && _pending[MaxLineBytes] != (byte)'\r')
            {
                CutFull(ref lines);
            }
        }
    }

    /// <summary>Emits the first <see cref="MaxLineBytes"/> pending bytes as a truncated line; the one byte past them stays.</summary>
    private void CutFull(ref List<RawConsoleLine>? lines)
    {
        Emit(_pending.AsSpan(0, MaxLineBytes), truncated: true, ref lines);
        _pending[0] = _pending[MaxLineBytes];
        _length = 1;
    }

    /// <summary>Emits the pending bytes as a complete line (the newline arrived, or the stream ended).</summary>
    private RawConsoleLine EmitPending(ref List<RawConsoleLine>? lines)
    {
        // Append leaves MaxLineBytes + 1 bytes only when the last is '\r', so the line fits.
        var line = _pending.AsSpan(0, _length);
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        var raw = RawConsoleLine.FromBytes(line);
        (lines ??= []).Add(raw);
        _length = 0;
        return raw;
    }

    private static void Emit(ReadOnlySpan<byte> bytes, bool truncated, ref List<RawConsoleLine>? lines) =>
        (lines ??= []).Add(RawConsoleLine.FromBytes(bytes, truncated));
}
