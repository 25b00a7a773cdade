using System.Buffers;
using System.Text;

namespace Redox.Lab.Contracts.Console;

/// <summary>Parses and formats console-protocol markers (PROTOCOL.md). Stateless and thread-safe.</summary>
/// <remarks>
/// Parsing never throws: any byte sequence yields <see cref="MarkerParseStatus.NoMarker"/>,
/// <see cref="MarkerParseStatus.Valid"/> or <see cref="MarkerParseStatus.Corrupt"/> with an error.
/// A line without a marker costs one vectorized search and no allocation.
/// </remarks>
public static class ConsoleMarkerParser
{
    /// <summary>The prefix that starts a marker anywhere in a line.</summary>
    public const string Prefix = "@@LAB ";

    private static ReadOnlySpan<byte> PrefixBytes => "@@LAB "u8;

    private static ReadOnlySpan<byte> ChecksumSeparator => " *"u8;

    private const int ChecksumDigits = 8;

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Parses one line (without its newline) as raw bytes.</summary>
    public static MarkerParseResult Parse(ReadOnlySpan<byte> line)
    {
        int at = line.IndexOf(PrefixBytes);
        return at < 0 ? MarkerParseResult.None : ParseMarker(line[at..], at);
    }

    /// <summary>Parses one line that was already decoded (non-ASCII characters make a marker corrupt).</summary>
    /// <remarks><see cref="MarkerParseResult.Offset"/> is then a character index; a null line has no marker.</remarks>
    public static MarkerParseResult Parse(string line)
    {
        if (line is null)
        {
            return MarkerParseResult.None;
        }

        int at = line.IndexOf(Prefix, StringComparison.Ordinal);
        if (at < 0)
        {
            return MarkerParseResult.None;
        }

        // Report non-ASCII characters in the string's own terms; past this check every character
        // up to the checksum is one byte, so the byte parser sees exactly what the kernel sent.
        var marker = line.AsSpan(at);
        int sep = marker.IndexOf(" *", StringComparison.Ordinal);
        var body = sep < 0 ? marker : marker[..sep];
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != ' ' && !IsPrintable(body[i]))
            {
                return MarkerParseResult.Corrupt($"character U+{(int)body[i]:X4} at {at + i} is not printable ASCII", at);
            }
        }

        byte[]? rented = null;
        Span<byte> bytes = marker.Length <= 512 ? stackalloc byte[marker.Length] : (rented = ArrayPool<byte>.Shared.Rent(marker.Length));
        try
        {
            for (int i = 0; i < marker.Length; i++)
            {
                bytes[i] = marker[i] < 0x80 ? (byte)marker[i] : (byte)0xFF;
            }

            return ParseMarker(bytes[..marker.Length], at);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Formats a marker line with its checksum, for tests and for kernels written in C#: <c>Format("stage", ("name","entry"))</c>.</summary>
    /// <exception cref="ArgumentException">The type or a key is not <c>[a-z0-9_.-]+</c>, or a value is empty.</exception>
    public static string Format(string type, params (string Key, string Value)[] fields)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(fields);
        if (!MarkerSyntax.IsName(type))
        {
            throw new ArgumentException($"marker type '{type}' is not [a-z0-9_.-]+", nameof(type));
        }

        var sb = new StringBuilder(Prefix, 64).Append(type);
        foreach (var (key, value) in fields)
        {
            if (key is null || !MarkerSyntax.IsName(key))
            {
                throw new ArgumentException($"marker key '{key}' is not [a-z0-9_.-]+", nameof(fields));
            }

            if (string.IsNullOrEmpty(value))
            {
                throw new ArgumentException($"marker key '{key}' has an empty value", nameof(fields));
            }

            sb.Append(' ').Append(key).Append('=');
            MarkerSyntax.AppendEncoded(sb, value);
        }

        // Everything appended so far is ASCII, so its characters are its bytes.
        uint crc = Crc32(Encoding.ASCII.GetBytes(sb.ToString()));
        return sb.Append(" *").Append(crc.ToString("x8")).ToString();
    }

    /// <summary>CRC-32 (IEEE) of the bytes.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var table = CrcTable;
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            crc = table[(byte)(crc ^ b)] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    /// <summary>Parses <paramref name="marker"/>, which starts with the prefix at <paramref name="offset"/> in its line.</summary>
    private static MarkerParseResult ParseMarker(ReadOnlySpan<byte> marker, int offset)
    {
        int sep = marker.IndexOf(ChecksumSeparator);
        if (sep < 0)
        {
            return MarkerParseResult.Corrupt("missing checksum (' *' and 8 hex digits)", offset);
        }

        var body = marker[..sep];
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] != (byte)' ' && !IsPrintable((char)body[i]))
            {
                return MarkerParseResult.Corrupt($"byte 0x{body[i]:X2} at {offset + i} is not printable ASCII", offset);
            }
        }

        var digits = marker[(sep + ChecksumSeparator.Length)..];
        if (digits.Length < ChecksumDigits || !MarkerSyntax.TryParseHex32(digits[..ChecksumDigits], out uint stated))
        {
            return MarkerParseResult.Corrupt("checksum is not 8 hex digits", offset);
        }

        uint actual = Crc32(body);
        if (actual != stated)
        {
            return MarkerParseResult.Corrupt($"checksum mismatch: marker says {stated:x8}, its bytes give {actual:x8}", offset);
        }

        var content = body.Length > PrefixBytes.Length ? body[PrefixBytes.Length..] : [];
        var error = MarkerSyntax.Tokenize(content, out string type, out var fields);
        if (error is not null)
        {
            return MarkerParseResult.Corrupt(error, offset);
        }

        var typed = MarkerBuilder.Build(type, fields, out error);
        return typed is null
            ? MarkerParseResult.Corrupt(error ?? "invalid marker", offset)
            : MarkerParseResult.Valid(typed, offset);
    }

    private static bool IsPrintable(char c) => c is >= (char)0x21 and <= (char)0x7E;
}
