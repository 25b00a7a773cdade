using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console.Adapters;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Console;

/// <summary>
/// Everything one boot's console said, built line by line: stages (from markers and the
/// pipeline's regexes) with kernel and host times, metrics, tests, findings, the profile, the end
/// marker, corrupt-marker count, and the derived <see cref="Outcome"/> (PROTOCOL.md, last section).
/// Not thread-safe: one per boot.
/// </summary>
/// <remarks>
/// Lines keep being taken after <see cref="Ended"/> (a panic's backtrace follows it); the outcome
/// precedence makes the order of events irrelevant. The pipeline's regexes are compiled once per
/// process and shared by all boots.
/// </remarks>
public sealed partial class BootConsole
{
    private readonly DateTimeOffset _poweredOnAt;
    private readonly Regex[] _panic;
    private readonly Regex? _success;
    private readonly StageTracker _stages;
    private readonly ConsoleAdapter? _adapter;
    private readonly (Regex Regex, Outcome Outcome)[] _endLines;
    private EndLine? _endLine;
    private int _crashLike;
    private (long Line, string Text)? _firstCrashLike;
    private readonly ProfileCollector _profile = new();
    private readonly List<MetricReport> _metrics = [];
    private readonly List<TestReport> _tests = [];
    private readonly List<FindingReport> _findings = [];
    private readonly List<CorruptMarkerInfo> _corrupt = [];
    private ulong _tscBase;
    private EndMarker? _end;
    private string? _panicDetail;
    private bool _successMatched;
    private bool _validMarker;
    private bool _readableLine;
    private long _unprintableBytes;

    /// <summary>Starts a boot at <paramref name="poweredOnAt"/> (host time zero for stages).</summary>
    /// <exception cref="ArgumentException">A regex of the pipeline does not compile (never for one <see cref="PipelineLoader"/> produced).</exception>
    public BootConsole(PipelineDefinition pipeline, DateTimeOffset poweredOnAt)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        _poweredOnAt = poweredOnAt;
        _panic = pipeline.Console.Panic.Select(PipelineRegex.Get).ToArray();
        _success = pipeline.Console.Success is { } success ? PipelineRegex.Get(success) : null;
        _stages = new StageTracker(pipeline.Stages);
        _adapter = ConsoleAdapter.For(pipeline.Console.Kernel);
        _endLines = pipeline.Console.EndLines.Select(e => (PipelineRegex.Get(e.Regex), e.Outcome)).ToArray();
    }

    /// <summary>Takes one line with the host time it arrived and its per-job line index (for findings).</summary>
    public void Accept(RawConsoleLine line, DateTimeOffset hostTime, long lineIndex)
    {
        ArgumentNullException.ThrowIfNull(line);
        LinesSeen++;
        BytesSeen += line.Bytes.Length + 1; // the newline, which the splitter took off
        long hostNs = (hostTime - _poweredOnAt).Ticks * TimeSpan.NanosecondsPerTick;

        var parsed = ConsoleMarkerParser.Parse(line.Bytes);
        if (parsed.Status == MarkerParseStatus.Valid)
        {
            _validMarker = true;
            OnMarker(parsed.Marker!, hostNs, lineIndex);
        }
        else if (parsed.Status == MarkerParseStatus.Corrupt)
        {
            _corrupt.Add(new CorruptMarkerInfo(lineIndex, parsed.Error!));
        }
        else
        {
            int unprintable = ConsoleText.CountUnprintable(line.Bytes, out bool visible);
            _unprintableBytes += unprintable;
            _readableLine = _readableLine || (visible && unprintable * 2 <= line.Bytes.Length);
            if (_profile.Active)
            {
                _profile.Add(line.Text);
            }
        }

        long? kernelNs = null;
        bool claimed = parsed.Status != MarkerParseStatus.NoMarker;
        if (_adapter is not null && !_profile.Active && parsed.Status == MarkerParseStatus.NoMarker)
        {
            var seen = _adapter.Accept(line.Text, lineIndex);
            kernelNs = seen.KernelNs;
            claimed = seen.Claimed;
            if (seen.Stage is { } stage)
            {
                _stages.OnAdapterStage(stage, kernelNs, hostNs);
            }
        }

        bool panicRegex = MatchRegexes(line.Text, hostNs, kernelNs, lineIndex, inProfile: _profile.Active);
        if (!claimed && !panicRegex && !_profile.Active && PipelineRegex.IsMatch(CrashLike(), line.Text))
        {
            _crashLike++;
            _firstCrashLike ??= (lineIndex, Shorten(line.Text));
        }
    }

    /// <summary>
    /// True once an end marker, a panic (marker, regex or adapter), an end line or the success regex
    /// was seen: the agent stops the machine.
    /// </summary>
    public bool Ended => _end is not null || _panicDetail is not null || _successMatched || _endLine is not null || _adapter?.Ended == true;

    /// <summary>The console adapter reading this boot's kernel formats, or null (lab protocol and regexes only).</summary>
    public string? Adapter => _adapter?.Name;

    /// <summary>Valid markers whose checksum or fields failed.</summary>
    public int CorruptMarkers => _corrupt.Count;

    /// <summary>The corrupt markers, with their line index and what was wrong, in arrival order.</summary>
    public IReadOnlyList<CorruptMarkerInfo> CorruptMarkerDetails => _corrupt;

    /// <summary>Lines taken so far.</summary>
    public long LinesSeen { get; private set; }

    /// <summary>Bytes taken so far, counting one newline per line.</summary>
    public long BytesSeen { get; private set; }

    /// <summary>The TSC frequency the kernel announced, or null before its <c>tsc</c> marker.</summary>
    public long? TscHz { get; private set; }

    /// <summary>How many boot stages were reached so far.</summary>
    public int StageCount => _stages.Count;

    /// <summary>The boot stage reached last, or null before the first.</summary>
    public string? LastStage => _stages.Last;

    /// <summary>The kernel's <c>hello</c> marker, when it sent one.</summary>
    public HelloMarker? Hello { get; private set; }

    /// <summary>The kernel's <c>machine</c> marker (its CPU, for the drift fingerprint), when it sent one.</summary>
    public MachineMarker? Machine { get; private set; }

    /// <summary>The <c>end</c> marker, when it arrived.</summary>
    public EndMarker? End => _end;

    private void OnMarker(Marker marker, long hostNs, long lineIndex)
    {
        switch (marker)
        {
            case HelloMarker hello:
                Hello ??= hello;
                break;
            case MachineMarker machine:
                Machine ??= machine;
                break;
            case TscMarker tsc when TscHz is null:
                TscHz = tsc.Hz;
                _tscBase = tsc.Base;
                break;
            case StageMarker stage:
                _stages.OnMarker(stage, hostNs);
                break;
            case MetricMarker m:
                _metrics.Add(new MetricReport(m.Name, m.Value, m.Unit, m.Samples, m.Stat));
                break;
            case TestMarker t:
                _tests.Add(new TestReport(t.Name, t.Result, t.Detail));
                break;
            case FindingMarker f:
                _findings.Add(new FindingReport(f.Kind, f.Fields, lineIndex));
                if (f.Kind == "panic")
                {
                    _panicDetail ??= Describe(_findings[^1]);
                }

                break;
            case ProfileBeginMarker:
                _profile.Begin();
                break;
            case ProfileEndMarker end:
                _profile.End(end);
                break;
            case EndMarker end:
                _end ??= end;
                if (end.Status == "panic")
                {
                    _panicDetail ??= _findings.Count > 0 ? "panic: " + Describe(_findings[^1]) : "panic: end status=panic";
                }

                break;
        }
    }

    /// <summary>The pipeline's regexes over one line; true when a panic regex matched it.</summary>
    private bool MatchRegexes(string text, long hostNs, long? kernelNs, long lineIndex, bool inProfile)
    {
        bool panic = false;
        foreach (var regex in _panic)
        {
            if (PipelineRegex.IsMatch(regex, text))
            {
                _panicDetail ??= "panic: " + Shorten(text);
                panic = true;
                break;
            }
        }

        // Profile lines are sample text: they name no boot milestones.
        if (inProfile)
        {
            return panic;
        }

        _stages.OnLine(text, hostNs, kernelNs);
        if (!_successMatched && _success is not null && PipelineRegex.IsMatch(_success, text))
        {
            _successMatched = true;
        }

        if (_endLine is null)
        {
            foreach (var (regex, outcome) in _endLines)
            {
                if (PipelineRegex.IsMatch(regex, text))
                {
                    _endLine = new EndLine(outcome, Shorten(text), lineIndex);
                    break;
                }
            }
        }

        return panic;
    }

    // What a crash looks like to a reader skimming a console (ADAPTERS.md, "unclaimed crash lines"):
    // "panic=-1" on a command line is a setting, "a bug" in lower case is prose.
    private static Regex CrashLike() => PipelineRegex.Get(@"\b(panic|panicked|PANIC|Panic)\b(?![=_])|\bOops\b|\bBUG\b|\b[Ff]ault\b|\bFAULT\b");

    /// <summary>A finding in a few words: <c>page-fault at rip 0x..., addr 0x...</c>, <c>panic: out of memory</c>.</summary>
    private static string Describe(FindingReport finding)
    {
        var f = finding.Fields;
        string text = finding.Kind;
        text += f.TryGetValue("msg", out var msg) ? ": " + Shorten(msg) : "";
        text += f.TryGetValue("rip", out var rip) ? " at rip " + rip : "";
        text += f.TryGetValue("addr", out var addr) ? ", addr " + addr : "";
        return text;
    }

    private static string Shorten(string text) => text.Length <= 160 ? text.Trim() : text[..157].Trim() + "...";
}
