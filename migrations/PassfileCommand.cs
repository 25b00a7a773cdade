using System.Text;
using Npgsql;

namespace Redox.Lab.Migrations;

/// <summary>
/// <c>Redox.Lab.Migrations passfile --out FILE</c>: reads a connection string on standard input and, when it holds a
/// password, writes the password to <c>FILE</c> in PostgreSQL's password-file format (mode 600) and prints the
/// connection string without it, naming the file instead (Npgsql's <c>Passfile=</c>). The printed string can go on a
/// command line or into a process's environment without giving the password away (scripts/lab-start.sh does this with
/// <c>LAB_DB</c>). A string without a password is printed as it is and no file is written. Exit codes: 0, 2 usage.
/// </summary>
public static class PassfileCommand
{
    public const string Name = "passfile";

    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        if (args is not ["--out", var output])
        {
            await stderr.WriteLineAsync($"usage: Redox.Lab.Migrations {Name} --out <pgpass file>  (the connection string on standard input)");
            return 2;
        }
        var connection = await stdin.ReadLineAsync(ct);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connection?.Trim() ?? "");
        }
        catch (ArgumentException ex)
        {
            // The message names the key that did not parse, never the string (it may hold the password).
            await stderr.WriteLineAsync($"{Name}: invalid connection string: {ex.Message}");
            return 2;
        }
        if (string.IsNullOrEmpty(builder.Password))
        {
            await stdout.WriteLineAsync(builder.ConnectionString);
            return 0;
        }

        var path = Path.GetFullPath(output);
        await WriteAsync(path, $"*:*:*:{Escape(builder.Username ?? "*")}:{Escape(builder.Password)}\n", ct);
        builder.Remove("Password");
        builder.Passfile = path;
        await stdout.WriteLineAsync(builder.ConnectionString);
        return 0;
    }

    /// <summary>A password file field: <c>:</c> and <c>\</c> escaped with <c>\</c> (PostgreSQL's libpq-pgpass).</summary>
    public static string Escape(string field) => field.Replace(@"\", @"\\", StringComparison.Ordinal).Replace(":", @"\:", StringComparison.Ordinal);

    private static async Task WriteAsync(string path, string text, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var file = new FileStream(path, options))
            await file.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        // An existing file keeps its mode when rewritten: set it either way.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
