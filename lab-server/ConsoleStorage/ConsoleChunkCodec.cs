using System.Buffers;
using System.IO.Compression;
using System.Text;
using Redox.Lab.Dashboard.Pages.Run;

namespace Redox.Lab.Server.ConsoleStorage;

/// <summary>
/// The bytes of one <c>console_chunks</c> row (STORAGE.md): consecutive lines of a job, Brotli-compressed. Each
/// line is three LEB128 varints and its text: zigzag(boot), zigzag(host time in ticks minus the previous
/// line's, the first line's from 0), the UTF-8 length, then the UTF-8 bytes. Line numbers are implied:
/// the row's <c>first_line</c> plus the line's position. Written by hand: a console line is three numbers and a
/// string, and the neighbouring lines' times differ by little, which a general serializer would not exploit.
/// </summary>
public static class ConsoleChunkCodec
{
    /// <summary>A chunk ends after this many lines...</summary>
    public const int MaxLines = 4096;

    /// <summary>...or once its text reaches this many bytes (before compression).</summary>
    public const int MaxRawBytes = 1 << 20;

    public static byte[] Encode(IReadOnlyList<NumberedLine> lines, out int rawBytes)
    {
        var raw = new ArrayBufferWriter<byte>(64 * 1024);
        long previous = 0;
        foreach (var line in lines)
        {
            var ticks = line.HostTime.UtcTicks;
            WriteVarint(raw, ZigZag(line.Boot));
            WriteVarint(raw, ZigZag(ticks - previous));
            previous = ticks;
            var length = Encoding.UTF8.GetByteCount(line.Text);
            WriteVarint(raw, (ulong)length);
            Encoding.UTF8.GetBytes(line.Text, raw.GetSpan(length));
            raw.Advance(length);
        }
        rawBytes = raw.WrittenCount;
        using var output = new MemoryStream(raw.WrittenCount / 4 + 64);
        // Quality 5: most of Brotli's ratio on text at a fraction of the CPU of 11 (this runs on the server).
        using (var brotli = new BrotliStream(output, new BrotliCompressionOptions { Quality = 5 }, leaveOpen: true))
            brotli.Write(raw.WrittenSpan);
        return output.ToArray();
    }

    public static List<NumberedLine> Decode(byte[] data, long firstLine, int lineCount)
    {
        using var input = new BrotliStream(new MemoryStream(data), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        input.CopyTo(raw);
        var span = raw.GetBuffer().AsSpan(0, (int)raw.Length);
        var lines = new List<NumberedLine>(lineCount);
        long ticks = 0;
        var at = 0;
        for (var i = 0; i < lineCount; i++)
        {
            var boot = (int)UnZigZag(ReadVarint(span, ref at));
            ticks += UnZigZag(ReadVarint(span, ref at));
            var length = checked((int)ReadVarint(span, ref at));
            var text = Encoding.UTF8.GetString(span.Slice(at, length));
            at += length;
            lines.Add(new NumberedLine(firstLine + i, boot, new DateTimeOffset(ticks, TimeSpan.Zero), text));
        }
        if (at != span.Length) throw new InvalidDataException($"console chunk at line {firstLine}: {span.Length - at} bytes after its {lineCount} lines");
        return lines;
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static void WriteVarint(ArrayBufferWriter<byte> w, ulong v)
    {
        var span = w.GetSpan(10);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        w.Advance(n);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong v = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= span.Length) throw new InvalidDataException("console chunk ends inside a number");
            var b = span[at++];
            v |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException("console chunk: a number longer than 64 bits");
    }
}
