using System.Globalization;
using System.Text;

namespace Redox.Lab.Server.Symbols;

/// <summary>
/// Demangles C++ symbols of the Itanium C++ ABI (gcc, clang: <c>_ZN2mm6Buddy4freeEPvm</c> →
/// <c>mm::Buddy::free(void*, unsigned long)</c>), printed as binutils' <c>c++filt</c> prints them.
/// Our own: no maintained .NET demangler is served (nuget.tsv has none). It covers what kernels' code
/// symbols use: nested and local names, constructors and destructors, operators, templates with type and
/// literal arguments, template parameters, substitutions, cv- and ref-qualifiers, pointers, references,
/// arrays and function types, vtables/typeinfo/guard variables/thunks, and clone suffixes (<c>.cold</c>,
/// <c>.isra.0</c>). Anything else (expressions in template arguments, decltype, pointers to members,
/// ABI tags) returns null, and the caller shows the mangled name: never a wrong one.
/// </summary>
public static class CxxDemangler
{
    /// <summary>The demangled name, or null when <paramref name="symbol"/> is not a C++ name this demangler reads.</summary>
    public static string? Demangle(string symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        if (!symbol.StartsWith("_Z", StringComparison.Ordinal) || symbol.Length > 4096) return null;
        try
        {
            var p = new Parser(symbol, 2);
            var text = p.Encoding(topLevel: true);
            if (p.AtEnd) return text;
            // Clone suffixes the compiler adds to an optimised copy: ".cold", ".isra.0", ".constprop.0.isra.0".
            var rest = symbol[p.Position..];
            if (rest[0] != '.') return null;
            var clones = rest[1..].Split('.');
            var sb = new StringBuilder(text);
            for (var i = 0; i < clones.Length; i++)
            {
                if (clones[i].Length == 0 || !clones[i].All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) return null;
                var clone = "." + clones[i];
                while (i + 1 < clones.Length && clones[i + 1].All(char.IsAsciiDigit) && clones[i + 1].Length > 0)
                    clone += "." + clones[++i];
                sb.Append(" [clone ").Append(clone).Append(']');
            }
            return sb.ToString();
        }
        catch (DemangleException)
        {
            return null;
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
        catch (IndexOutOfRangeException)
        {
            return null;
        }
    }

    private sealed class DemangleException(string message) : Exception(message);

    /// <summary>A type as c++filt writes it: functions and arrays wrap the declarator built around them (<c>void (*)(int)</c>).</summary>
    private sealed record Ty(string Text, string? FunctionReturn = null, string? FunctionParams = null, string? ArrayElement = null, string? ArrayBound = null, string Declarator = "")
    {
        public bool IsComposite => FunctionReturn is not null || ArrayElement is not null;

        public override string ToString() =>
            FunctionReturn is not null ? (Declarator.Length == 0 ? $"{FunctionReturn} ({FunctionParams})" : $"{FunctionReturn} ({Declarator})({FunctionParams})")
            : ArrayElement is not null ? (Declarator.Length == 0 ? $"{ArrayElement} [{ArrayBound}]" : $"{ArrayElement} ({Declarator}) [{ArrayBound}]")
            : Text;

        /// <summary>The type with a declarator operator (<c>*</c>, <c>&amp;</c>, <c>&amp;&amp;</c>, <c> const</c>) applied.</summary>
        public Ty With(string op) => IsComposite ? this with { Declarator = Declarator + op } : new Ty(Text + op);
    }

    private sealed class Parser(string s, int position)
    {
        private readonly List<Ty> _subs = [];
        private List<Ty> _templateArgs = [];

        public int Position { get; private set; } = position;

        public bool AtEnd => Position >= s.Length;

        private char Peek(int ahead = 0) => Position + ahead < s.Length ? s[Position + ahead] : '\0';

        private char Next() => Position < s.Length ? s[Position++] : throw new DemangleException("unexpected end");

        private bool Eat(char c)
        {
            if (Peek() != c) return false;
            Position++;
            return true;
        }

        private bool Eat(string prefix)
        {
            if (string.CompareOrdinal(s, Position, prefix, 0, prefix.Length) != 0) return false;
            Position += prefix.Length;
            return true;
        }

        private void Expect(char c)
        {
            if (!Eat(c)) throw new DemangleException($"expected '{c}' at {Position}");
        }

        /// <summary><c>&lt;encoding&gt;</c>: a function (name and parameter types), data (a name) or a special name.</summary>
        public string Encoding(bool topLevel)
        {
            if (Peek() == 'T' || (Peek() == 'G' && Peek(1) == 'V')) return SpecialName();
            var name = Name(out var isTemplate, out var qualifiers, out var ctorDtorConversion);
            if (AtEnd || Peek() == 'E' || Peek() == '.')
                return name;
            string? returns = isTemplate && !ctorDtorConversion ? Type().ToString() : null;
            var parameters = Parameters(stopAtE: !topLevel);
            return (returns is null ? "" : returns + " ") + name + "(" + parameters + ")" + qualifiers;
        }

        private string Parameters(bool stopAtE)
        {
            var list = new List<string>();
            while (!AtEnd && Peek() != '.' && !(stopAtE && Peek() == 'E'))
                list.Add(Type().ToString());
            if (list.Count == 0) throw new DemangleException("a function without parameter types");
            return list is ["void"] ? "" : string.Join(", ", list);
        }

        private string SpecialName()
        {
            if (Eat("GV")) return "guard variable for " + Name(out _, out _, out _);
            Expect('T');
            return Next() switch
            {
                'V' => "vtable for " + Type(),
                'T' => "VTT for " + Type(),
                'I' => "typeinfo for " + Type(),
                'S' => "typeinfo name for " + Type(),
                'h' => Thunk("non-virtual thunk to ", virtualOffset: false),
                'v' => Thunk("virtual thunk to ", virtualOffset: true),
                _ => throw new DemangleException("unsupported special name"),
            };
        }

        private string Thunk(string what, bool virtualOffset)
        {
            Number(allowNegative: true);
            Expect('_');
            if (virtualOffset)
            {
                Number(allowNegative: true);
                Expect('_');
            }
            return what + Encoding(topLevel: true);
        }

        /// <summary><c>&lt;name&gt;</c>; tells whether it ends in template arguments (then a function's return type is mangled), its method qualifiers, and whether it is a constructor, destructor or conversion.</summary>
        private string Name(out bool isTemplate, out string qualifiers, out bool ctorDtorConversion)
        {
            qualifiers = "";
            isTemplate = false;
            ctorDtorConversion = false;
            if (Peek() == 'N') return NestedName(out isTemplate, out qualifiers, out ctorDtorConversion);
            if (Peek() == 'Z') return LocalName(out isTemplate, out qualifiers, out ctorDtorConversion);

            string name;
            if (Peek() == 'S' && Peek(1) != 't')
            {
                // A substitution as an unscoped template name: it must take template arguments.
                name = Substitution().ToString();
                if (Peek() != 'I') throw new DemangleException("a substitution as a name without template arguments");
            }
            else
            {
                var std = Eat("St");
                name = (std ? "std::" : "") + UnqualifiedName(null, out ctorDtorConversion);
                if (Peek() == 'I') _subs.Add(new Ty(name));
            }

            if (Peek() == 'I')
            {
                var args = TemplateArgs();
                _templateArgs = args.Types;
                name += args.Text;
                isTemplate = true;
            }
            return name;
        }

        private string NestedName(out bool isTemplate, out string qualifiers, out bool ctorDtorConversion)
        {
            Expect('N');
            qualifiers = CvQualifiers();
            if (Eat('R')) qualifiers += " &";
            else if (Eat('O')) qualifiers += " &&";
            isTemplate = false;
            ctorDtorConversion = false;
            string? prefix = null;
            string? last = null; // the last unqualified name, for constructors and destructors
            while (!Eat('E'))
            {
                isTemplate = false;
                ctorDtorConversion = false;
                if (Peek() == 'I')
                {
                    if (prefix is null) throw new DemangleException("template arguments without a template");
                    var args = TemplateArgs();
                    _templateArgs = args.Types;
                    prefix += args.Text;
                    isTemplate = true;
                }
                else if (Peek() == 'M' && prefix is not null)
                {
                    // <data-member-prefix>: a lambda in a variable's initialiser (mm::lam's closure type).
                    Position++;
                    continue;
                }
                else if (Peek() == 'S' && prefix is null && Peek(1) != 't')
                {
                    prefix = Substitution().ToString();
                    continue; // already a candidate
                }
                else if (Peek() == 'T' && prefix is null)
                {
                    prefix = TemplateParam().ToString();
                }
                else
                {
                    if (prefix is null && Eat("St")) prefix = "std";
                    var part = UnqualifiedName(last, out ctorDtorConversion);
                    if (part.Length == 0) continue;
                    last = part;
                    prefix = prefix is null ? part : prefix + "::" + part;
                }

                // Every prefix is a substitution candidate, the whole name (before E) is not.
                if (Peek() != 'E') _subs.Add(new Ty(prefix));
            }

            return prefix ?? throw new DemangleException("empty nested name");
        }

        private string LocalName(out bool isTemplate, out string qualifiers, out bool ctorDtorConversion)
        {
            Expect('Z');
            var saved = _templateArgs;
            var function = Encoding(topLevel: false);
            _templateArgs = saved;
            Expect('E');
            if (Eat('s'))
            {
                Discriminator();
                isTemplate = false;
                qualifiers = "";
                ctorDtorConversion = false;
                return function + "::string literal";
            }
            var entity = Name(out isTemplate, out qualifiers, out ctorDtorConversion);
            Discriminator();
            return function + "::" + entity;
        }

        private void Discriminator()
        {
            if (!Eat('_')) return;
            if (Eat('_'))
            {
                Number(allowNegative: false);
                Expect('_');
            }
            else
            {
                if (!char.IsAsciiDigit(Peek())) throw new DemangleException("bad discriminator");
                Position++;
            }
        }

        private string CvQualifiers()
        {
            var q = "";
            if (Eat('r')) q += " restrict";
            if (Eat('V')) q += " volatile";
            if (Eat('K')) q += " const";
            return q;
        }

        /// <summary>A source name, operator, constructor/destructor (named after <paramref name="enclosing"/>) or unnamed type.</summary>
        private string UnqualifiedName(string? enclosing, out bool ctorDtorConversion)
        {
            ctorDtorConversion = false;
            Eat('L'); // internal linkage (a static function): not printed
            var c = Peek();
            if (char.IsAsciiDigit(c)) return SourceName();
            if (c == 'C' && Peek(1) is '1' or '2' or '3' or '4' or '5' || (c == 'C' && Peek(1) == 'I'))
            {
                Position++;
                if (Eat('I')) Position++;
                else Position++;
                ctorDtorConversion = true;
                return Base(enclosing ?? throw new DemangleException("a constructor outside a class"));
            }
            if (c == 'D' && Peek(1) is '0' or '1' or '2' or '4' or '5')
            {
                Position += 2;
                ctorDtorConversion = true;
                return "~" + Base(enclosing ?? throw new DemangleException("a destructor outside a class"));
            }
            if (c == 'U')
            {
                Position++;
                if (Eat('t'))
                {
                    var n = Eat('_') ? 1 : Number(allowNegative: false) + 2;
                    if (n != 1) Expect('_');
                    return $"{{unnamed type#{n}}}";
                }
                if (Eat('l'))
                {
                    var parameters = Parameters(stopAtE: true);
                    Expect('E');
                    var n = Eat('_') ? 1 : Number(allowNegative: false) + 2;
                    if (n != 1) Expect('_');
                    return $"{{lambda({parameters})#{n}}}";
                }
                throw new DemangleException("unsupported unnamed name");
            }
            if (char.IsAsciiLetterLower(c)) return OperatorName(out ctorDtorConversion);
            throw new DemangleException($"unsupported name at {Position}");
        }

        /// <summary>A class's own name without its template arguments or enclosing scopes: what its constructor is called.</summary>
        private static string Base(string name)
        {
            var depth = 0;
            var end = name.Length;
            if (name.EndsWith('>'))
            {
                for (var i = name.Length - 1; i >= 0; i--)
                {
                    if (name[i] == '>') depth++;
                    else if (name[i] == '<' && --depth == 0)
                    {
                        end = i;
                        break;
                    }
                }
            }
            var start = name.LastIndexOf("::", end, StringComparison.Ordinal);
            return name[(start < 0 ? 0 : start + 2)..end];
        }

        private string SourceName()
        {
            var length = Number(allowNegative: false);
            if (length <= 0 || Position + length > s.Length) throw new DemangleException("bad source name length");
            var id = s.Substring(Position, length);
            Position += length;
            return id.StartsWith("_GLOBAL__N", StringComparison.Ordinal) ? "(anonymous namespace)" : id;
        }

        private static readonly Dictionary<string, string> Operators = new(StringComparer.Ordinal)
        {
            ["nw"] = "new", ["na"] = "new[]", ["dl"] = "delete", ["da"] = "delete[]", ["ps"] = "+", ["ng"] = "-",
            ["ad"] = "&", ["de"] = "*", ["co"] = "~", ["pl"] = "+", ["mi"] = "-", ["ml"] = "*", ["dv"] = "/",
            ["rm"] = "%", ["an"] = "&", ["or"] = "|", ["eo"] = "^", ["aS"] = "=", ["pL"] = "+=", ["mI"] = "-=",
            ["mL"] = "*=", ["dV"] = "/=", ["rM"] = "%=", ["aN"] = "&=", ["oR"] = "|=", ["eO"] = "^=", ["ls"] = "<<",
            ["rs"] = ">>", ["lS"] = "<<=", ["rS"] = ">>=", ["eq"] = "==", ["ne"] = "!=", ["lt"] = "<", ["gt"] = ">",
            ["le"] = "<=", ["ge"] = ">=", ["ss"] = "<=>", ["nt"] = "!", ["aa"] = "&&", ["oo"] = "||", ["pp"] = "++",
            ["mm"] = "--", ["cm"] = ",", ["pm"] = "->*", ["pt"] = "->", ["cl"] = "()", ["ix"] = "[]", ["qu"] = "?",
        };

        private string OperatorName(out bool conversion)
        {
            conversion = false;
            var code = s.Substring(Position, Math.Min(2, s.Length - Position));
            if (code == "cv")
            {
                Position += 2;
                conversion = true;
                return "operator " + Type();
            }
            if (code == "li")
            {
                Position += 2;
                return "operator\"\" " + SourceName();
            }
            if (!Operators.TryGetValue(code, out var op)) throw new DemangleException($"unsupported operator {code}");
            Position += 2;
            // c++filt spaces the word operators and keeps the symbols tight.
            return char.IsAsciiLetter(op[0]) ? "operator " + op : "operator" + op;
        }

        private int Number(bool allowNegative)
        {
            var negative = allowNegative && Eat('n');
            var start = Position;
            while (char.IsAsciiDigit(Peek())) Position++;
            if (Position == start || Position - start > 9) throw new DemangleException("bad number");
            var n = int.Parse(s.AsSpan(start, Position - start), NumberStyles.None, CultureInfo.InvariantCulture);
            return negative ? -n : n;
        }

        private (string Text, List<Ty> Types) TemplateArgs()
        {
            Expect('I');
            var types = new List<Ty>();
            while (!Eat('E')) types.Add(TemplateArg());
            var text = string.Join(", ", types.Select(t => t.ToString()));
            // c++filt keeps "> >" apart, as C++03 needed.
            return ("<" + text + (text.EndsWith('>') ? " >" : ">"), types);
        }

        private Ty TemplateArg()
        {
            if (Peek() == 'L') return Literal();
            if (Eat('J'))
            {
                var pack = new List<string>();
                while (!Eat('E')) pack.Add(TemplateArg().ToString());
                return new Ty(string.Join(", ", pack));
            }
            if (Peek() == 'X') throw new DemangleException("expressions in template arguments are not supported");
            return Type();
        }

        private Ty Literal()
        {
            Expect('L');
            if (Eat("_Z"))
            {
                var saved = _templateArgs;
                var name = Encoding(topLevel: false);
                _templateArgs = saved;
                Expect('E');
                return new Ty(name);
            }
            var type = Type();
            var negative = Eat('n');
            var start = Position;
            while (Peek() != 'E') Position++;
            var value = (negative ? "-" : "") + s[start..Position];
            Expect('E');
            return type.ToString() switch
            {
                "bool" => new Ty(value == "0" ? "false" : "true"),
                "int" => new Ty(value),
                "unsigned int" => new Ty(value + "u"),
                "long" => new Ty(value + "l"),
                "unsigned long" => new Ty(value + "ul"),
                "long long" => new Ty(value + "ll"),
                "unsigned long long" => new Ty(value + "ull"),
                var t => new Ty($"({t}){value}"),
            };
        }

        private Ty TemplateParam()
        {
            Expect('T');
            var index = Eat('_') ? 0 : Number(allowNegative: false) + 1;
            if (index != 0) Expect('_');
            if (index >= _templateArgs.Count) throw new DemangleException($"template parameter {index} of {_templateArgs.Count}");
            var t = _templateArgs[index];
            _subs.Add(t);
            return t;
        }

        private Ty Substitution()
        {
            Expect('S');
            var c = Next();
            switch (c)
            {
                case 'a': return new Ty("std::allocator");
                case 'b': return new Ty("std::basic_string");
                case 's': return new Ty("std::string");
                case 'i': return new Ty("std::istream");
                case 'o': return new Ty("std::ostream");
                case 'd': return new Ty("std::iostream");
                case '_': return Sub(0);
            }
            var id = 0;
            for (; c != '_'; c = Next())
            {
                var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetterUpper(c) ? c - 'A' + 10 : throw new DemangleException("bad substitution");
                id = checked((id * 36) + digit);
            }
            return Sub(id + 1);
        }

        private Ty Sub(int index) => index < _subs.Count ? _subs[index] : throw new DemangleException($"substitution {index} of {_subs.Count}");

        private static readonly Dictionary<char, string> Builtins = new()
        {
            ['v'] = "void", ['w'] = "wchar_t", ['b'] = "bool", ['c'] = "char", ['a'] = "signed char", ['h'] = "unsigned char",
            ['s'] = "short", ['t'] = "unsigned short", ['i'] = "int", ['j'] = "unsigned int", ['l'] = "long", ['m'] = "unsigned long",
            ['x'] = "long long", ['y'] = "unsigned long long", ['n'] = "__int128", ['o'] = "unsigned __int128", ['f'] = "float",
            ['d'] = "double", ['e'] = "long double", ['g'] = "__float128", ['z'] = "...",
        };

        private static readonly Dictionary<char, string> DBuiltins = new()
        {
            ['n'] = "decltype(nullptr)", ['i'] = "char32_t", ['s'] = "char16_t", ['u'] = "char8_t", ['a'] = "auto", ['c'] = "decltype(auto)",
        };

        private Ty Type()
        {
            var c = Peek();
            if (Builtins.TryGetValue(c, out var builtin))
            {
                Position++;
                return new Ty(builtin);
            }
            if (c == 'D' && DBuiltins.TryGetValue(Peek(1), out var dbuiltin))
            {
                Position += 2;
                return new Ty(dbuiltin);
            }

            Ty result;
            switch (c)
            {
                case 'r' or 'V' or 'K':
                    var cv = CvQualifiers();
                    result = Type().With(cv);
                    break;
                case 'P':
                    Position++;
                    result = Type().With("*");
                    break;
                case 'R':
                    Position++;
                    result = Type().With("&");
                    break;
                case 'O':
                    Position++;
                    result = Type().With("&&");
                    break;
                case 'F':
                    Position++;
                    Eat('Y');
                    var returns = Type().ToString();
                    var parameters = Parameters(stopAtE: true);
                    Eat('R');
                    Eat('O');
                    Expect('E');
                    result = new Ty("", FunctionReturn: returns, FunctionParams: parameters);
                    break;
                case 'A':
                    Position++;
                    var bound = char.IsAsciiDigit(Peek()) ? Number(allowNegative: false).ToString(CultureInfo.InvariantCulture) : "";
                    Expect('_');
                    var element = Type().ToString();
                    result = new Ty("", ArrayElement: element, ArrayBound: bound);
                    break;
                case 'T':
                    result = TemplateParam();
                    if (Peek() == 'I')
                    {
                        result = new Ty(result + TemplateArgs().Text);
                        break;
                    }
                    return result; // added as a candidate by TemplateParam
                case 'S' when Peek(1) != 't':
                    result = Substitution();
                    if (Peek() != 'I') return result; // a reference, not a new candidate
                    result = new Ty(result + TemplateArgs().Text);
                    break;
                case 'D' when Peek(1) == 'p':
                    Position += 2;
                    result = Type();
                    break;
                default:
                    if (!(char.IsAsciiDigit(c) || c is 'N' or 'Z' or 'S')) throw new DemangleException($"unsupported type at {Position}");
                    var saved = _templateArgs;
                    result = new Ty(Name(out _, out _, out _));
                    _templateArgs = saved;
                    break;
            }
            _subs.Add(result);
            return result;
        }
    }
}
