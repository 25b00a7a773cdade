using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Contracts.Console.Adapters;

/// <summary>
/// A finding read from a crash report that spans many console lines. The fields use the lab
/// protocol's keys (PROTOCOL.md, <c>finding</c>) so every adapter's findings look alike:
/// <c>msg</c>, <c>file</c>, <c>rip</c>, <c>addr</c>, <c>cpu</c>, <c>bt</c> (return addresses, innermost
/// first), and <c>bt.sym</c> when the kernel symbolized its frames itself.
/// </summary>
public sealed class FindingBuilder(string kind, long line)
{
    /// <summary>At most this many frames per backtrace: a runaway stack walk must not grow a finding without bound.</summary>
    public const int MaxFrames = 64;

    /// <summary>At most this many characters per field.</summary>
    public const int MaxFieldChars = 1024;

    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (List<string> Addresses, List<string> Symbols)> _traces = new(StringComparer.Ordinal);

    /// <summary>The finding's kind (<c>panic</c>, <c>page-fault</c>, <c>null-deref</c>, ...).</summary>
    public string Kind { get; set; } = kind;

    /// <summary>Console line index (per job) of the crash report's first line.</summary>
    public long Line { get; } = line;

    /// <summary>A field, or null.</summary>
    public string? this[string key] => _fields.GetValueOrDefault(key);

    /// <summary>Sets a field (cut at <see cref="MaxFieldChars"/>).</summary>
    public void Set(string key, string value) =>
        _fields[key] = value.Length <= MaxFieldChars ? value : value[..MaxFieldChars];

    /// <summary>Sets a field unless it is set already.</summary>
    public void SetOnce(string key, string value)
    {
        if (!_fields.ContainsKey(key))
        {
            Set(key, value);
        }
    }

    /// <summary>Appends a line to a multi-line field (a panic message), joined by a space.</summary>
    public void Append(string key, string text) =>
        Set(key, _fields.TryGetValue(key, out var old) && old.Length > 0 ? old + " " + text : text);

    /// <summary>Adds a frame to the backtrace <paramref name="name"/> (<c>bt</c>, or <c>bt.panic</c> for a second walk): an address, a symbol, or both.</summary>
    public void Frame(string name, string? address, string? symbol)
    {
        if (!_traces.TryGetValue(name, out var trace))
        {
            trace = ([], []);
            _traces[name] = trace;
        }

        if (trace.Addresses.Count >= MaxFrames)
        {
            return;
        }

        trace.Addresses.Add(address ?? "");
        trace.Symbols.Add(symbol ?? "");
    }

    /// <summary>Names the symbol of the last frame of backtrace <paramref name="name"/> (a symbol line after its frame).</summary>
    public void SymbolOfLastFrame(string name, string symbol)
    {
        if (_traces.TryGetValue(name, out var trace) && trace.Symbols.Count > 0)
        {
            trace.Symbols[^1] = symbol;
        }
    }

    /// <summary>How many frames backtrace <paramref name="name"/> has.</summary>
    public int Frames(string name) => _traces.TryGetValue(name, out var t) ? t.Addresses.Count : 0;

    /// <summary>The finding as the boot report carries it.</summary>
    public FindingReport ToReport()
    {
        var fields = new Dictionary<string, string>(_fields, StringComparer.Ordinal);
        foreach (var (name, (addresses, symbols)) in _traces)
        {
            if (addresses.Exists(a => a.Length > 0))
            {
                fields[name] = string.Join(',', addresses.Select(a => a.Length > 0 ? a : "?"));
            }

            if (symbols.Exists(s => s.Length > 0))
            {
                // Commas separate frames: a symbol holding one (Rust generics, C++ templates) keeps it as ';'.
                fields[name + ".sym"] = string.Join(',', symbols.Select(s => s.Length > 0 ? s.Replace(',', ';') : "?"));
            }
        }

        return new FindingReport(Kind, fields, Line);
    }
}
