namespace Redox.Lab.Contracts.Console;

/// <summary>Parses and formats console-protocol markers (PROTOCOL.md). Stateless and thread-safe.</summary>
public static class ConsoleMarkerParser
{
    /// <summary>The prefix that starts a marker anywhere in a line.</summary>
    public const string Prefix = "@@LAB ";

    /// <summary>Parses one line (without its newline) as raw bytes.</summary>
    public static MarkerParseResult Parse(ReadOnlySpan<byte> line) => throw new NotImplementedException();

    /// <summary>Parses one line that was already decoded (non-ASCII characters make a marker corrupt).</summary>
    public static MarkerParseResult Parse(string line) => throw new NotImplementedException();

    /// <summary>Formats a marker line with its checksum, for tests and for kernels written in C#: <c>Format("stage", ("name","entry"))</c>.</summary>
    public static string Format(string type, params (string Key, string Value)[] fields) => throw new NotImplementedException();

    /// <summary>CRC-32 (IEEE) of the bytes.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes) => throw new NotImplementedException();
}
