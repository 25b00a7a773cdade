using System.Buffers;
using System.Globalization;
using System.Text;

namespace Redox.Lab.Contracts.Console;

/// <summary>
/// The lexical rules of PROTOCOL.md: names, <c>key=value</c> fields, percent-encoding and numbers
/// (decimal unless written <c>0x</c>). Every method reports failure instead of throwing.
/// </summary>
internal static class MarkerSyntax
{
    private const int StackDecodeLimit = 256;

    private static readonly SearchValues<char> NameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_.-");

    private static readonly SearchValues<char> DecimalChars =
        SearchValues.Create("0123456789.eE+-");

    private static readonly SearchValues<byte> NameBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_.-"u8);

    /// <summary>True for <c>[a-z0-9_.-]+</c>.</summary>
    public static bool IsName(string s) => s.Length > 0 && s.AsSpan().IndexOfAnyExcept(NameChars) < 0;

    private static bool IsName(ReadOnlySpan<byte> s) => s.Length > 0 && s.IndexOfAnyExcept(NameBytes) < 0;

    /// <summary>
    /// Splits the marker's content (after the prefix, before the checksum; printable ASCII and
    /// spaces only) into its type and decoded fields. Returns an error, or null on success.
    /// </summary>
    public static string? Tokenize(ReadOnlySpan<byte> content, out string type, out Dictionary<string, string> fields)
    {
        type = "";
        fields = new Dictionary<string, string>(StringComparer.Ordinal);
        bool first = true;
        while (!content.IsEmpty)
        {
            int space = content.IndexOf((byte)' ');
            var token = space < 0 ? content : content[..space];
            content = space < 0 ? [] : content[(space + 1)..];
            if (token.IsEmpty)
            {
                continue; // tolerate runs of spaces: the checksum already vouches for the bytes
            }

            if (first)
            {
                if (!IsName(token))
                {
                    return $"type '{Encoding.ASCII.GetString(token)}' is not [a-z0-9_.-]+";
                }

                type = Encoding.ASCII.GetString(token);
                first = false;
                continue;
            }

            var error = AddField(token, fields);
            if (error is not null)
            {
                return error;
            }
        }

        return first ? "missing type" : null;
    }

    private static string? AddField(ReadOnlySpan<byte> token, Dictionary<string, string> fields)
    {
        int eq = token.IndexOf((byte)'=');
        if (eq < 0)
        {
            return $"field '{Encoding.ASCII.GetString(token)}' has no '='";
        }

        var keyBytes = token[..eq];
        if (!IsName(keyBytes))
        {
            return $"key '{Encoding.ASCII.GetString(keyBytes)}' is not [a-z0-9_.-]+";
        }

        string key = Encoding.ASCII.GetString(keyBytes);
        var raw = token[(eq + 1)..];
        if (raw.IsEmpty)
        {
            return $"key '{key}' has an empty value";
        }

        var value = Decode(raw);
        if (value is null)
        {
            return $"key '{key}' has a bad %-escape";
        }

        return fields.TryAdd(key, value) ? null : $"key '{key}' appears twice";
    }

    /// <summary>Percent-decodes a value; the decoded bytes are read as UTF-8. Null for a bad escape.</summary>
    private static string? Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'%') < 0)
        {
            return Encoding.ASCII.GetString(raw);
        }

        Span<byte> buffer = raw.Length <= StackDecodeLimit ? stackalloc byte[raw.Length] : new byte[raw.Length];
        int n = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'%')
            {
                buffer[n++] = raw[i];
                continue;
            }

            if (i + 2 >= raw.Length || !TryHexDigit(raw[i + 1], out int hi) || !TryHexDigit(raw[i + 2], out int lo))
            {
                return null;
            }

            buffer[n++] = (byte)((hi << 4) | lo);
            i += 2;
        }

        return Encoding.UTF8.GetString(buffer[..n]);
    }

    /// <summary>Appends <paramref name="value"/> percent-encoded: its UTF-8 bytes outside 0x21..0x7e, and '%', become %XX.</summary>
    public static void AppendEncoded(StringBuilder sb, string value)
    {
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= 0x21 and <= 0x7E && b != (byte)'%')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Exactly the given hex digits (either case) as a 32-bit value.</summary>
    public static bool TryParseHex32(ReadOnlySpan<byte> digits, out uint value)
    {
        value = 0;
        foreach (byte b in digits)
        {
            if (!TryHexDigit(b, out int d))
            {
                return false;
            }

            value = (value << 4) | (uint)d;
        }

        return true;
    }

    private static bool TryHexDigit(byte b, out int digit)
    {
        digit = b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };
        return digit >= 0;
    }

    /// <summary>An unsigned number: decimal, or hex after <c>0x</c>.</summary>
    public static bool TryParseUInt64(string s, out ulong value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseHex64(s.AsSpan(2), out value);
        }

        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A hex number with or without <c>0x</c> (backtrace entries).</summary>
    public static bool TryParseAddress(ReadOnlySpan<char> s, out ulong value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }

        return TryParseHex64(s, out value);
    }

    private static bool TryParseHex64(ReadOnlySpan<char> s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);

    /// <summary>A signed number: decimal with an optional '-', or hex after <c>0x</c>.</summary>
    public static bool TryParseInt64(string s, out long value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            bool ok = TryParseHex64(s.AsSpan(2), out ulong u) && u <= long.MaxValue;
            value = ok ? (long)u : 0;
            return ok;
        }

        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A finite decimal, possibly negative or fractional (<c>-1.5</c>, <c>2e9</c>), or an integer in hex.</summary>
    public static bool TryParseDouble(string s, out double value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            bool ok = TryParseHex64(s.AsSpan(2), out ulong u);
            value = u;
            return ok;
        }

        // NumberStyles.Float also admits "NaN" and "Infinity", which a measurement must not be.
        value = 0;
        return s.AsSpan().IndexOfAnyExcept(DecimalChars) < 0
            && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }
}
