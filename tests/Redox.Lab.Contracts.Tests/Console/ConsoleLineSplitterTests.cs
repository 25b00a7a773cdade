using System.Text;
using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Contracts.Tests.Console;

public class ConsoleLineSplitterTests
{
    private const int Max = ConsoleLineSplitter.MaxLineBytes;

    private static readonly string Stage = ConsoleMarkerParser.Format("stage", ("name", "long-mode"), ("tsc", "8200112"));

    private static readonly byte[] Boot = Encoding.UTF8.GetBytes(
        "kernel::arch::x86_64::start:INFO -- Redox OS starting...\r\n" +
        Stage + "\r\n" +
        "\n" +
        "serial: COM1 at 115200 8N1\n" +
        "cpu1: " + ConsoleMarkerParser.Format("metric", ("name", "tsc.hz"), ("value", "2893112000"), ("unit", "Hz")) + "\n" +
        "no newline at the end");

    private static readonly string[] BootLines =
    [
        "kernel::arch::x86_64::start:INFO -- Redox OS starting...",
        Stage,
        "",
        "serial: COM1 at 115200 8N1",
        "cpu1: " + ConsoleMarkerParser.Format("metric", ("name", "tsc.hz"), ("value", "2893112000"), ("unit", "Hz")),
    ];

    [Fact]
    public void Feed_WholeStream_CutsLinesAndStripsCarriageReturns()
    {
        var splitter = new ConsoleLineSplitter();

        var lines = splitter.Feed(Boot);

        Assert.Equal(BootLines, lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.False(l.Truncated));
        Assert.Equal("no newline at the end", splitter.Flush()?.Text);
        Assert.Equal(Boot.Length, splitter.BytesSeen);
    }

    [Fact]
    public void Feed_ByteByByte_GivesTheSameLines()
    {
        var splitter = new ConsoleLineSplitter();
        var lines = new List<RawConsoleLine>();

        foreach (byte b in Boot)
        {
            lines.AddRange(splitter.Feed([b]));
        }

        Assert.Equal(BootLines, lines.Select(l => l.Text));
        Assert.Equal(MarkerParseStatus.Valid, ConsoleMarkerParser.Parse(lines[1].Bytes).Status);
        Assert.Equal(MarkerParseStatus.Valid, ConsoleMarkerParser.Parse(lines[4].Bytes).Status);
        Assert.Equal("no newline at the end", splitter.Flush()?.Text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(42)]
    public void Feed_RandomChunkSizes_GivesTheSameLines(int seed)
    {
        var random = new Random(seed);
        byte[] stream = [.. Boot, .. "\n"u8, .. new byte[Max * 2 + 7], .. "\r\n"u8, .. Boot];
        var expected = Split(stream, [stream.Length]);

        var actual = Split(stream, RandomChunks(random, stream.Length));

        Assert.Equal(expected.Select(l => (l.Text, l.Truncated)), actual.Select(l => (l.Text, l.Truncated)));
        Assert.Equal(BootLines.Length * 2 + 5, expected.Count); // each boot: its lines and its unterminated rest; the long line: 3 pieces
    }

    [Fact]
    public void Feed_LoneCarriageReturnInsideLine_IsKept()
    {
        var lines = new ConsoleLineSplitter().Feed("a\rb\n"u8);

        Assert.Equal("a\rb", Assert.Single(lines).Text);
    }

    [Fact]
    public void Feed_LineLongerThanLimit_IsCutAndFlagged()
    {
        byte[] stream = [.. Enumerable.Repeat((byte)'x', Max + 904), (byte)'\n'];

        var lines = new ConsoleLineSplitter().Feed(stream);

        Assert.Equal(2, lines.Count);
        Assert.Equal((Max, true), (lines[0].Bytes.Length, lines[0].Truncated));
        Assert.Equal((904, false), (lines[1].Bytes.Length, lines[1].Truncated));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Feed_LineOfExactlyTheLimit_IsWhole(string newline)
    {
        byte[] stream = [.. Enumerable.Repeat((byte)'x', Max), .. Encoding.ASCII.GetBytes(newline), (byte)'y', (byte)'\n'];

        // Split right after the '\r' too: whether the line was whole is decided only by the next read.
        var lines = Split(stream, [Max + 1, stream.Length - Max - 1]);

        Assert.Equal([(Max, false), (1, false)], lines.Select(l => (l.Bytes.Length, l.Truncated)));
    }

    [Fact]
    public void Feed_CarriageReturnAfterFullLineWithoutNewline_StartsTheRest()
    {
        byte[] stream = [.. Enumerable.Repeat((byte)'x', Max), (byte)'\r', (byte)'z', (byte)'\n'];

        var lines = Split(stream, [Max + 1, 2]);

        Assert.Equal([(Max, true), (2, false)], lines.Select(l => (l.Bytes.Length, l.Truncated)));
        Assert.Equal("\rz", lines[1].Text);
    }

    [Fact]
    public void Feed_LineOverOneMebibyte_IsCutIntoBoundedPieces()
    {
        const int size = (1 << 20) + 10;
        var splitter = new ConsoleLineSplitter();
        var lines = new List<RawConsoleLine>();
        var chunk = Enumerable.Repeat((byte)'A', 65536).ToArray();

        for (int sent = 0; sent < size; sent += chunk.Length)
        {
            lines.AddRange(splitter.Feed(chunk.AsSpan(0, Math.Min(chunk.Length, size - sent))));
        }

        lines.AddRange(splitter.Feed("\n"u8));

        Assert.Equal(257, lines.Count);
        Assert.All(lines.Take(256), l => Assert.Equal((Max, true), (l.Bytes.Length, l.Truncated)));
        Assert.Equal((10, false), (lines[^1].Bytes.Length, lines[^1].Truncated));
        Assert.Equal(size + 1, splitter.BytesSeen);
    }

    [Fact]
    public void Feed_InvalidUtf8_KeepsBytesAndShowsReplacementCharacter()
    {
        byte[] stream = [(byte)'o', (byte)'k', 0xFF, 0xC3, (byte)'!', 0xC3, 0xA9, (byte)'\n'];

        var line = Assert.Single(new ConsoleLineSplitter().Feed(stream));

        Assert.Equal("ok\uFFFD\uFFFD!\u00e9", line.Text);
        Assert.Equal(stream[..^1], line.Bytes);
    }

    [Fact]
    public void Flush_NothingPending_ReturnsNull()
    {
        var splitter = new ConsoleLineSplitter();
        splitter.Feed("done\n"u8);

        Assert.Null(splitter.Flush());
        Assert.Equal(5, splitter.BytesSeen);
    }

    [Fact]
    public void Flush_UnterminatedRest_ReturnsItOnceWithoutCarriageReturn()
    {
        var splitter = new ConsoleLineSplitter();
        splitter.Feed("HALT\r"u8);

        Assert.Equal("HALT", splitter.Flush()?.Text);
        Assert.Null(splitter.Flush());
    }

    [Fact]
    public void Feed_MarkerSplitAtEveryPosition_ParsesValid()
    {
        byte[] line = Encoding.ASCII.GetBytes("noise " + Stage + "\n");
        for (int cut = 1; cut < line.Length; cut++)
        {
            var parsed = Split(line, [cut, line.Length - cut]);

            var marker = Assert.Single(parsed);
            Assert.Equal(MarkerParseStatus.Valid, ConsoleMarkerParser.Parse(marker.Bytes).Status);
        }
    }

    private static List<RawConsoleLine> Split(byte[] stream, IEnumerable<int> chunks)
    {
        var splitter = new ConsoleLineSplitter();
        var lines = new List<RawConsoleLine>();
        int at = 0;
        foreach (int size in chunks)
        {
            lines.AddRange(splitter.Feed(stream.AsSpan(at, size)));
            at += size;
        }

        if (splitter.Flush() is { } rest)
        {
            lines.Add(rest);
        }

        return lines;
    }

    private static List<int> RandomChunks(Random random, int total)
    {
        var sizes = new List<int>();
        for (int left = total; left > 0;)
        {
            int size = Math.Min(left, random.Next(0, 3) == 0 ? random.Next(1, 8) : random.Next(1, 6000));
            sizes.Add(size);
            left -= size;
        }

        return sizes;
    }
}
