using System.Globalization;
using System.Text.Json;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>Prints a run's events (lab-contracts/Api/RunEvents.cs) as lines a person follows; kernel text is cleaned.</summary>
public sealed class WatchPrinter(TextWriter? o)
{
    private readonly Dictionary<Guid, string> _jobs = [];

    public void Print(string type, string data)
    {
        if (o is null) return;
        switch (type)
        {
            case "run":
            {
                var run = Read<RunEvent>(data);
                o.WriteLine($"run {run.RunId}  {C(run.Repository)} {C(run.Branch ?? "")} {Short(run.Commit)}  {C(run.Pipeline)}");
                break;
            }
            case "job":
            {
                var job = Read<JobEvent>(data);
                var name = _jobs[job.JobId] = $"{C(job.Variant)}@{C(job.Machine)}{(job.Attempt > 1 ? $" (attempt {job.Attempt})" : "")}";
                o.WriteLine($"{Now()}  job {name}: {(job.State == "ended" ? job.Outcome.ToName() : job.State)}{Detail(job.Detail)}   {job.JobId}");
                break;
            }
            case "stage":
            {
                var stage = Read<StageEvent>(data);
                o.WriteLine($"{Now()}    {Job(stage.JobId)} boot {stage.Boot}: stage {C(stage.Stage)}");
                break;
            }
            case "boot":
            {
                var boot = Read<BootEvent>(data);
                var last = boot.Stages.Count > 0 ? boot.Stages[^1] : null;
                var ms = last is null ? "" : $", {C(last.Name)} at {((last.KernelNs ?? last.HostNs) / 1e6).ToString("0.###", CultureInfo.InvariantCulture)} ms";
                o.WriteLine($"{Now()}    {Job(boot.JobId)} boot {boot.Boot}: {boot.Outcome.ToName()}{Detail(boot.Detail)} ({boot.Stages.Count} stages{ms})");
                break;
            }
            case "end":
            {
                var run = Read<RunEvent>(data);
                o.WriteLine($"{Now()}  run ended: {run.Outcome.ToName()}{Detail(run.Detail)}");
                break;
            }
        }
    }

    private string Job(Guid id) => _jobs.GetValueOrDefault(id) ?? id.ToString();

    private static T Read<T>(string data) => JsonSerializer.Deserialize<T>(data, Cli.JsonOptions)!;

    private static string Now() => DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Short(string commit) => C(commit[..Math.Min(12, commit.Length)]);

    private static string Detail(string? d) => string.IsNullOrEmpty(d) ? "" : $" ({C(d)})";

    private static string C(string text) => TerminalText.Clean(text);
}

/// <summary>A plain text table: columns as wide as their widest cell (cut at 60), every cell cleaned.</summary>
public static class Table
{
    public static void Print(TextWriter o, IReadOnlyList<string> headers, IEnumerable<string[]> rows)
    {
        var cells = rows.Select(r => r.Select(c => Cut(TerminalText.Clean(c))).ToArray()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToArray();
        o.WriteLine(string.Join("  ", headers.Select((h, i) => h.ToUpperInvariant().PadRight(widths[i]))).TrimEnd());
        foreach (var r in cells) o.WriteLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    private static string Cut(string s) => s.Length <= 60 ? s : s[..59] + "…";
}
