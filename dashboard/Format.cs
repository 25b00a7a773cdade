using System.Globalization;

namespace Redox.Lab.Dashboard;

/// <summary>How numbers, durations and commits read on every page.</summary>
public static class Format
{
    public static string Short(string commit) => commit.Length > 10 ? commit[..10] : commit;

    /// <summary>Nanoseconds as milliseconds with three decimals, or "—".</summary>
    public static string Ms(long? ns) => ns is { } v ? (v / 1e6).ToString("#,0.000", CultureInfo.InvariantCulture) : "—";

    public static string MsValue(double ms) => ms.ToString(ms >= 100 ? "#,0" : "#,0.0##", CultureInfo.InvariantCulture);

    public static string Number(double v) => Math.Abs(v) >= 1e15 || (v != 0 && Math.Abs(v) < 1e-3)
        ? v.ToString("0.###e+0", CultureInfo.InvariantCulture)
        : v.ToString("#,0.###", CultureInfo.InvariantCulture);

    public static string Int(long v) => v.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>A duration as "1.2 s", "340 ms", "2 min 5 s", "3 h 10 min".</summary>
    public static string Duration(TimeSpan d) => d.TotalSeconds switch
    {
        < 1 => $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        < 60 => $"{d.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s",
        < 3600 => $"{(int)d.TotalMinutes} min {d.Seconds} s",
        _ => $"{(int)d.TotalHours} h {d.Minutes} min",
    };

    /// <summary>A profile reference as a page shows it: a comma-separated group by its first reference and the count.</summary>
    public static string ProfileReference(string reference)
    {
        var parts = reference.Split(',');
        return parts.Length == 1 ? reference : $"{parts[0]} and {Plural(parts.Length - 1, "more reference")}";
    }

    public static string Plural(long n, string noun) => n == 1 ? $"1 {noun}" : $"{Int(n)} {noun}s";
}
