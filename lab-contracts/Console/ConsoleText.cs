using System.Text;

namespace Redox.Lab.Contracts.Console;

/// <summary>Tells readable console text from line noise (a wrong baud rate, a machine writing random memory).</summary>
internal static class ConsoleText
{
    /// <summary>
    /// A line is readable when it has something besides white space and at most half of its bytes
    /// are unprintable (see <see cref="CountUnprintable"/>).
    /// </summary>
    public static bool IsReadable(ReadOnlySpan<byte> line)
    {
        int unprintable = CountUnprintable(line, out bool visible);
        return visible && unprintable * 2 <= line.Length;
    }

    /// <summary>
    /// The line's unprintable bytes: control bytes other than tab, and bytes that are not valid UTF-8.
    /// <paramref name="visible"/> tells whether anything besides white space is left.
    /// </summary>
    public static int CountUnprintable(ReadOnlySpan<byte> line, out bool visible)
    {
        int unprintable = 0;
        visible = false;
        var rest = line;
        while (!rest.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(rest, out var rune, out int consumed);
            if (status != System.Buffers.OperationStatus.Done || (Rune.IsControl(rune) && rune.Value != '\t'))
            {
                unprintable += consumed;
            }
            else if (!Rune.IsWhiteSpace(rune))
            {
                visible = true;
            }

            rest = rest[consumed..];
        }

        return unprintable;
    }
}
