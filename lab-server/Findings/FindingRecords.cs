using System.Text.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Findings;

/// <summary>A finding between the wire and the table: stored as the kernel reported it, symbolized when read.</summary>
public static class FindingRecords
{
    /// <summary>The row for a reported finding; its signature and bug come later, when the run is judged (BugTracker).</summary>
    public static FindingRow ToRow(FindingReport f) => new()
    {
        Kind = f.Kind, Fields = JsonSerializer.Serialize(AgentText.Storable(f.Fields)), Line = f.Line,
    };

    /// <summary>The finding as the API shows it, with <c>bt.sym</c>, <c>rip.sym</c> and <c>insn</c> when the job's ELF is known.</summary>
    public static FindingReport Read(FindingRow f, Symbolizer? symbolizer)
    {
        var finding = new FindingReport(f.Kind, ReadFields(f.Fields), f.Line);
        return symbolizer is null ? finding : FindingSymbols.Enrich(finding, symbolizer);
    }

    public static Dictionary<string, string> ReadFields(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
