using System.Globalization;
using Iced.Intel;

namespace Redox.Lab.Server.Symbols;

/// <summary>A code address as a symbol and an offset into it.</summary>
public readonly record struct SymbolHit(string Name, ulong Offset)
{
    /// <summary><c>name+0xoff</c>, the offset in lower-case hex (<c>kmain+0x0</c> at the symbol's first byte).</summary>
    public override string ToString() => $"{Name}+0x{Offset.ToString("x", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Maps code addresses of one kernel ELF to <c>symbol+0xoff</c> and decodes the instruction at an address.
/// Built once per ELF (see <see cref="KernelSymbols"/>) and then read-only, so it is safe to share between threads.
/// </summary>
/// <remarks>
/// Symbols are the <c>.symtab</c>'s FUNC and NOTYPE entries defined in an executable section. A sized symbol
/// covers [value, value + size); a symbol of size 0 (an assembly label such as <c>isr_common</c>) covers up to
/// the next symbol or its section's end, which is what <c>addr2line</c> and <c>perf</c> report for such code.
/// Of several symbols at one address the FUNC, then the global one, then the first in the table wins.
/// </remarks>
public sealed class Symbolizer : ISymbolResolver
{
    private readonly ElfFile _elf;
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly string[] _names;
    private readonly string[] _display;
    private readonly DwarfLines? _lines;

    public Symbolizer(ElfFile elf)
    {
        ArgumentNullException.ThrowIfNull(elf);
        _elf = elf;
        try
        {
            _lines = DwarfLines.Read(elf);
        }
        catch (ElfFormatException)
        {
            // Symbols still serve; file:line is simply not there (as for an ELF built without -g).
            _lines = null;
        }

        var candidates = elf.Symbols
            .Select((s, i) => (Symbol: s, Order: i))
            .Where(x => x.Symbol.Name.Length > 0
                && x.Symbol.Type is ElfSymbol.Func or ElfSymbol.NoType
                && x.Symbol.SectionIndex > 0 && x.Symbol.SectionIndex < elf.Sections.Count
                && elf.Sections[x.Symbol.SectionIndex].IsExecutable)
            .OrderBy(x => x.Symbol.Value)
            .ThenBy(x => x.Symbol.Type == ElfSymbol.Func ? 0 : 1)
            .ThenBy(x => x.Symbol.Bind == 0 ? 1 : 0)
            .ThenBy(x => x.Order)
            .Select(x => x.Symbol)
            .ToList();
        // One symbol per address: the first after the ordering above.
        var unique = new List<ElfSymbol>(candidates.Count);
        foreach (var s in candidates)
            if (unique.Count == 0 || unique[^1].Value != s.Value) unique.Add(s);

        _starts = new ulong[unique.Count];
        _ends = new ulong[unique.Count];
        _names = new string[unique.Count];
        _display = new string[unique.Count];
        for (var i = 0; i < unique.Count; i++)
        {
            var s = unique[i];
            var section = elf.Sections[s.SectionIndex];
            var sectionEnd = section.Address + section.Size;
            _starts[i] = s.Value;
            _names[i] = s.Name;
            // Findings show Rust and C++ names demangled (Rust first: its legacy names are valid C++ manglings); a comma (generic arguments) would split a comma-separated
            // backtrace, so it becomes ';'. Profiles keep the ELF's names (Lookup).
            _display[i] = (RustDemangler.Demangle(s.Name) ?? CxxDemangler.Demangle(s.Name) ?? s.Name).Replace(", ", ";", StringComparison.Ordinal).Replace(',', ';');
            if (s.Size > 0) _ends[i] = s.Value + s.Size;
            else
            {
                var next = i + 1 < unique.Count ? unique[i + 1].Value : ulong.MaxValue;
                _ends[i] = Math.Max(s.Value, Math.Min(next, sectionEnd));
            }
        }
    }

    /// <summary>Whether the ELF has a line table (built with <c>-g</c>): <see cref="Source"/> can answer.</summary>
    public bool HasLines => _lines is { Count: > 0 };

    /// <summary><c>file:line</c> of the instruction at <paramref name="address"/> from DWARF's <c>.debug_line</c>; null without line information there.</summary>
    public SourceLine? Source(ulong address) => _lines?.Lookup(address);

    /// <summary>How many code symbols the ELF has.</summary>
    public int Count => _starts.Length;

    /// <summary>The symbol holding <paramref name="address"/>; null when the address lies outside every code symbol.</summary>
    public SymbolHit? Lookup(ulong address)
    {
        var i = Array.BinarySearch(_starts, address);
        if (i < 0) i = ~i - 1;
        if (i < 0 || address >= _ends[i]) return null;
        return new SymbolHit(_names[i], address - _starts[i]);
    }

    /// <summary>
    /// <c>symbol+0xoff</c> for people (Rust and C++ names demangled, see <see cref="RustDemangler"/> and <see cref="CxxDemangler"/>), or null when the
    /// address lies outside every code symbol.
    /// </summary>
    public string? Format(ulong address)
    {
        var i = Array.BinarySearch(_starts, address);
        if (i < 0) i = ~i - 1;
        if (i < 0 || address >= _ends[i]) return null;
        return new SymbolHit(_display[i], address - _starts[i]).ToString();
    }

    /// <summary>
    /// The x86-64 instruction at <paramref name="address"/> in Intel syntax with memory sizes
    /// (<c>mov qword ptr [rax],rdx</c>), branch targets named; null when the ELF has no bytes there or they do not decode.
    /// </summary>
    public string? DecodeInstruction(ulong address)
    {
        if (!_elf.IsX86_64 && !_elf.IsI386) return null;
        return Decode(_elf.BytesAt(address, 15).ToArray(), address, this, _elf.IsI386 ? 32 : 64);
    }

    /// <summary>
    /// The first x86-64 instruction of <paramref name="bytes"/> (placed at <paramref name="address"/>) in Intel
    /// syntax with memory sizes; null when the bytes are empty, cut short or not an instruction.
    /// </summary>
    public static string? Decode(byte[] bytes, ulong address, ISymbolResolver? symbols = null, int bitness = 64)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0) return null;
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(bytes), address);
        decoder.Decode(out var instruction);
        if (instruction.IsInvalid) return null;
        var formatter = new IntelFormatter(symbols);
        formatter.Options.MemorySizeOptions = MemorySizeOptions.Always;
        var output = new StringOutput();
        formatter.Format(instruction, output);
        return output.ToStringAndReset();
    }

    /// <summary>Parses a marker's address (<c>0x1c3000</c>, or bare hex); null when it is not one.</summary>
    public static ulong? ParseAddress(string text)
    {
        var hex = text.Trim();
        if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) hex = hex[2..];
        return hex.Length is > 0 and <= 16 && ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            ? v
            : null;
    }

    bool ISymbolResolver.TryGetSymbol(in Instruction instruction, int operand, int instructionOperand, ulong address, int addressSize, out SymbolResult symbol)
    {
        var i = Array.BinarySearch(_starts, address);
        if (i < 0) i = ~i - 1;
        if (i >= 0 && address < _ends[i])
        {
            symbol = new SymbolResult(_starts[i], _names[i]);
            return true;
        }
        symbol = default;
        return false;
    }
}
