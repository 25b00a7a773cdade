using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// Interns sequences (frame names and frame keys as UTF-8 bytes, stacks as frame ids): each distinct sequence gets a
/// dense id (0, 1, 2, ...) and is stored once in one growing array. Open addressing with linear probing over a
/// power-of-two table whose slots hold the hash beside the id, so a probe reads one word before it compares bytes.
/// Written here because the BCL's dictionaries cannot look a key up by a span without allocating it first
/// (alternate lookups exist only for string keys), and the folder looks up every line. A key may be given in two
/// parts (<c>first</c>, a separator, <c>second</c>) so the caller need not copy them together.
/// </summary>
internal sealed class SequenceTable<T> where T : unmanaged, IEquatable<T>
{
    private T[] _arena = new T[4096];
    private int _arenaLength;
    private int[] _starts = new int[256];
    private int[] _lengths = new int[256];
    private long[] _slots = new long[512]; // (uint)hash << 32 | (id + 1); 0 is empty
    private int _count;

    public int Count => _count;

    /// <summary>Bytes held (arena and tables): what the folder reports as its footprint.</summary>
    public long Footprint => (long)_arena.Length * Marshal.SizeOf<T>() + _starts.Length * 2L * sizeof(int) + _slots.Length * 8L;

    public ReadOnlySpan<T> this[int id] => _arena.AsSpan(_starts[id], _lengths[id]);

    /// <summary>
    /// A multiply-xor hash over 16 bytes at a time (the folder hashes every line, so it has to be cheap); the table
    /// resolves collisions, so quality matters only for probe lengths.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Hash(ReadOnlySpan<T> key) => Finish(Mix((ulong)key.Length * 0x9E3779B97F4A7C15UL, key));

    // The separator is not hashed: Equals compares it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<T> first, ReadOnlySpan<T> second) =>
        Finish(Mix(Mix((ulong)(first.Length + 1 + second.Length) * 0x9E3779B97F4A7C15UL, first), second));

    // Two independent multiply chains over 16 bytes at a time: a multiply waits for the one before it in its chain,
    // so two chains hash a long frame name (a C++ signature is 200 bytes) in about half the time of one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong h, ReadOnlySpan<T> key)
    {
        const ulong K = 0x9E3779B97F4A7C15UL;
        const ulong K2 = 0xC2B2AE3D27D4EB4FUL;
        var bytes = MemoryMarshal.AsBytes(key);
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        var i = 0;
        if (words.Length >= 2)
        {
            var g = h ^ K2;
            for (; i + 1 < words.Length; i += 2)
            {
                h = (System.Numerics.BitOperations.RotateLeft(h, 23) ^ words[i]) * K;
                g = (System.Numerics.BitOperations.RotateLeft(g, 23) ^ words[i + 1]) * K2;
            }
            h ^= System.Numerics.BitOperations.RotateLeft(g, 31);
        }
        if (i < words.Length) h = (System.Numerics.BitOperations.RotateLeft(h, 23) ^ words[i]) * K;
        var tail = bytes[(words.Length * 8)..];
        if (tail.Length > 0)
        {
            ulong last = 0;
            // The tail's bytes as the low bytes of a word: the last 8 bytes shifted right (they overlap the last
            // whole word), or, for a key shorter than a word, byte by byte.
            if (bytes.Length >= sizeof(ulong)) last = MemoryMarshal.Read<ulong>(bytes[^sizeof(ulong)..]) >> (8 * (sizeof(ulong) - tail.Length));
            else for (var j = 0; j < tail.Length; j++) last |= (ulong)tail[j] << (8 * j);
            h = (System.Numerics.BitOperations.RotateLeft(h, 23) ^ last) * K;
        }
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Finish(ulong h)
    {
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (int)h;
    }

    /// <summary>The id of <paramref name="key"/>; -1 when it is not in the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find(ReadOnlySpan<T> key)
    {
        var hash = Hash(key);
        var mask = _slots.Length - 1;
        var tag = (long)(uint)hash << 32;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) return -1;
            if ((slot & ~0xffffffffL) == tag && HotSpans.SequenceEqual(this[(int)slot - 1], key)) return (int)slot - 1;
        }
    }

    /// <summary>The id of the key <c>first, separator, second</c>; -1 when it is not in the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find(ReadOnlySpan<T> first, T separator, ReadOnlySpan<T> second)
    {
        var hash = Hash(first, second);
        var mask = _slots.Length - 1;
        var tag = (long)(uint)hash << 32;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) return -1;
            if ((slot & ~0xffffffffL) == tag && Equals((int)slot - 1, first, separator, second)) return (int)slot - 1;
        }
    }

    private bool Equals(int id, ReadOnlySpan<T> first, T separator, ReadOnlySpan<T> second)
    {
        var stored = this[id];
        return stored.Length == first.Length + 1 + second.Length && HotSpans.SequenceEqual(stored[..first.Length], first)
            && stored[first.Length].Equals(separator) && HotSpans.SequenceEqual(stored[(first.Length + 1)..], second);
    }

    /// <summary>The id of <paramref name="key"/>, adding it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(ReadOnlySpan<T> key)
    {
        var hash = Hash(key);
        var mask = _slots.Length - 1;
        var tag = (long)(uint)hash << 32;
        var i = hash & mask;
        for (; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) break;
            if ((slot & ~0xffffffffL) == tag && HotSpans.SequenceEqual(this[(int)slot - 1], key)) return (int)slot - 1;
        }
        var id = Append(key.Length);
        key.CopyTo(_arena.AsSpan(_starts[id]));
        return Insert(i, tag, id);
    }

    /// <summary>The id of the key <c>first, separator, second</c>, adding it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(ReadOnlySpan<T> first, T separator, ReadOnlySpan<T> second)
    {
        var hash = Hash(first, second);
        var mask = _slots.Length - 1;
        var tag = (long)(uint)hash << 32;
        var i = hash & mask;
        for (; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) break;
            if ((slot & ~0xffffffffL) == tag && Equals((int)slot - 1, first, separator, second)) return (int)slot - 1;
        }
        var id = Append(first.Length + 1 + second.Length);
        var at = _arena.AsSpan(_starts[id]);
        first.CopyTo(at);
        at[first.Length] = separator;
        second.CopyTo(at[(first.Length + 1)..]);
        return Insert(i, tag, id);
    }

    private int Append(int length)
    {
        var id = _count++;
        if (id == _starts.Length)
        {
            Array.Resize(ref _starts, id * 2);
            Array.Resize(ref _lengths, id * 2);
        }
        if (_arenaLength + length > _arena.Length)
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaLength + length));
        _starts[id] = _arenaLength;
        _lengths[id] = length;
        _arenaLength += length;
        return id;
    }

    private int Insert(int slot, long tag, int id)
    {
        _slots[slot] = tag | (uint)(id + 1);
        if (_count * 2 > _slots.Length) Rehash();
        return id;
    }

    private void Rehash()
    {
        var old = _slots;
        _slots = new long[old.Length * 2];
        var mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot == 0) continue;
            var i = (int)(slot >> 32) & mask;
            while (_slots[i] != 0) i = (i + 1) & mask;
            _slots[i] = slot;
        }
    }
}
