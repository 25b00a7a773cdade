using System.Globalization;

namespace Redox.Lab.Contracts.Pipelines;

/// <summary>The scalar formats of pipelines/FORMAT.md: durations and sizes. Each returns null for text that is not one.</summary>
internal static class PipelineValues
{
    /// <summary>The longest duration a pipeline may ask for: more is a typo, and TimeSpan must not overflow.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary><c>90</c> (seconds), <c>500ms</c>, <c>90s</c>, <c>1.5m</c>, <c>1h</c>.</summary>
    public static TimeSpan? Duration(string text)
    {
        var (number, unit) = Split(text);
        double? unitMs = unit switch
        {
            "" when IsInteger(number) => 1000,
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => null,
        };
        if (unitMs is null || !TryNumber(number, out double value))
        {
            return null;
        }

        double ms = value * unitMs.Value;
        return ms <= MaxDuration.TotalMilliseconds ? TimeSpan.FromMilliseconds(Math.Round(ms)) : TimeSpan.MaxValue;
    }

    /// <summary>MiB, possibly fractional: <c>256</c> (MiB), <c>512K</c>, <c>256M</c>, <c>2G</c>, <c>1.5G</c>; null when not a size.</summary>
    public static double? SizeMiB(string text)
    {
        var (number, unit) = Split(text);
        double? perUnit = unit switch
        {
            "" when IsInteger(number) => 1,
            "K" => 1.0 / 1024,
            "M" => 1,
            "G" => 1024,
            _ => null,
        };
        if (perUnit is null || !TryNumber(number, out double value))
        {
            return null;
        }

        return value * perUnit.Value;
    }

    /// <summary>An integer (optionally signed); null when the text is not one.</summary>
    public static long? Integer(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : null;

    private static (string Number, string Unit) Split(string text)
    {
        int i = 0;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
        {
            i++;
        }

        return (text[..i], text[i..]);
    }

    private static bool IsInteger(string number) => number.Length > 0 && !number.Contains('.', StringComparison.Ordinal);

    // Digits with at most one '.', digits on both sides of it: "1.5", not ".5", "1." or "1.2.3".
    private static bool TryNumber(string number, out double value)
    {
        value = 0;
        int dot = number.IndexOf('.', StringComparison.Ordinal);
        bool shaped = number.Length > 0 && dot != 0 && dot != number.Length - 1 && number.IndexOf('.', dot + 1) < 0;
        return shaped && double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }
}
