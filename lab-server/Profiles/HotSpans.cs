using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// The few span searches the folder runs on every line (find a byte, compare two keys), written here instead of
/// calling <c>MemoryExtensions</c>. Why: perf (<c>bench/fold</c>, <c>DOTNET_PerfMapEnabled=1</c>) showed the BCL's
/// vectorized helpers running as tier-0 ("QuickJitted" <c>IndexOfAnyAsciiSearcher</c>) and tier-1-instrumented
/// code (<c>SpanHelpers.SequenceEqual</c>, <c>IndexOfValueType</c>, <c>Memmove</c>) through all three folds of a
/// <c>--repeat 3</c> run on this machine: 12% of the samples in tier-0 code, and the tiering thread, pinned to the
/// fold's one core, never caught up within a fold. These methods are compiled fully optimized at their first call
/// (<c>AggressiveOptimization</c>, like the folder's hot path), so a one-shot fold runs optimized code from its first line.
/// </summary>
internal static class HotSpans
{
    /// <summary>The index of the first <paramref name="value"/> in <paramref name="s"/>; -1 when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int IndexOf(ReadOnlySpan<byte> s, byte value)
    {
        ref var start = ref MemoryMarshal.GetReference(s);
        var i = 0;
        if (Vector256.IsHardwareAccelerated && s.Length >= Vector256<byte>.Count)
        {
            var target = Vector256.Create(value);
            var last = s.Length - Vector256<byte>.Count;
            while (true)
            {
                // i <= last: the 32 bytes read are inside the span. The final load overlaps the one before it.
                var mask = Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)i), target).ExtractMostSignificantBits();
                if (mask != 0) return i + BitOperations.TrailingZeroCount(mask);
                if (i == last) return -1;
                i = Math.Min(i + Vector256<byte>.Count, last);
            }
        }
        for (; i < s.Length; i++)
            if (s[i] == value) return i;
        return -1;
    }

    /// <summary>
    /// The index of the first byte at or after <paramref name="from"/> that is not a Perl <c>\w</c> on bytes
    /// (<c>[0-9A-Za-z_]</c>); <c>s.Length</c> when there is none. The folder's address scan: 32 bytes at a time,
    /// so the 12 or 16 digits and letters of an address cost one vector test, not a branch per byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int IndexOfNonWord(ReadOnlySpan<byte> s, int from)
    {
        var i = from;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var start = ref MemoryMarshal.GetReference(s);
            for (; i <= s.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                var word = Vector256.LessThanOrEqual(v - Vector256.Create((byte)'0'), Vector256.Create((byte)9))
                    | Vector256.LessThanOrEqual((v | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)('z' - 'a')))
                    | Vector256.Equals(v, Vector256.Create((byte)'_'));
                var mask = ~word.ExtractMostSignificantBits();
                if (mask != 0) return i + BitOperations.TrailingZeroCount(mask);
            }
        }
        for (; i < s.Length; i++)
            if (!IsWord(s[i])) return i;
        return s.Length;
    }

    /// <summary>
    /// The index of the last Perl <c>\s</c> byte (space, <c>\t \n \v \f \r</c>) at or after <paramref name="from"/>;
    /// -1 when there is none. The folder's search for a frame line's <c> (dso)</c>, 32 bytes at a time from the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int LastIndexOfSpace(ReadOnlySpan<byte> s, int from)
    {
        var end = s.Length;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var start = ref MemoryMarshal.GetReference(s);
            for (; end - from >= Vector256<byte>.Count; end -= Vector256<byte>.Count)
            {
                var at = end - Vector256<byte>.Count;
                var v = Vector256.LoadUnsafe(ref start, (nuint)at);
                var space = Vector256.Equals(v, Vector256.Create((byte)' '))
                    | Vector256.LessThanOrEqual(v - Vector256.Create((byte)'\t'), Vector256.Create((byte)('\r' - '\t')));
                var mask = space.ExtractMostSignificantBits();
                if (mask != 0) return at + 31 - BitOperations.LeadingZeroCount(mask);
            }
        }
        for (var p = end - 1; p >= from; p--)
            if (IsSpace(s[p])) return p;
        return -1;
    }

    /// <summary>Perl's <c>\s</c> on bytes: space, <c>\t \n \v \f \r</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSpace(byte b) => b == (byte)' ' || (uint)(b - '\t') <= '\r' - '\t';

    /// <summary>
    /// Perl's <c>\w</c> on bytes, <c>[0-9A-Za-z_]</c>. Free of branches (non-short-circuit <c>|</c>): it runs on every
    /// byte of an address, where digits and letters alternate at random. <c>(b | 0x20)</c> folds A-Z onto a-z.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsWord(byte b) => ((uint)(b - '0') <= 9) | ((uint)((b | 0x20) - 'a') <= 'z' - 'a') | (b == (byte)'_');

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> hold the same bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool SequenceEqual(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return false;
        ref var x = ref MemoryMarshal.GetReference(a);
        ref var y = ref MemoryMarshal.GetReference(b);
        var length = a.Length;
        if (Vector256.IsHardwareAccelerated && length >= Vector256<byte>.Count)
        {
            var last = length - Vector256<byte>.Count;
            for (var i = 0; ; i = Math.Min(i + Vector256<byte>.Count, last))
            {
                // i <= last: both 32-byte loads are inside the spans; the final one overlaps the one before it.
                if (Vector256.LoadUnsafe(ref x, (nuint)i) != Vector256.LoadUnsafe(ref y, (nuint)i)) return false;
                if (i == last) return true;
            }
        }
        var j = 0;
        for (; j + sizeof(ulong) <= length; j += sizeof(ulong))
            if (MemoryMarshal.Read<ulong>(a[j..]) != MemoryMarshal.Read<ulong>(b[j..])) return false;
        for (; j < length; j++)
            if (a[j] != b[j]) return false;
        return true;
    }

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> hold the same values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool SequenceEqual<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged =>
        a.Length == b.Length && SequenceEqual(MemoryMarshal.AsBytes(a), MemoryMarshal.AsBytes(b));
}
