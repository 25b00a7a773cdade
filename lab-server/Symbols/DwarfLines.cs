using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Redox.Lab.Server.Symbols;

/// <summary>A source position: a file as the line table names it and a 1-based line.</summary>
public readonly record struct SourceLine(string File, uint Line)
{
    public override string ToString() => $"{File}:{Line.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The address-to-line table of an ELF's <c>.debug_line</c> (DWARF 2 to 5), what <c>addr2line</c> and Linux's
/// <c>decode_stacktrace.sh</c> read for <c>file:line</c>. Our own reader: the one maintained .NET library that
/// reads DWARF (LibObjectFile) supports DWARF 4 only, and gcc writes DWARF 5 by default. Only the line program
/// is read (no <c>.debug_info</c>): a file in the compilation directory is named relative to it, as it was
/// given to the compiler (<c>mm/p2buddy.c</c>), others by their directory entry.
/// </summary>
public sealed class DwarfLines
{
    // Standard opcodes (DWARF 5, 6.2.5.2) and extended ones (6.2.5.3).
    private const byte Copy = 1, AdvancePc = 2, AdvanceLine = 3, SetFile = 4, ConstAddPc = 8, FixedAdvancePc = 9;
    private const byte EndSequence = 1, SetAddress = 2, DefineFile = 3;

    // Forms a DWARF 5 line table header uses (7.5.6), and the content types (6.2.4.1).
    private const ulong FormBlock = 0x09, FormData1 = 0x0b, FormData2 = 0x05, FormData4 = 0x06, FormData8 = 0x07, FormData16 = 0x1e,
        FormString = 0x08, FormStrp = 0x0e, FormLineStrp = 0x1f, FormUdata = 0x0f, FormStrx = 0x1a, FormStrx1 = 0x25, FormStrx2 = 0x26, FormStrx3 = 0x27, FormStrx4 = 0x28;
    private const ulong ContentPath = 1, ContentDirectoryIndex = 2;

    private readonly ulong[] _addresses;
    private readonly int[] _files;
    private readonly uint[] _lines;
    private readonly bool[] _ends;
    private readonly List<string> _names;

    private DwarfLines(List<Row> rows, List<string> names)
    {
        // Rows sorted by address, keeping the program's order at one address (the last row there describes it,
        // as binutils keeps it); an end-of-sequence row sorts first at its address: it ends the range before it.
        rows = [.. rows.Select((r, i) => (Row: r, Order: i)).OrderBy(x => x.Row.Address).ThenBy(x => x.Row.End ? 0 : 1).ThenBy(x => x.Order).Select(x => x.Row)];
        _addresses = [.. rows.Select(r => r.Address)];
        _files = [.. rows.Select(r => r.File)];
        _lines = [.. rows.Select(r => r.Line)];
        _ends = [.. rows.Select(r => r.End)];
        _names = names;
    }

    /// <summary>How many rows the line table has (0: no line information).</summary>
    public int Count => _addresses.Length;

    private readonly record struct Row(ulong Address, int File, uint Line, bool End);

    /// <summary>The line table of <paramref name="elf"/>, or null when it has no <c>.debug_line</c>.</summary>
    /// <exception cref="ElfFormatException">The section is malformed.</exception>
    public static DwarfLines? Read(ElfFile elf)
    {
        ArgumentNullException.ThrowIfNull(elf);
        var section = elf.SectionContents(".debug_line");
        if (section.IsEmpty) return null;
        try
        {
            return Parse(section, elf.SectionContents(".debug_line_str"), elf.SectionContents(".debug_str"), elf.Is64 ? 8 : 4);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException or InvalidOperationException)
        {
            throw new ElfFormatException($".debug_line is malformed: {e.Message}");
        }
    }

    /// <summary>Where the instruction at <paramref name="address"/> came from; null outside every sequence.</summary>
    public SourceLine? Lookup(ulong address)
    {
        var i = Array.BinarySearch(_addresses, address);
        if (i < 0) i = ~i - 1;
        else
        {
            // Of several rows at one address the last one describes it (the others are empty ranges).
            while (i + 1 < _addresses.Length && _addresses[i + 1] == address) i++;
        }

        if (i < 0 || _ends[i] || _files[i] < 0 || _files[i] >= _names.Count || _lines[i] == 0) return null;
        return new SourceLine(_names[_files[i]], _lines[i]);
    }

    private static DwarfLines Parse(ReadOnlySpan<byte> data, ReadOnlySpan<byte> lineStr, ReadOnlySpan<byte> str, int defaultAddressSize)
    {
        var rows = new List<Row>();
        var names = new List<string>();
        var nameIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        int Name(string n)
        {
            if (!nameIndex.TryGetValue(n, out var i))
            {
                i = names.Count;
                names.Add(n);
                nameIndex[n] = i;
            }
            return i;
        }

        var pos = 0;
        while (pos < data.Length)
        {
            var r = new Reader(data, pos);
            ulong length = r.U32();
            var offsetSize = 4;
            if (length == 0xffffffff)
            {
                length = r.U64();
                offsetSize = 8;
            }

            var unitEnd = checked(r.Pos + (int)length);
            if (unitEnd > data.Length) throw new InvalidOperationException($"unit at {pos} runs past the section ({length} bytes)");
            var version = r.U16();
            if (version is < 2 or > 5) throw new InvalidOperationException($"unit at {pos}: version {version} is not DWARF 2 to 5");
            var addressSize = defaultAddressSize;
            if (version >= 5)
            {
                addressSize = r.U8();
                r.U8(); // segment selector size
            }

            var headerLength = offsetSize == 8 ? r.U64() : r.U32();
            var program = checked(r.Pos + (int)headerLength);
            int minInstruction = r.U8();
            if (version >= 4) r.U8(); // maximum operations per instruction: 1 on x86
            r.U8(); // default_is_stmt: every row counts for a lookup
            var lineBase = (sbyte)r.U8();
            int lineRange = r.U8();
            int opcodeBase = r.U8();
            if (lineRange == 0) throw new InvalidOperationException($"unit at {pos}: line_range is 0");
            var opcodeLengths = new byte[Math.Max(opcodeBase, 1)];
            for (var i = 1; i < opcodeBase; i++) opcodeLengths[i] = r.U8();

            // The unit's files, as indexes into names; v2-4 number them from 1, v5 from 0.
            var files = new List<int>();
            var dirs = new List<string>();
            if (version >= 5)
            {
                var dirFormat = ReadFormat(ref r);
                var dirCount = r.Uleb();
                for (ulong i = 0; i < dirCount; i++)
                    dirs.Add(ReadEntry(ref r, dirFormat, lineStr, str, offsetSize).Path ?? "");
                var fileFormat = ReadFormat(ref r);
                var fileCount = r.Uleb();
                for (ulong i = 0; i < fileCount; i++)
                {
                    var (path, dir) = ReadEntry(ref r, fileFormat, lineStr, str, offsetSize);
                    files.Add(Name(Join(dirs, (int)dir, path ?? "?", relativeToDirZero: true)));
                }
            }
            else
            {
                dirs.Add(""); // directory 0: the compilation directory
                while (r.CString() is { Length: > 0 } dir) dirs.Add(dir);
                files.Add(-1); // file 0 does not exist before DWARF 5
                while (r.CString() is { Length: > 0 } name)
                {
                    var dir = r.Uleb();
                    r.Uleb();
                    r.Uleb();
                    files.Add(Name(Join(dirs, (int)dir, name, relativeToDirZero: true)));
                }
            }

            // The line number program (6.2.5), one state machine per sequence.
            r = new Reader(data, program);
            ulong address = 0;
            var file = 1;
            long line = 1;
            void Emit(bool end) =>
                rows.Add(new Row(address, file >= 0 && file < files.Count ? files[file] : -1, line is > 0 and <= uint.MaxValue ? (uint)line : 0, end));
            void Reset()
            {
                address = 0;
                file = 1;
                line = 1;
            }

            while (r.Pos < unitEnd)
            {
                var op = r.U8();
                if (op >= opcodeBase)
                {
                    var adjusted = op - opcodeBase;
                    address += (ulong)(adjusted / lineRange * minInstruction);
                    line += lineBase + (adjusted % lineRange);
                    Emit(false);
                }
                else if (op == 0)
                {
                    var len = (int)r.Uleb();
                    var end = checked(r.Pos + len);
                    if (len == 0) continue;
                    var sub = r.U8();
                    if (sub == EndSequence)
                    {
                        Emit(true);
                        Reset();
                    }
                    else if (sub == SetAddress)
                    {
                        address = (len - 1) switch { 8 => r.U64(), 4 => r.U32(), _ => throw new InvalidOperationException($"DW_LNE_set_address of {len - 1} bytes") };
                    }
                    else if (sub == DefineFile && version < 5)
                    {
                        var name = r.CString();
                        var dir = r.Uleb();
                        files.Add(Name(Join(dirs, (int)dir, name, relativeToDirZero: true)));
                    }
                    r.Pos = end;
                }
                else
                {
                    switch (op)
                    {
                        case Copy:
                            Emit(false);
                            break;
                        case AdvancePc:
                            address += r.Uleb() * (ulong)minInstruction;
                            break;
                        case AdvanceLine:
                            line += r.Sleb();
                            break;
                        case SetFile:
                            file = (int)Math.Min(r.Uleb(), int.MaxValue);
                            break;
                        case ConstAddPc:
                            address += (ulong)((255 - opcodeBase) / lineRange * minInstruction);
                            break;
                        case FixedAdvancePc:
                            address += r.U16();
                            break;
                        default:
                            // set_column, negate_stmt, basic_block, prologue/epilogue, isa, and any newer opcode: skip its operands.
                            for (var i = 0; i < opcodeLengths[op]; i++) r.Uleb();
                            break;
                    }
                }
            }

            pos = unitEnd;
        }

        return new DwarfLines(rows, names);
    }

    private static string Join(List<string> dirs, int dir, string name, bool relativeToDirZero)
    {
        if (name.StartsWith('/') || dir <= 0 || dir >= dirs.Count) return name;
        var d = dirs[dir];
        // In DWARF 5, directory 0 repeats the compilation directory; a later entry equal to it adds nothing either.
        if (relativeToDirZero && dirs.Count > 0 && d == dirs[0]) return name;
        return d.Length == 0 ? name : $"{d.TrimEnd('/')}/{name}";
    }

    private static List<(ulong Type, ulong Form)> ReadFormat(ref Reader r)
    {
        int count = r.U8();
        var format = new List<(ulong, ulong)>(count);
        for (var i = 0; i < count; i++) format.Add((r.Uleb(), r.Uleb()));
        return format;
    }

    private static (string? Path, ulong Dir) ReadEntry(ref Reader r, List<(ulong Type, ulong Form)> format, ReadOnlySpan<byte> lineStr, ReadOnlySpan<byte> str, int offsetSize)
    {
        string? path = null;
        ulong dir = 0;
        foreach (var (type, form) in format)
        {
            string? text = null;
            ulong number = 0;
            switch (form)
            {
                case FormString: text = r.CString(); break;
                case FormLineStrp: text = CString(lineStr, offsetSize == 8 ? r.U64() : r.U32()); break;
                case FormStrp: text = CString(str, offsetSize == 8 ? r.U64() : r.U32()); break;
                case FormUdata: number = r.Uleb(); break;
                case FormData1: number = r.U8(); break;
                case FormData2: number = r.U16(); break;
                case FormData4: number = r.U32(); break;
                case FormData8: number = r.U64(); break;
                case FormData16: r.Pos += 16; break;
                case FormBlock: r.Pos += checked((int)r.Uleb()); break;
                case FormStrx: r.Uleb(); text = "?"; break;
                case FormStrx1: r.Pos += 1; text = "?"; break;
                case FormStrx2: r.Pos += 2; text = "?"; break;
                case FormStrx3: r.Pos += 3; text = "?"; break;
                case FormStrx4: r.Pos += 4; text = "?"; break;
                default: throw new InvalidOperationException($"form 0x{form:x} in a line table header");
            }

            if (type == ContentPath) path = text;
            else if (type == ContentDirectoryIndex) dir = number;
        }

        return (path, dir);
    }

    private static string CString(ReadOnlySpan<byte> table, ulong offset)
    {
        if (offset >= (ulong)table.Length) throw new InvalidOperationException($"string offset {offset} past its section ({table.Length} bytes)");
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    private ref struct Reader(ReadOnlySpan<byte> data, int pos)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Pos = pos;

        public byte U8() => _data[Pos++];

        public ushort U16()
        {
            var v = BinaryPrimitives.ReadUInt16LittleEndian(_data.Slice(Pos, 2));
            Pos += 2;
            return v;
        }

        public uint U32()
        {
            var v = BinaryPrimitives.ReadUInt32LittleEndian(_data.Slice(Pos, 4));
            Pos += 4;
            return v;
        }

        public ulong U64()
        {
            var v = BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(Pos, 8));
            Pos += 8;
            return v;
        }

        public ulong Uleb()
        {
            ulong v = 0;
            var shift = 0;
            while (true)
            {
                var b = U8();
                if (shift < 64) v |= (ulong)(b & 0x7f) << shift;
                shift += 7;
                if ((b & 0x80) == 0) return v;
            }
        }

        public long Sleb()
        {
            long v = 0;
            var shift = 0;
            byte b;
            do
            {
                b = U8();
                if (shift < 64) v |= (long)(b & 0x7f) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0) v |= -1L << shift;
            return v;
        }

        public string CString()
        {
            var rest = _data[Pos..];
            var end = rest.IndexOf((byte)0);
            if (end < 0) throw new InvalidOperationException("unterminated string");
            Pos += end + 1;
            return Encoding.UTF8.GetString(rest[..end]);
        }
    }
}
