using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Findings;

/// <summary>Adds symbolized fields to a finding at read time (the stored finding stays as the kernel reported it).</summary>
public static class FindingSymbols
{
    /// <summary>
    /// <c>bt.sym</c>: <c>symbol+0xoff</c> (or <c>?</c>) per <c>bt</c> address, comma-separated; <c>rip.sym</c>:
    /// the same for <c>rip</c>; <c>insn</c>: the instruction at <c>rip</c> when the ELF has bytes there.
    /// With DWARF line information (an ELF built with <c>-g</c>): <c>bt.src</c> and <c>rip.src</c>, <c>file:line</c>
    /// (or <c>?</c>) per address. A backtrace holds return addresses, so its frames are looked up one byte back,
    /// inside the call instruction (as <c>addr2line</c> users and <c>decode_stacktrace.sh</c> do); <c>rip</c> as it is.
    /// </summary>
    public static FindingReport Enrich(FindingReport finding, Symbolizer symbols)
    {
        var fields = new Dictionary<string, string>(finding.Fields, StringComparer.Ordinal);
        // A backtrace the kernel symbolized itself (a console adapter's bt.sym) is kept as it printed it;
        // bt.panic is a panic's second stack walk (Redox: the exception's walk, then the panic's).
        foreach (var trace in (string[])["bt", "bt.panic"])
        {
            if (finding.Fields.TryGetValue(trace, out var bt) && bt.Length > 0 && !finding.Fields.ContainsKey(trace + ".sym"))
            {
                fields[trace + ".sym"] = string.Join(',', bt.Split(',').Select(a => Name(symbols, a)));
                if (symbols.HasLines)
                    fields[trace + ".src"] = string.Join(',', bt.Split(',').Select(a => Source(symbols, a, returnAddress: true)));
            }
        }
        if (finding.Fields.TryGetValue("rip", out var ripText) && Symbolizer.ParseAddress(ripText) is { } rip)
        {
            fields["rip.sym"] = symbols.Format(rip) ?? "?";
            if (symbols.DecodeInstruction(rip) is { } insn) fields["insn"] = insn;
            if (symbols.Source(rip) is { } line) fields["rip.src"] = line.ToString();
        }
        return finding with { Fields = fields };
    }

    private static string Source(Symbolizer symbols, string address, bool returnAddress) =>
        Symbolizer.ParseAddress(address) is { } a && a > 0 && symbols.Source(returnAddress ? a - 1 : a) is { } line ? line.ToString() : "?";

    private static string Name(Symbolizer symbols, string address) =>
        Symbolizer.ParseAddress(address) is { } a ? symbols.Format(a) ?? "?" : "?";
}
