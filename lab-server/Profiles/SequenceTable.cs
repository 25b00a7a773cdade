using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// Interns sequences (frame names as UTF-8 bytes, stacks as frame ids): each distinct sequence gets a dense id
/// (0, 1, 2, ...) and is stored once in one growing array. Open addressing with linear probing over a
/// power-of-two table. Written here because the BCL's dictionaries cannot look a key up by a span without
/// allocating it first (alternate lookups exist only for string keys), and the folder looks up every line.
/// </summary>
internal sealed class SequenceTable<T> where T : unmanaged, IEquatable<T>
{
    private T[] _arena = new T[4096];
    private int _arenaLength;
    private int[] _starts = new int[256];
    private int[] _lengths = new int[256];
    private int[] _hashes = new int[256];
    private int[] _slots = new int[512]; // id + 1; 0 is empty
    private int _count;

    public int Count => _count;

    /// <summary>Bytes held (arena and tables): what the folder reports as its footprint.</summary>
    public long Footprint => (long)_arena.Length * Marshal.SizeOf<T>() + (_starts.Length * 3L + _slots.Length) * sizeof(int);

    public ReadOnlySpan<T> this[int id] => _arena.AsSpan(_starts[id], _lengths[id]);

    /// <summary>
    /// A multiply-xor hash over 8 bytes at a time (the folder hashes every line, so it has to be cheap); the table
    /// resolves collisions, so quality matters only for probe lengths.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Hash(ReadOnlySpan<T> key)
    {
        var bytes = MemoryMarshal.AsBytes(key);
        const ulong K = 0x9E3779B97F4A7C15UL;
        var h = (ulong)bytes.Length * K;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var w in words) h = (System.Numerics.BitOperations.RotateLeft(h, 23) ^ w) * K;
        var tail = bytes[(words.Length * 8)..];
        if (tail.Length > 0)
        {
            ulong last = 0;
            for (var i = 0; i < tail.Length; i++) last |= (ulong)tail[i] << (8 * i);
            h = (System.Numerics.BitOperations.RotateLeft(h, 23) ^ last) * K;
        }
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (int)h;
    }

    /// <summary>The id of <paramref name="key"/>; -1 when it is not in the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<T> key) => Find(key, Hash(key));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Find(ReadOnlySpan<T> key, int hash)
    {
        var mask = _slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) return -1;
            var id = slot - 1;
            if (_hashes[id] == hash && this[id].SequenceEqual(key)) return id;
        }
    }

    /// <summary>The id of <paramref name="key"/>, adding it when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(ReadOnlySpan<T> key)
    {
        var hash = Hash(key);
        var mask = _slots.Length - 1;
        var i = hash & mask;
        for (; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) break;
            var found = slot - 1;
            if (_hashes[found] == hash && this[found].SequenceEqual(key)) return found;
        }

        var id = _count++;
        if (id == _starts.Length)
        {
            Array.Resize(ref _starts, id * 2);
            Array.Resize(ref _lengths, id * 2);
            Array.Resize(ref _hashes, id * 2);
        }
        if (_arenaLength + key.Length > _arena.Length)
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaLength + key.Length));
        key.CopyTo(_arena.AsSpan(_arenaLength));
        _starts[id] = _arenaLength;
        _lengths[id] = key.Length;
        _hashes[id] = hash;
        _arenaLength += key.Length;
        _slots[i] = id + 1;
        if (_count * 2 > _slots.Length) Rehash();
        return id;
    }

    private void Rehash()
    {
        _slots = new int[_slots.Length * 2];
        var mask = _slots.Length - 1;
        for (var id = 0; id < _count; id++)
        {
            var i = _hashes[id] & mask;
            while (_slots[i] != 0) i = (i + 1) & mask;
            _slots[i] = id + 1;
        }
    }
}
