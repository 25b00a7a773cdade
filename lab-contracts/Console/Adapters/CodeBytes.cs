using System.Globalization;
using Iced.Intel;

namespace Redox.Lab.Contracts.Console.Adapters;

/// <summary>
/// Linux's <c>Code:</c> line: the bytes around the faulting instruction, the first byte of which is
/// marked <c>&lt;xx&gt;</c> (what <c>scripts/decodecode</c> reads). Decoded with Iced, the lab's x86 decoder.
/// </summary>
public static class CodeBytes
{
    /// <summary>
    /// The faulting instruction (Intel syntax with memory sizes) placed at <paramref name="address"/>; null
    /// when no byte is marked, the bytes do not parse, or they are not an instruction.
    /// </summary>
    public static string? DecodeFaulting(string code, ulong address)
    {
        ArgumentNullException.ThrowIfNull(code);
        var bytes = new List<byte>();
        bool marked = false;
        foreach (string token in code.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string hex = token;
            if (token.Length == 4 && token[0] is '<' or '(' && token[3] is '>' or ')')
            {
                if (marked) return null;
                marked = true;
                hex = token[1..3];
            }
            else if (!marked)
            {
                continue; // bytes before the faulting instruction
            }

            if (hex.Length != 2 || !byte.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                return null;
            }

            bytes.Add(b);
        }

        if (!marked || bytes.Count == 0) return null;
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(bytes.ToArray()), address);
        decoder.Decode(out var instruction);
        if (instruction.IsInvalid) return null;
        var formatter = new IntelFormatter();
        formatter.Options.MemorySizeOptions = MemorySizeOptions.Always;
        var output = new StringOutput();
        formatter.Format(instruction, output);
        return output.ToStringAndReset();
    }
}
