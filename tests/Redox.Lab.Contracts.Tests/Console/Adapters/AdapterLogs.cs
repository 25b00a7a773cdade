using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Console.Adapters;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Tests.Console.Adapters;

/// <summary>Console logs beside the tests: Linux ones recorded here under QEMU, Redox ones written from the kernel's formats.</summary>
internal static class AdapterLogs
{
    public static string[] Lines(string name) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Console", "Adapters", "Logs", name));

    /// <summary>Feeds every line to <paramref name="adapter"/>; returns what it said per line.</summary>
    public static List<AdapterLine> Feed(ConsoleAdapter adapter, IEnumerable<string> lines) =>
        lines.Select((line, i) => adapter.Accept(line, i)).ToList();

    private static readonly DateTimeOffset PoweredOn = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A boot of <paramref name="yaml"/>'s pipeline over the log's lines, 10 ms apart.</summary>
    public static BootConsole Boot(string yaml, IEnumerable<string> lines)
    {
        var console = new BootConsole(PipelineLoader.Load(yaml), PoweredOn);
        long i = 0;
        foreach (var line in lines)
        {
            console.Accept(RawConsoleLine.FromText(line), PoweredOn + TimeSpan.FromMilliseconds(10 * (i + 1)), i);
            i++;
        }

        return console;
    }

    public static BootReport Report(BootConsole console, bool timedOut = true, BootStop stop = BootStop.Timeout) =>
        console.ToReport(0, PoweredOn + TimeSpan.FromSeconds(60), timedOut, stop);

    public static string Pipeline(string kernel, string extra = "") => $$"""
        name: t
        build: { commands: [make], artifacts: { image: k } }
        console:
          kernel: {{kernel}}
        {{extra}}
        """;
}
