using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Console;

/// <summary>
/// Which boot stages were reached and when. With pipeline stages, only those count, each at its
/// first marker or first matching line, reported in pipeline order. Without, every distinct
/// <c>stage</c> marker counts, in arrival order.
/// </summary>
internal sealed class StageTracker
{
    private readonly IReadOnlyList<StageSpec> _specs;
    private readonly Regex?[] _regexes;
    private readonly Reached?[] _reached;
    private readonly List<Reached> _free = [];
    private int _pendingRegexes;

    private readonly record struct Reached(string Name, string Source, ulong? Tsc, long HostNs, long? KernelNs = null);

    public StageTracker(IReadOnlyList<StageSpec> specs)
    {
        _specs = specs;
        _reached = new Reached?[specs.Count];
        _regexes = new Regex?[specs.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            if (specs[i].Regex is { } pattern)
            {
                _regexes[i] = PipelineRegex.Get(pattern);
                _pendingRegexes++;
            }
        }
    }

    /// <summary>Stages reached so far.</summary>
    public int Count { get; private set; }

    /// <summary>The stage reached last, by arrival.</summary>
    public string? Last { get; private set; }

    public void OnMarker(StageMarker marker, long hostNs) => OnNamed(marker.Name, "marker", marker.Tsc, null, hostNs);

    /// <summary>A milestone a console adapter recognised: matched by pipeline stages' <c>marker</c> like a stage marker.</summary>
    public void OnAdapterStage(string name, long? kernelNs, long hostNs) => OnNamed(name, "adapter", null, kernelNs, hostNs);

    private void OnNamed(string name, string source, ulong? tsc, long? kernelNs, long hostNs)
    {
        if (_specs.Count == 0)
        {
            if (!_free.Exists(r => r.Name == name))
            {
                _free.Add(new Reached(name, source, tsc, hostNs, kernelNs));
                Note(name);
            }

            return;
        }

        for (int i = 0; i < _specs.Count; i++)
        {
            if (_reached[i] is null && _specs[i].Marker == name)
            {
                _reached[i] = new Reached(_specs[i].Name, source, tsc, hostNs, kernelNs);
                Note(_specs[i].Name);
            }
        }
    }

    /// <summary>The pipeline's stages not reached (yet), in pipeline order.</summary>
    public IEnumerable<string> Missing => _specs.Where((_, i) => _reached[i] is null).Select(s => s.Name);

    /// <summary>A console line, matched against the stage regexes; <paramref name="kernelNs"/> is its kernel time when a console adapter read one (Linux printk timestamps).</summary>
    public void OnLine(string text, long hostNs, long? kernelNs = null)
    {
        for (int i = 0; _pendingRegexes > 0 && i < _regexes.Length; i++)
        {
            if (_reached[i] is null && _regexes[i] is { } regex && PipelineRegex.IsMatch(regex, text))
            {
                _reached[i] = new Reached(_specs[i].Name, "regex", null, hostNs, kernelNs);
                _pendingRegexes--;
                Note(_specs[i].Name);
            }
        }
    }

    /// <summary>The stages, with kernel times when the kernel announced its TSC (<paramref name="hz"/> not null).</summary>
    public List<StageReport> Report(long? hz, ulong tscBase)
    {
        var reached = _specs.Count == 0 ? _free : _reached.Where(r => r is not null).Select(r => r!.Value);
        return reached.Select(r => new StageReport(r.Name, r.Source, r.KernelNs ?? KernelNs(r.Tsc, hz, tscBase), r.HostNs)).ToList();
    }

    /// <summary>(tsc - base) / hz in nanoseconds, in 128-bit arithmetic so no TSC value overflows it.</summary>
    internal static long? KernelNs(ulong? tsc, long? hz, ulong tscBase)
    {
        if (tsc is null || hz is null or <= 0)
        {
            return null;
        }

        Int128 ns = ((Int128)tsc.Value - tscBase) * 1_000_000_000 / hz.Value;
        return (long)Int128.Clamp(ns, long.MinValue, long.MaxValue);
    }

    private void Note(string name)
    {
        Count++;
        Last = name;
    }
}
