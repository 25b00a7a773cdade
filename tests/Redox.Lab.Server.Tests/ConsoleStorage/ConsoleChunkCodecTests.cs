using Redox.Lab.Dashboard.Pages.Run;
using Redox.Lab.Server.ConsoleStorage;

namespace Redox.Lab.Server.Tests.ConsoleStorage;

public sealed class ConsoleChunkCodecTests
{
    [Fact]
    public void Decode_EncodedLines_SameLinesTimesAndBoots()
    {
        var t = new DateTimeOffset(2026, 12, 1, 21, 0, 0, TimeSpan.Zero);
        List<NumberedLine> lines =
        [
            new(100, -1, t, "make: Entering directory 'kernel'"),
            new(101, 0, t.AddTicks(-10), ""), // a host clock that stepped back
            new(102, 0, t.AddSeconds(1.5), "ünïcode ✓ \uFFFD <b>&amp;</b>"),
            new(103, 7, t.AddDays(3), new string('x', 70_000)),
        ];

        var data = ConsoleChunkCodec.Encode(lines, out var raw);
        var back = ConsoleChunkCodec.Decode(data, 100, lines.Count);

        Assert.Equal(lines, back);
        Assert.True(raw > 70_000);
        Assert.True(data.Length < raw / 10, $"{data.Length} of {raw}");
    }

    [Fact]
    public void Decode_TruncatedChunk_InvalidDataNotWrongLines()
    {
        var data = ConsoleChunkCodec.Encode([new NumberedLine(0, 0, DateTimeOffset.UnixEpoch, "one"), new NumberedLine(1, 0, DateTimeOffset.UnixEpoch, "two")], out _);

        Assert.ThrowsAny<Exception>(() => ConsoleChunkCodec.Decode(data, 0, 3));
        Assert.Throws<InvalidDataException>(() => ConsoleChunkCodec.Decode(data, 0, 1));
    }
}
