using System.Text;

namespace Redox.Lab.Cli;

/// <summary>
/// What a kernel printed, made safe for a terminal: every control character (C0, DEL, C1 — which starts ANSI CSI
/// and OSC sequences) and every bidirectional override becomes a visible <c>\xNN</c> / <c>\uNNNN</c> escape, so a
/// finding cannot re-title, clear or recolour the user's terminal nor hide text.
/// </summary>
public static class TerminalText
{
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!text.Any(NeedsEscape)) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!NeedsEscape(c)) sb.Append(c);
            else if (c <= 0xFF) sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) // C0, DEL, C1 (U+0080..U+009F, including CSI U+009B and OSC U+009D)
        || c is >= '\u202A' and <= '\u202E' // bidi embeddings and overrides
        || c is >= '\u2066' and <= '\u2069'; // bidi isolates
}
