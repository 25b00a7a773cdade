namespace Redox.Lab.Contracts.Console;

/// <summary>A valid console-protocol marker (see PROTOCOL.md). <see cref="Fields"/> holds every key, decoded.</summary>
public abstract record Marker(string Type, IReadOnlyDictionary<string, string> Fields);

/// <summary><c>hello</c>: who is speaking.</summary>
public sealed record HelloMarker(int Proto, string? Kernel, string? Version, string? Variant, IReadOnlyDictionary<string, string> Fields) : Marker("hello", Fields);

/// <summary><c>tsc</c>: TSC frequency and time zero.</summary>
public sealed record TscMarker(long Hz, ulong Base, IReadOnlyDictionary<string, string> Fields) : Marker("tsc", Fields);

/// <summary><c>stage</c>: a boot stage was reached.</summary>
public sealed record StageMarker(string Name, ulong? Tsc, IReadOnlyDictionary<string, string> Fields) : Marker("stage", Fields);

/// <summary><c>metric</c>: a measurement.</summary>
public sealed record MetricMarker(string Name, double Value, string Unit, long Samples, string Stat, IReadOnlyDictionary<string, string> Fields) : Marker("metric", Fields);

/// <summary><c>test</c>: a verdict; <see cref="Result"/> is pass, fail or skip.</summary>
public sealed record TestMarker(string Name, string Result, string? Detail, IReadOnlyDictionary<string, string> Fields) : Marker("test", Fields);

/// <summary><c>finding</c>: a correctness problem; <see cref="Backtrace"/> is parsed from <c>bt</c>.</summary>
public sealed record FindingMarker(string Kind, IReadOnlyList<ulong> Backtrace, IReadOnlyDictionary<string, string> Fields) : Marker("finding", Fields);

/// <summary><c>profile-begin</c>.</summary>
public sealed record ProfileBeginMarker(string Format, IReadOnlyDictionary<string, string> Fields) : Marker("profile-begin", Fields);

/// <summary><c>profile-end</c>.</summary>
public sealed record ProfileEndMarker(long Lines, long? Samples, long? Dropped, IReadOnlyDictionary<string, string> Fields) : Marker("profile-end", Fields);

/// <summary><c>end</c>: the run is over; <see cref="Status"/> is pass, fail or panic.</summary>
public sealed record EndMarker(string Status, long? Code, IReadOnlyDictionary<string, string> Fields) : Marker("end", Fields);

/// <summary>
/// <c>machine</c>: the CPU as the kernel sees it (brand string, vendor, display family/model/stepping, the loaded
/// microcode revision), for the machine's drift fingerprint (lab-server/Machines/HEALTH.md).
/// </summary>
public sealed record MachineMarker(string? Cpu, string? Vendor, long? Family, long? Model, long? Stepping, ulong? Microcode, IReadOnlyDictionary<string, string> Fields) : Marker("machine", Fields)
{
    /// <summary>
    /// The fingerprint entries this marker gives: <c>cpu</c> (the brand string), <c>cpuid</c> (vendor and
    /// signature) and <c>microcode</c> (<c>0x</c> and lower-case hex, as a machines file writes it).
    /// </summary>
    public Dictionary<string, string> Fingerprint()
    {
        var fp = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(Cpu))
            fp["cpu"] = Cpu;
        if (Vendor is not null && Family is { } family && Model is { } model && Stepping is { } stepping)
            fp["cpuid"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Vendor} family {family} model {model} stepping {stepping}");
        if (Microcode is { } microcode)
            fp["microcode"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"0x{microcode:x}");
        return fp;
    }
}

/// <summary>A well-formed marker of a type this version does not know: kept, not used.</summary>
public sealed record UnknownMarker(string MarkerType, IReadOnlyDictionary<string, string> Fields) : Marker(MarkerType, Fields);

/// <summary>What one console line holds.</summary>
public enum MarkerParseStatus
{
    /// <summary>No <c>@@LAB </c> in the line.</summary>
    NoMarker,
    /// <summary>A valid marker.</summary>
    Valid,
    /// <summary>A marker whose checksum or fields are wrong: count it, never use it.</summary>
    Corrupt,
}

/// <summary>Result of parsing one line.</summary>
/// <param name="Status">What the line held.</param>
/// <param name="Marker">The marker when <see cref="MarkerParseStatus.Valid"/>.</param>
/// <param name="Error">Why it is corrupt, when <see cref="MarkerParseStatus.Corrupt"/>.</param>
/// <param name="Offset">Byte offset of <c>@@LAB</c> in the line (-1 when none).</param>
public readonly record struct MarkerParseResult(MarkerParseStatus Status, Marker? Marker, string? Error, int Offset)
{
    /// <summary>The result for a line without a marker.</summary>
    public static MarkerParseResult None => new(MarkerParseStatus.NoMarker, null, null, -1);

    internal static MarkerParseResult Corrupt(string error, int offset) => new(MarkerParseStatus.Corrupt, null, error, offset);

    internal static MarkerParseResult Valid(Marker marker, int offset) => new(MarkerParseStatus.Valid, marker, null, offset);
}

/// <summary>A corrupt marker seen during a boot: counted and shown, never used.</summary>
/// <param name="Line">Console line index (per job) of the marker.</param>
/// <param name="Error">Why it is corrupt, as <see cref="ConsoleMarkerParser"/> said.</param>
public sealed record CorruptMarkerInfo(long Line, string Error);
