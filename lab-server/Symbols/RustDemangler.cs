using System.Globalization;
using System.Text;

namespace Redox.Lab.Server.Symbols;

/// <summary>
/// Rust symbol names as people read them, like <c>rustc-demangle</c>'s alternate form (no hashes, no
/// disambiguators): the legacy scheme (<c>_ZN6kernel6memory15allocate_frames17h0123456789abcdefE</c> →
/// <c>kernel::memory::allocate_frames</c>) and the v0 scheme (<c>_RNvNtCs1234_6kernel6memory15allocate_frames</c>,
/// RFC 2603: paths, nested and crate-root names, inherent and trait impls, generic arguments with basic, reference,
/// pointer, slice, array, tuple and path types, lifetimes, integer and bool constants, back-references).
/// </summary>
/// <remarks>
/// Our own: no maintained .NET package demangles Rust (NuGet has none). Anything this does not understand, and any
/// name that is not Rust's, comes back null so the caller keeps the name as the ELF has it; punycode identifiers
/// are shown as their raw ASCII with a <c>punycode{…}</c> mark rather than decoded. C++ names are not demangled.
/// </remarks>
public static class RustDemangler
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The demangled name, or null when <paramref name="symbol"/> is not a Rust name this reads.</summary>
    public static string? Demangle(string symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        // LLVM's local suffixes (".llvm.123", ".cold") are not part of the name.
        var name = symbol;
        var dot = name.IndexOf(".llvm.", StringComparison.Ordinal);
        if (dot > 0) name = name[..dot];
        try
        {
            if (name.StartsWith("_ZN", StringComparison.Ordinal)) return Legacy(name[3..]);
            if (name.StartsWith("_R", StringComparison.Ordinal)) return new V0(name[2..]).Symbol();
        }
        catch (FormatException)
        {
        }
        catch (IndexOutOfRangeException)
        {
        }
        catch (ArgumentOutOfRangeException)
        {
        }
        return null;
    }

    private static string? Legacy(string s)
    {
        var parts = new List<string>();
        int i = 0;
        while (i < s.Length && s[i] != 'E')
        {
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == start || i - start > 6) return null;
            int len = int.Parse(s.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            if (len == 0 || i + len > s.Length) return null;
            parts.Add(s.Substring(i, len));
            i += len;
        }

        if (i >= s.Length || parts.Count == 0) return null;
        // The last part "h" + 16 hex digits is the crate hash.
        if (parts.Count > 1 && parts[^1].Length == 17 && parts[^1][0] == 'h' && parts[^1].AsSpan(1).IndexOfAnyExcept(LowerHex) < 0)
            parts.RemoveAt(parts.Count - 1);
        return string.Join("::", parts.Select(Unescape));
    }

    private static readonly (string Code, string Text)[] Escapes =
    [
        ("$SP$", "@"), ("$BP$", "*"), ("$RF$", "&"), ("$LT$", "<"), ("$GT$", ">"), ("$LP$", "("), ("$RP$", ")"), ("$C$", ","),
    ];

    private static string Unescape(string part)
    {
        var p = part.StartsWith("_$", StringComparison.Ordinal) ? part[1..] : part;
        var sb = new StringBuilder();
        for (int i = 0; i < p.Length;)
        {
            if (p[i] == '$')
            {
                var known = Escapes.FirstOrDefault(e => string.CompareOrdinal(p, i, e.Code, 0, e.Code.Length) == 0);
                if (known.Code is not null)
                {
                    sb.Append(known.Text);
                    i += known.Code.Length;
                    continue;
                }

                int end = p.IndexOf('$', i + 1);
                if (end > i + 1 && p[i + 1] == 'u' && int.TryParse(p.AsSpan(i + 2, end - i - 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code) && code < 0x110000)
                {
                    sb.Append(char.ConvertFromUtf32(code));
                    i = end + 1;
                    continue;
                }
            }

            if (p[i] == '.' && i + 1 < p.Length && p[i + 1] == '.')
            {
                sb.Append("::");
                i += 2;
                continue;
            }

            sb.Append(p[i++]);
        }

        return sb.ToString();
    }

    /// <summary>A recursive-descent reader of RFC 2603's grammar, printing as it parses.</summary>
    private sealed class V0(string s)
    {
        private const int MaxDepth = 100;
        private int _pos;
        private int _depth;

        public string Symbol()
        {
            // An optional encoding version (decimal) precedes the path.
            while (_pos < s.Length && char.IsAsciiDigit(s[_pos])) _pos++;
            var path = Path();
            // An instantiating crate and a vendor suffix may follow; neither is shown.
            return path;
        }

        private char Peek => _pos < s.Length ? s[_pos] : '\0';

        private char Next() => _pos < s.Length ? s[_pos++] : throw new FormatException("unexpected end");

        private bool Eat(char c)
        {
            if (Peek != c) return false;
            _pos++;
            return true;
        }

        private T Deeper<T>(Func<T> read)
        {
            if (++_depth > MaxDepth) throw new FormatException("too deep");
            try
            {
                return read();
            }
            finally
            {
                _depth--;
            }
        }

        private string Path() => Deeper(() =>
        {
            char tag = Next();
            switch (tag)
            {
                case 'C':
                    return Identifier().Name;
                case 'M':
                    ImplPath();
                    return $"<{Type()}>";
                case 'X':
                    ImplPath();
                    var self = Type();
                    return $"<{self} as {Path()}>";
                case 'Y':
                    var type = Type();
                    return $"<{type} as {Path()}>";
                case 'N':
                    char ns = Next();
                    var parent = Path();
                    var (name, disambiguator) = Identifier();
                    return ns switch
                    {
                        'C' => $"{parent}::{{closure{(name.Length > 0 ? ":" + name : "")}#{disambiguator}}}",
                        'S' => $"{parent}::{{shim{(name.Length > 0 ? ":" + name : "")}#{disambiguator}}}",
                        _ when char.IsAsciiLetterUpper(ns) => $"{parent}::{{{ns}{(name.Length > 0 ? ":" + name : "")}#{disambiguator}}}",
                        _ => $"{parent}::{name}",
                    };
                case 'I':
                    var generic = Path();
                    var args = new List<string>();
                    while (!Eat('E')) args.Add(GenericArg());
                    return $"{generic}::<{string.Join(", ", args)}>";
                case 'B':
                    return BackRef(Path);
                default:
                    throw new FormatException($"path tag {tag}");
            }
        });

        private void ImplPath()
        {
            if (Eat('s')) Base62();
            Path();
        }

        private string GenericArg()
        {
            if (Eat('L'))
            {
                Base62();
                return "'_";
            }

            return Eat('K') ? Const() : Type();
        }

        private string Type() => Deeper(() =>
        {
            char tag = Next();
            string? basic = tag switch
            {
                'a' => "i8", 'b' => "bool", 'c' => "char", 'd' => "f64", 'e' => "str", 'f' => "f32", 'h' => "u8",
                'i' => "isize", 'j' => "usize", 'l' => "i32", 'm' => "u32", 'n' => "i128", 'o' => "u128", 's' => "i16",
                't' => "u16", 'u' => "()", 'v' => "...", 'x' => "i64", 'y' => "u64", 'z' => "!", 'p' => "_",
                _ => null,
            };
            if (basic is not null) return basic;
            switch (tag)
            {
                case 'A':
                    var element = Type();
                    return $"[{element}; {Const()}]";
                case 'S':
                    return $"[{Type()}]";
                case 'T':
                    var items = new List<string>();
                    while (!Eat('E')) items.Add(Type());
                    return items.Count == 1 ? $"({items[0]},)" : $"({string.Join(", ", items)})";
                case 'R' or 'Q':
                    if (Eat('L')) Base62();
                    return (tag == 'R' ? "&" : "&mut ") + Type();
                case 'P':
                    return "*const " + Type();
                case 'O':
                    return "*mut " + Type();
                case 'B':
                    return BackRef(Type);
                case 'F' or 'D':
                    throw new FormatException("fn and dyn types are not read");
                default:
                    _pos--;
                    return Path();
            }
        });

        private string Const()
        {
            if (Eat('B')) return BackRef(Const);
            char type = Next();
            if (type == 'p') return "_";
            bool negative = Eat('n');
            int start = _pos;
            while (Peek != '_') Next();
            var hex = s[start.._pos];
            Next();
            var value = hex.Length == 0 ? System.Numerics.BigInteger.Zero : System.Numerics.BigInteger.Parse("0" + hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            return type switch
            {
                'b' => value.IsZero ? "false" : "true",
                'c' => char.ConvertFromUtf32((int)value),
                _ => (negative ? "-" : "") + value.ToString(CultureInfo.InvariantCulture),
            };
        }

        private string BackRef(Func<string> read)
        {
            long target = Base62();
            if (target >= _pos - 1 || target < 0) throw new FormatException("back-reference forward");
            int saved = _pos;
            _pos = (int)target;
            try
            {
                return read();
            }
            finally
            {
                _pos = saved;
            }
        }

        private (string Name, long Disambiguator) Identifier()
        {
            long disambiguator = Eat('s') ? Base62() + 1 : 0;
            bool punycode = Eat('u');
            int start = _pos;
            while (char.IsAsciiDigit(Peek)) Next();
            if (start == _pos) throw new FormatException("identifier length");
            int len = int.Parse(s.AsSpan(start, _pos - start), CultureInfo.InvariantCulture);
            Eat('_');
            if (_pos + len > s.Length) throw new FormatException("identifier past the end");
            var name = s.Substring(_pos, len);
            _pos += len;
            return (punycode ? $"punycode{{{name}}}" : name, disambiguator);
        }

        /// <summary>RFC 2603's base-62 number: <c>_</c> is 0, else digits then <c>_</c>, plus one.</summary>
        private long Base62()
        {
            if (Eat('_')) return 0;
            long value = 0;
            while (!Eat('_'))
            {
                char c = Next();
                int digit = c switch
                {
                    >= '0' and <= '9' => c - '0',
                    >= 'a' and <= 'z' => c - 'a' + 10,
                    >= 'A' and <= 'Z' => c - 'A' + 36,
                    _ => throw new FormatException("base-62 digit"),
                };
                // Crate disambiguators are 64-bit hashes: saturate, the value only matters for back-references.
                value = value > (long.MaxValue - 62) / 62 ? long.MaxValue - 1 : value * 62 + digit;
            }

            return value + 1;
        }
    }
}
