using System.Buffers.Binary;
using System.Text;

namespace Redox.Lab.Server.Symbols;

/// <summary>An ELF file the lab cannot read: not ELF32/ELF64 little-endian, truncated, or with tables pointing outside the file.</summary>
public sealed class ElfFormatException(string message) : Exception(message);

/// <summary>A section header (ELF64 <c>Elf64_Shdr</c>) with its name resolved.</summary>
public sealed record ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize)
{
    public const uint SymTab = 2;
    public const uint StrTab = 3;
    public const uint NoBits = 8;
    public const ulong FlagExecInstr = 0x4;

    public bool IsExecutable => (Flags & FlagExecInstr) != 0;
}

/// <summary>A symbol table entry (ELF64 <c>Elf64_Sym</c>) with its name resolved.</summary>
/// <param name="Type">Low nibble of <c>st_info</c>: 0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE.</param>
/// <param name="Bind">High nibble of <c>st_info</c>: 0 LOCAL, 1 GLOBAL, 2 WEAK.</param>
/// <param name="SectionIndex"><c>st_shndx</c>: 0 undefined, 0xfff1 absolute.</param>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, byte Type, byte Bind, ushort SectionIndex)
{
    public const byte NoType = 0;
    public const byte Func = 2;
}

/// <summary>
/// A minimal ELF32 and ELF64 little-endian reader: the section headers, <c>.symtab</c> with its string
/// table, and the bytes at a virtual address. ELF32 for 32-bit kernels (and multiboot images linked as
/// ELF32), ELF64 for the rest. Every offset and size is checked against the file, so a truncated or
/// malformed file gives an <see cref="ElfFormatException"/>, never an out-of-range read.
/// </summary>
public sealed class ElfFile
{
    private const int HeaderSize = 64;
    private const int HeaderSize32 = 52;
    private const ushort MachineX86_64 = 62;
    private const ushort MachineI386 = 3;

    private readonly byte[] _data;

    private ElfFile(byte[] data, IReadOnlyList<ElfSection> sections, IReadOnlyList<ElfSymbol> symbols, ushort machine, bool is64)
    {
        _data = data;
        Sections = sections;
        Symbols = symbols;
        Machine = machine;
        Is64 = is64;
    }

    /// <summary>ELF64 (else ELF32).</summary>
    public bool Is64 { get; }

    /// <summary>x86 in 32-bit mode (<c>EM_386</c>).</summary>
    public bool IsI386 => Machine == MachineI386;

    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>Every <c>.symtab</c> entry but the null one; empty for a stripped file.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    /// <summary><c>e_machine</c> (62 for x86-64).</summary>
    public ushort Machine { get; }

    public bool IsX86_64 => Machine == MachineX86_64;

    /// <summary>Parses <paramref name="data"/> (kept, not copied: the caller must not change it).</summary>
    /// <exception cref="ElfFormatException">The bytes are not a well-formed ELF64 little-endian file.</exception>
    public static ElfFile Parse(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 16) throw new ElfFormatException($"file too short for an ELF header ({data.Length} bytes)");
        if (data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            throw new ElfFormatException("not an ELF file (bad magic)");
        if (data[4] is not (1 or 2)) throw new ElfFormatException($"neither ELF32 nor ELF64 (EI_CLASS={data[4]})");
        if (data[5] != 1) throw new ElfFormatException($"not little-endian (EI_DATA={data[5]})");
        var is64 = data[4] == 2;
        var layout = is64 ? Layout.Elf64 : Layout.Elf32;
        if (data.Length < layout.HeaderSize) throw new ElfFormatException($"file too short for an ELF header ({data.Length} bytes, need {layout.HeaderSize})");

        var span = data.AsSpan();
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(span[18..]);
        var shoff = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(span[40..]) : BinaryPrimitives.ReadUInt32LittleEndian(span[32..]);
        var shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[(is64 ? 58 : 46)..]);
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[(is64 ? 60 : 48)..]);
        var shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(span[(is64 ? 62 : 50)..]);

        if (shnum == 0) return new ElfFile(data, [], [], machine, is64);
        if (shentsize < layout.SectionHeaderSize) throw new ElfFormatException($"section header size {shentsize} is below {layout.SectionHeaderSize}");
        var tableStart = CheckRange(data, shoff, (ulong)shnum * shentsize, "section header table");

        var raw = new List<(uint NameOffset, uint Type, ulong Flags, ulong Addr, ulong Offset, ulong Size, uint Link, ulong EntSize)>(shnum);
        for (var i = 0; i < shnum; i++)
        {
            var h = span.Slice(tableStart + i * shentsize, layout.SectionHeaderSize);
            raw.Add(is64
                ? (BinaryPrimitives.ReadUInt32LittleEndian(h),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                   BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
                   BinaryPrimitives.ReadUInt64LittleEndian(h[16..]),
                   BinaryPrimitives.ReadUInt64LittleEndian(h[24..]),
                   BinaryPrimitives.ReadUInt64LittleEndian(h[32..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[40..]),
                   BinaryPrimitives.ReadUInt64LittleEndian(h[56..]))
                : (BinaryPrimitives.ReadUInt32LittleEndian(h),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[8..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[12..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[16..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[20..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[24..]),
                   BinaryPrimitives.ReadUInt32LittleEndian(h[36..])));
        }

        if (shstrndx >= shnum) throw new ElfFormatException($"section name table index {shstrndx} is past the {shnum} sections");
        var names = raw[shstrndx];
        if (names.Type == ElfSection.NoBits) throw new ElfFormatException("section name table has no bytes in the file");
        var namesStart = CheckRange(data, names.Offset, names.Size, "section name table");
        var namesTable = span.Slice(namesStart, (int)names.Size);

        var sections = new List<ElfSection>(shnum);
        for (var i = 0; i < shnum; i++)
        {
            var s = raw[i];
            sections.Add(new ElfSection(ReadString(namesTable, s.NameOffset, $"name of section {i}"), s.Type, s.Flags, s.Addr, s.Offset, s.Size, s.Link, s.EntSize));
        }
        var symbols = ReadSymbols(data, sections, layout);
        return new ElfFile(data, sections, symbols, machine, is64);
    }

    /// <summary>The sizes that differ between ELF32 and ELF64.</summary>
    private sealed record Layout(int HeaderSize, int SectionHeaderSize, int SymbolSize)
    {
        public static readonly Layout Elf64 = new(ElfFile.HeaderSize, 64, 24);
        public static readonly Layout Elf32 = new(ElfFile.HeaderSize32, 40, 16);
    }

    /// <summary>
    /// Up to <paramref name="count"/> bytes at virtual address <paramref name="address"/> from the section that
    /// holds it (file offset = sh_offset + (address - sh_addr)), cut at the section's end; empty when no
    /// section with file contents holds the address.
    /// </summary>
    public ReadOnlySpan<byte> BytesAt(ulong address, int count)
    {
        foreach (var s in Sections)
        {
            if (s.Address == 0 || s.Type == ElfSection.NoBits || address < s.Address || address - s.Address >= s.Size) continue;
            var within = address - s.Address;
            var available = Math.Min((ulong)count, s.Size - within);
            var offset = s.Offset + within;
            if (offset > (ulong)_data.Length || available > (ulong)_data.Length - offset) return [];
            return _data.AsSpan((int)offset, (int)available);
        }
        return [];
    }

    /// <summary>The file contents of the first section named <paramref name="name"/>; empty when there is none (or it has no bits, or lies past the file's end).</summary>
    public ReadOnlySpan<byte> SectionContents(string name)
    {
        var s = Sections.FirstOrDefault(x => x.Name == name);
        if (s is null || s.Type == ElfSection.NoBits || s.Offset > (ulong)_data.Length || s.Size > (ulong)_data.Length - s.Offset) return [];
        return _data.AsSpan((int)s.Offset, (int)s.Size);
    }

    private static List<ElfSymbol> ReadSymbols(byte[] data, List<ElfSection> sections, Layout layout)
    {
        var symbolSize = layout.SymbolSize;
        var symtab = sections.FirstOrDefault(s => s.Type == ElfSection.SymTab);
        if (symtab is null) return [];
        if (symtab.EntrySize != 0 && symtab.EntrySize < (ulong)symbolSize)
            throw new ElfFormatException($".symtab entry size {symtab.EntrySize} is below {symbolSize}");
        var entrySize = symtab.EntrySize == 0 ? symbolSize : (int)Math.Min(symtab.EntrySize, 4096);
        if (symtab.Link >= sections.Count) throw new ElfFormatException($".symtab links to section {symtab.Link}, past the {sections.Count} sections");
        var strtab = sections[(int)symtab.Link];
        if (strtab.Type != ElfSection.StrTab) throw new ElfFormatException($".symtab links to section {symtab.Link} ({strtab.Name}), not a string table");

        var symStart = CheckRange(data, symtab.Offset, symtab.Size, ".symtab");
        var strStart = CheckRange(data, strtab.Offset, strtab.Size, strtab.Name);
        var strings = data.AsSpan(strStart, (int)strtab.Size);
        var count = (int)(symtab.Size / (ulong)entrySize);

        var symbols = new List<ElfSymbol>(count);
        for (var i = 1; i < count; i++)
        {
            var e = data.AsSpan(symStart + i * entrySize, symbolSize);
            // Elf64_Sym: name, info, other, shndx, value, size. Elf32_Sym: name, value, size, info, other, shndx.
            var is64 = layout == Layout.Elf64;
            var info = is64 ? e[4] : e[12];
            symbols.Add(new ElfSymbol(
                ReadString(strings, BinaryPrimitives.ReadUInt32LittleEndian(e), $"name of symbol {i}"),
                is64 ? BinaryPrimitives.ReadUInt64LittleEndian(e[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(e[4..]),
                is64 ? BinaryPrimitives.ReadUInt64LittleEndian(e[16..]) : BinaryPrimitives.ReadUInt32LittleEndian(e[8..]),
                (byte)(info & 0xf),
                (byte)(info >> 4),
                BinaryPrimitives.ReadUInt16LittleEndian(e[(is64 ? 6 : 14)..])));
        }
        return symbols;
    }

    /// <summary>Checks that [offset, offset + size) lies in the file; returns the offset as an int.</summary>
    private static int CheckRange(byte[] data, ulong offset, ulong size, string what)
    {
        if (offset > (ulong)data.Length || size > (ulong)data.Length - offset)
            throw new ElfFormatException($"{what} (offset {offset}, {size} bytes) lies past the end of the file ({data.Length} bytes): truncated or malformed");
        return (int)offset;
    }

    private static string ReadString(ReadOnlySpan<byte> table, uint offset, string what)
    {
        if (offset >= table.Length) throw new ElfFormatException($"{what}: string offset {offset} is past its table ({table.Length} bytes)");
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0) throw new ElfFormatException($"{what}: string is not NUL-terminated");
        return Encoding.UTF8.GetString(rest[..end]);
    }
}
