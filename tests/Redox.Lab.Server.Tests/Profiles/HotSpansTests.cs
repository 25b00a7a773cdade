using Redox.Lab.Server.Profiles;

namespace Redox.Lab.Server.Tests.Profiles;

public sealed class HotSpansTests
{
    // Lengths around the 32-byte vector width and its multiples, so the scalar path, the overlapping last load and
    // several whole vectors are all exercised.
    private static readonly int[] Lengths = [0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 200];

    [Fact]
    public void IndexOf_EveryLengthAndPosition_AgreesWithMemoryExtensions()
    {
        foreach (var length in Lengths)
        {
            var bytes = Enumerable.Range(0, length).Select(i => (byte)('a' + i % 26)).ToArray();
            Assert.Equal(-1, HotSpans.IndexOf(bytes, (byte)'\n'));
            for (var at = 0; at < length; at++)
            {
                var copy = (byte[])bytes.Clone();
                copy[at] = (byte)'\n';
                if (at + 5 < length) copy[at + 5] = (byte)'\n'; // a later one must not win
                Assert.Equal(copy.AsSpan().IndexOf((byte)'\n'), HotSpans.IndexOf(copy, (byte)'\n'));
            }
        }
    }

    [Fact]
    public void SequenceEqual_EveryLengthAndDifferingByte_AgreesWithMemoryExtensions()
    {
        foreach (var length in Lengths)
        {
            var a = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
            Assert.True(HotSpans.SequenceEqual(a, (byte[])a.Clone()));
            Assert.False(HotSpans.SequenceEqual(a, a.Append((byte)0).ToArray()));
            for (var at = 0; at < length; at++)
            {
                var b = (byte[])a.Clone();
                b[at] ^= 0x40;
                Assert.False(HotSpans.SequenceEqual(a, b));
            }
        }
    }

    [Fact]
    public void IsSpaceAndIsWord_EveryByte_ArePerlsClassesOnBytes()
    {
        for (var b = 0; b < 256; b++)
        {
            Assert.Equal(b is ' ' or '\t' or '\n' or '\v' or '\f' or '\r', HotSpans.IsSpace((byte)b));
            Assert.Equal(b is >= '0' and <= '9' or >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '_', HotSpans.IsWord((byte)b));
        }
    }

    [Fact]
    public void IndexOfNonWord_EveryByteAtEveryPosition_FindsTheFirstNonWordByteFromStart()
    {
        foreach (var length in Lengths)
        {
            var word = Enumerable.Range(0, length).Select(i => (byte)"0123456789abcdefXYZ_"[i % 20]).ToArray();
            Assert.Equal(length, HotSpans.IndexOfNonWord(word, 0));
            for (var at = 0; at < length; at++)
            {
                for (var b = 0; b < 256; b++)
                {
                    var copy = (byte[])word.Clone();
                    copy[at] = (byte)b;
                    var expected = HotSpans.IsWord((byte)b) ? length : at;
                    Assert.Equal(expected, HotSpans.IndexOfNonWord(copy, 0));
                    Assert.Equal(length, HotSpans.IndexOfNonWord(copy, at + 1)); // bytes before 'from' do not count
                }
            }
        }
    }

    [Fact]
    public void LastIndexOfSpace_EveryByteAtEveryPosition_FindsTheLastSpaceAtOrAfterFrom()
    {
        foreach (var length in Lengths)
        {
            var text = Enumerable.Range(0, length).Select(i => (byte)('a' + i % 26)).ToArray();
            Assert.Equal(-1, HotSpans.LastIndexOfSpace(text, 0));
            for (var at = 0; at < length; at++)
            {
                for (var b = 0; b < 256; b++)
                {
                    var copy = (byte[])text.Clone();
                    copy[at] = (byte)b;
                    if (at >= 3) copy[at - 3] = (byte)' '; // an earlier space must not win
                    var expected = HotSpans.IsSpace((byte)b) ? at : at >= 3 ? at - 3 : -1;
                    Assert.Equal(expected, HotSpans.LastIndexOfSpace(copy, 0));
                    Assert.Equal(expected >= at - 2 ? expected : -1, HotSpans.LastIndexOfSpace(copy, Math.Max(at - 2, 0)));
                }
            }
        }
    }

    [Fact]
    public void SequenceEqual_Ints_ComparesValuesNotJustLengths()
    {
        int[] a = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        int[] b = [1, 2, 3, 4, 5, 6, 7, 8, 10];

        Assert.True(HotSpans.SequenceEqual<int>(a, (int[])a.Clone()));
        Assert.False(HotSpans.SequenceEqual<int>(a, b));
        Assert.False(HotSpans.SequenceEqual<int>(a, a.AsSpan(0, 8)));
    }
}
