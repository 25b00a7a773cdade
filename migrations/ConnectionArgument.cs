namespace Redox.Lab.Migrations;

/// <summary>
/// Where the commands take the connection string from: <c>--connection-file FILE</c> (its first line; <c>-</c> reads
/// standard input), <c>--connection CS</c>, or <see cref="MigrateCommand.EnvironmentVariable"/>. Scripts use the file
/// or standard input: a command line is readable by every user of the machine (<c>ps</c>, <c>/proc/PID/cmdline</c>),
/// so a connection string with <c>Password=</c> must never be on one (scripts/lab-start.sh; <see cref="PassfileCommand"/>
/// moves a password into a pgpass file).
/// </summary>
public static class ConnectionArgument
{
    public const string FileOption = "--connection-file";

    /// <summary>The first line of <paramref name="path"/> (standard input for <c>-</c>), trimmed; null when empty.</summary>
    public static async Task<string?> ReadAsync(string path, TextReader stdin, CancellationToken ct)
    {
        var line = path == "-"
            ? await stdin.ReadLineAsync(ct)
            : (await File.ReadAllLinesAsync(path, ct)).FirstOrDefault();
        return string.IsNullOrWhiteSpace(line) ? null : line.Trim();
    }
}
