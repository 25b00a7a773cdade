using System.Text;
using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Contracts.Tests.Console;

public class ConsoleMarkerParserTests
{
    // Checksums below were computed with zlib (Python's zlib.crc32), an independent implementation.
    private const string StageEntry = "@@LAB stage name=entry tsc=8123311 *9f9cb701";
    private const string TscLine = "@@LAB tsc hz=2893112000 base=8123311 *d04a3a22";

    /// <summary>Signs a hand-written marker body (for bodies Format refuses to produce).</summary>
    internal static string Sign(string body) => $"{body} *{ConsoleMarkerParser.Crc32(Encoding.ASCII.GetBytes(body)):x8}";

    [Fact]
    public void Crc32_KnownVector_MatchesIeee()
    {
        Assert.Equal(0xCBF43926u, ConsoleMarkerParser.Crc32("123456789"u8));
        Assert.Equal(0u, ConsoleMarkerParser.Crc32([]));
        Assert.Equal(0x9F9CB701u, ConsoleMarkerParser.Crc32("@@LAB stage name=entry tsc=8123311"u8));
    }

    [Fact]
    public void Parse_ValidStage_ReturnsTypedMarker()
    {
        var result = ConsoleMarkerParser.Parse(Encoding.ASCII.GetBytes(StageEntry));

        Assert.Equal(MarkerParseStatus.Valid, result.Status);
        var stage = Assert.IsType<StageMarker>(result.Marker);
        Assert.Equal("entry", stage.Name);
        Assert.Equal(8123311ul, stage.Tsc);
        Assert.Equal(0, result.Offset);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Parse_KernelTextBeforeMarker_FindsMarkerAtItsOffset()
    {
        const string kernelText = "[    0.001] cpu1: @@LA hello";
        var result = ConsoleMarkerParser.Parse(kernelText + StageEntry);

        Assert.Equal(MarkerParseStatus.Valid, result.Status);
        Assert.Equal(kernelText.Length, result.Offset);
        Assert.Equal("entry", Assert.IsType<StageMarker>(result.Marker).Name);
    }

    [Fact]
    public void Parse_TextAfterChecksum_IsIgnored()
    {
        var result = ConsoleMarkerParser.Parse(StageEntry + " trailing text from another CPU @@LAB *zz");

        Assert.Equal(MarkerParseStatus.Valid, result.Status);
    }

    [Fact]
    public void Parse_UpperCaseChecksum_IsValid()
    {
        var result = ConsoleMarkerParser.Parse("@@LAB stage name=entry tsc=8123311 *9F9CB701");

        Assert.Equal(MarkerParseStatus.Valid, result.Status);
    }

    [Fact]
    public void Parse_LineWithoutPrefix_ReturnsNoMarker()
    {
        var result = ConsoleMarkerParser.Parse("kernel::arch::x86_64::start:INFO -- Redox OS starting... @@LAB"u8);

        Assert.Equal(MarkerParseResult.None, result);
        Assert.Equal(-1, result.Offset);
    }

    [Fact]
    public void Parse_EveryByteReplacedAnywhere_IsNeverValid()
    {
        byte[] original = Encoding.ASCII.GetBytes(StageEntry);
        int checksumStart = original.Length - 8;
        for (int i = 0; i < original.Length; i++)
        {
            for (int value = 0; value < 256; value++)
            {
                // The checksum's hex digits may be either case: 'f' -> 'F' is not corruption.
                if (value == original[i] || (i >= checksumStart && char.ToLowerInvariant((char)value) == (char)original[i]))
                {
                    continue;
                }

                var corrupted = (byte[])original.Clone();
                corrupted[i] = (byte)value;
                var result = ConsoleMarkerParser.Parse(corrupted);
                Assert.True(result.Status != MarkerParseStatus.Valid, $"byte {i} set to 0x{value:X2} still parsed as valid");
                Assert.True(result.Status == MarkerParseStatus.NoMarker || result.Error is { Length: > 0 });
            }
        }
    }

    [Fact]
    public void Parse_WrongChecksum_IsCorruptWithBothValues()
    {
        var result = ConsoleMarkerParser.Parse("@@LAB stage name=entry tsc=8123311 *9f9cb702");

        Assert.Equal(MarkerParseStatus.Corrupt, result.Status);
        Assert.Null(result.Marker);
        Assert.Contains("9f9cb702", result.Error, StringComparison.Ordinal);
        Assert.Contains("9f9cb701", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("@@LAB stage name=entry tsc=8123311", "missing checksum")]
    [InlineData("@@LAB stage name=entry tsc=8123311 *", "8 hex digits")]
    [InlineData("@@LAB stage name=entry tsc=8123311 *9f9cb70", "8 hex digits")]
    [InlineData("@@LAB stage name=entry tsc=8123311 *9f9cb70g", "8 hex digits")]
    public void Parse_MalformedChecksum_IsCorrupt(string line, string error)
    {
        var result = ConsoleMarkerParser.Parse(line);

        Assert.Equal(MarkerParseStatus.Corrupt, result.Status);
        Assert.Contains(error, result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("@@LAB", "missing type")]
    [InlineData("@@LAB ", "missing type")]
    [InlineData("@@LAB stage tsc=1", "missing required key 'name'")]
    [InlineData("@@LAB tsc hz=fast base=0", "'hz'")]
    [InlineData("@@LAB tsc hz=0 base=0", "'hz'")]
    [InlineData("@@LAB tsc hz=100", "missing required key 'base'")]
    [InlineData("@@LAB stage name=entry tsc=-5", "'tsc'")]
    [InlineData("@@LAB metric name=x value=1.2.3 unit=ns", "'value'")]
    [InlineData("@@LAB metric name=x value=NaN unit=ns", "'value'")]
    [InlineData("@@LAB metric name=x value=1", "missing required key 'unit'")]
    [InlineData("@@LAB test name=boot result=maybe", "'result'")]
    [InlineData("@@LAB end status=ok", "'status'")]
    [InlineData("@@LAB end status=pass code=zero", "'code'")]
    [InlineData("@@LAB finding kind=page-fault rip=0xzz", "'rip'")]
    [InlineData("@@LAB finding kind=panic bt=0x1,,0x2", "'bt'")]
    [InlineData("@@LAB profile-end samples=3", "missing required key 'lines'")]
    [InlineData("@@LAB hello kernel=x", "missing required key 'proto'")]
    [InlineData("@@LAB stage Name=entry", "key 'Name'")]
    [InlineData("@@LAB stage name=entry name=again", "appears twice")]
    [InlineData("@@LAB stage name=", "empty value")]
    [InlineData("@@LAB stage name", "no '='")]
    [InlineData("@@LAB Stage name=entry", "type 'Stage'")]
    [InlineData("@@LAB stage name=a%2", "%-escape")]
    [InlineData("@@LAB stage name=a%zz", "%-escape")]
    [InlineData("@@LAB stage name=Entry", "'name'")]
    public void Parse_SignedButInvalidFields_IsCorrupt(string body, string error)
    {
        var result = ConsoleMarkerParser.Parse(Sign(body));

        Assert.Equal(MarkerParseStatus.Corrupt, result.Status);
        Assert.Contains(error, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NonAsciiByteInsideMarker_IsCorruptEvenWithMatchingChecksum()
    {
        byte[] body = [.. "@@LAB test name=x result=pass detail=caf"u8, 0xC3, 0xA9];
        byte[] line = [.. body, .. Encoding.ASCII.GetBytes($" *{ConsoleMarkerParser.Crc32(body):x8}")];

        var result = ConsoleMarkerParser.Parse(line);

        Assert.Equal(MarkerParseStatus.Corrupt, result.Status);
        Assert.Contains("0xC3", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_StringWithNonAsciiInsideMarker_IsCorrupt()
    {
        var result = ConsoleMarkerParser.Parse("@@LAB test name=x result=pass detail=caf\u00e9 *00000000");

        Assert.Equal(MarkerParseStatus.Corrupt, result.Status);
        Assert.Contains("U+00E9", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidUtf8BeforeMarker_IsValid()
    {
        byte[] line = [0xFF, 0xFE, 0x80, .. Encoding.ASCII.GetBytes(StageEntry)];

        var bytes = ConsoleMarkerParser.Parse(line);
        var text = ConsoleMarkerParser.Parse(Encoding.UTF8.GetString(line));

        Assert.Equal(MarkerParseStatus.Valid, bytes.Status);
        Assert.Equal(3, bytes.Offset);
        Assert.Equal(MarkerParseStatus.Valid, text.Status);
        Assert.Equal("entry", Assert.IsType<StageMarker>(text.Marker).Name);
    }

    [Fact]
    public void Format_ValuesNeedingEncoding_RoundTrip()
    {
        var values = new (string Key, string Value)[]
        {
            ("name", "alloc.order0"),
            ("result", "fail"),
            ("detail", "expected 100% got 42 =x= *deadbeef"),
            ("where", "caf\u00e9 \u65e5\u672c\ttab\nnewline"),
            ("pct", "%41"),
        };

        string line = ConsoleMarkerParser.Format("test", values);
        var result = ConsoleMarkerParser.Parse(line);

        Assert.StartsWith("@@LAB test name=alloc.order0 result=fail detail=expected%20100%25%20got%2042%20=x=%20*deadbeef ", line, StringComparison.Ordinal);
        Assert.All(line, c => Assert.InRange(c, ' ', '~'));
        Assert.Equal(MarkerParseStatus.Valid, result.Status);
        var test = Assert.IsType<TestMarker>(result.Marker);
        Assert.Equal("fail", test.Result);
        Assert.Equal("expected 100% got 42 =x= *deadbeef", test.Detail);
        foreach (var (key, value) in values)
        {
            Assert.Equal(value, test.Fields[key]);
        }
    }

    [Fact]
    public void Format_Stage_MatchesZlibChecksum()
    {
        Assert.Equal(StageEntry, ConsoleMarkerParser.Format("stage", ("name", "entry"), ("tsc", "8123311")));
        Assert.Equal(TscLine, ConsoleMarkerParser.Format("tsc", ("hz", "2893112000"), ("base", "8123311")));
    }

    [Theory]
    [InlineData("Stage", "name", "x")]
    [InlineData("stage", "na me", "x")]
    [InlineData("stage", "name", "")]
    public void Format_InvalidTypeKeyOrValue_Throws(string type, string key, string value)
    {
        Assert.Throws<ArgumentException>(() => ConsoleMarkerParser.Format(type, (key, value)));
    }

    [Fact]
    public void Parse_Tsc_ReadsHzAndBase()
    {
        var tsc = Assert.IsType<TscMarker>(ConsoleMarkerParser.Parse(TscLine).Marker);

        Assert.Equal(2893112000L, tsc.Hz);
        Assert.Equal(8123311ul, tsc.Base);
    }

    [Fact]
    public void Parse_Hello_ReadsAllFields()
    {
        string line = ConsoleMarkerParser.Format("hello", ("proto", "1"), ("kernel", "redox-lab-ref"), ("version", "0.1"), ("variant", "p2buddy"));

        var hello = Assert.IsType<HelloMarker>(ConsoleMarkerParser.Parse(line).Marker);

        Assert.Equal((1, "redox-lab-ref", "0.1", "p2buddy"), (hello.Proto, hello.Kernel, hello.Version, hello.Variant));
    }

    [Fact]
    public void Parse_Metric_AppliesDefaultsAndReadsNegativeFractions()
    {
        var plain = Assert.IsType<MetricMarker>(ConsoleMarkerParser.Parse(ConsoleMarkerParser.Format("metric", ("name", "tsc.hz"), ("value", "2893112000"), ("unit", "Hz"))).Marker);
        var full = Assert.IsType<MetricMarker>(ConsoleMarkerParser.Parse(ConsoleMarkerParser.Format("metric", ("name", "drift"), ("value", "-1.5e-3"), ("unit", "s"), ("n", "1000"), ("stat", "p99"))).Marker);

        Assert.Equal(("tsc.hz", 2893112000d, "Hz", 1L, "value"), (plain.Name, plain.Value, plain.Unit, plain.Samples, plain.Stat));
        Assert.Equal(("drift", -0.0015, "s", 1000L, "p99"), (full.Name, full.Value, full.Unit, full.Samples, full.Stat));
    }

    [Fact]
    public void Parse_Finding_ParsesBacktraceAndKeepsAllFields()
    {
        string line = ConsoleMarkerParser.Format("finding", ("kind", "double-free"), ("frame", "0x1ff000"), ("order", "3"),
            ("bt", "0xffffffff80012345,ffffffff80023456,0x10"), ("msg", "freed twice"), ("future-key", "kept"));

        var finding = Assert.IsType<FindingMarker>(ConsoleMarkerParser.Parse(line).Marker);

        Assert.Equal("double-free", finding.Kind);
        Assert.Equal([0xffffffff80012345ul, 0xffffffff80023456ul, 0x10ul], finding.Backtrace);
        Assert.Equal("freed twice", finding.Fields["msg"]);
        Assert.Equal("kept", finding.Fields["future-key"]);
    }

    [Fact]
    public void Parse_ProfileAndEndMarkers_ReadNumbers()
    {
        var begin = Assert.IsType<ProfileBeginMarker>(ConsoleMarkerParser.Parse(ConsoleMarkerParser.Format("profile-begin", ("format", "perf-script"), ("hz", "997"))).Marker);
        var end = Assert.IsType<ProfileEndMarker>(ConsoleMarkerParser.Parse(ConsoleMarkerParser.Format("profile-end", ("lines", "12"), ("samples", "4"), ("dropped", "0x2"))).Marker);
        var done = Assert.IsType<EndMarker>(ConsoleMarkerParser.Parse(ConsoleMarkerParser.Format("end", ("status", "fail"), ("code", "-3"))).Marker);

        Assert.Equal("perf-script", begin.Format);
        Assert.Equal((12L, 4L, 2L), (end.Lines, end.Samples!.Value, end.Dropped!.Value));
        Assert.Equal(("fail", -3L), (done.Status, done.Code!.Value));
    }

    [Fact]
    public void Parse_UnknownType_ReturnsUnknownMarkerWithFields()
    {
        var result = ConsoleMarkerParser.Parse(ConsoleMarkerParser.Format("irq-stats", ("cpu", "0"), ("count", "12")));

        var unknown = Assert.IsType<UnknownMarker>(result.Marker);
        Assert.Equal("irq-stats", unknown.Type);
        Assert.Equal("12", unknown.Fields["count"]);
    }

    [Fact]
    public void Parse_RandomBytesAndMutations_NeverThrow()
    {
        var random = new Random(20240329);
        byte[][] seeds = [Encoding.ASCII.GetBytes(StageEntry), Encoding.ASCII.GetBytes(Sign("@@LAB finding kind=panic bt=0x1,0x2 msg=a%20b")), "@@LAB "u8.ToArray()];
        int valid = 0;
        for (int round = 0; round < 20_000; round++)
        {
            byte[] line = round % 2 == 0 ? RandomLine(random) : Mutate(random, seeds[round % seeds.Length]);

            var fromBytes = ConsoleMarkerParser.Parse(line);
            var fromText = ConsoleMarkerParser.Parse(Encoding.Latin1.GetString(line));

            Assert.True(fromBytes.Status != MarkerParseStatus.Corrupt || fromBytes.Error is not null);
            Assert.True(fromText.Status != MarkerParseStatus.Corrupt || fromText.Error is not null);
            valid += fromBytes.Status == MarkerParseStatus.Valid ? 1 : 0;
        }

        Assert.True(valid > 0, "mutations that leave a marker intact should still parse");
    }

    private static byte[] RandomLine(Random random)
    {
        var line = new byte[random.Next(0, 200)];
        random.NextBytes(line);
        if (line.Length > 10 && random.Next(2) == 0)
        {
            "@@LAB "u8.CopyTo(line.AsSpan(random.Next(0, line.Length - 6)));
        }

        return line;
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var line = seed.ToList();
        int edits = random.Next(0, 4);
        for (int i = 0; i < edits && line.Count > 0; i++)
        {
            int at = random.Next(line.Count);
            switch (random.Next(3))
            {
                case 0: line[at] = (byte)random.Next(256); break;
                case 1: line.RemoveAt(at); break;
                default: line.Insert(at, (byte)" *%=,"[random.Next(5)]); break;
            }
        }

        return [.. line];
    }
}
