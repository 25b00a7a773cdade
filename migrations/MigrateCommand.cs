using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Migrations;

/// <summary>Creates the database when missing and applies pending migrations. Exit codes: 0 done, 1 failed, 2 usage.</summary>
public static class MigrateCommand
{
    public const string EnvironmentVariable = "ConnectionStrings__Lab";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null, CancellationToken ct = default)
    {
        string? connection = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--connection" or "-c" && i + 1 < args.Length) connection = args[++i];
            else if (args[i].StartsWith("--connection=", StringComparison.Ordinal)) connection = args[i]["--connection=".Length..];
            else if (args[i] == ConnectionArgument.FileOption && i + 1 < args.Length) connection = await ConnectionArgument.ReadAsync(args[++i], stdin ?? Console.In, ct);
            else if (args[i] is "--help" or "-h")
            {
                await stdout.WriteLineAsync($"usage: Redox.Lab.Migrations [--connection-file <file, - for stdin> | --connection \"<Npgsql connection string>\"]  (default: ${EnvironmentVariable}; a string with Password= belongs in a file or stdin, not on a command line)");
                return 0;
            }
            else
            {
                await stderr.WriteLineAsync($"migrate: unknown argument '{args[i]}' (try --help)");
                return 2;
            }
        }
        connection ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(connection))
        {
            await stderr.WriteLineAsync($"migrate: no connection string: pass --connection-file <file> (- for stdin), --connection \"<cs>\" or set {EnvironmentVariable}");
            return 2;
        }

        NpgsqlConnectionStringBuilder target;
        try
        {
            target = new NpgsqlConnectionStringBuilder(connection);
        }
        catch (ArgumentException ex)
        {
            await stderr.WriteLineAsync($"migrate: invalid connection string: {ex.Message}");
            return 2;
        }

        try
        {
            await using var db = LabDbContextFactory.Create(connection);
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            // Migrate creates the database first when it does not exist.
            await db.Database.MigrateAsync(ct);
            await stdout.WriteLineAsync(pending.Count == 0
                ? $"migrate: database '{target.Database}' on {target.Host}:{target.Port} is up to date"
                : $"migrate: applied {pending.Count} migration(s) to '{target.Database}' on {target.Host}:{target.Port}: {string.Join(", ", pending)}");
            return 0;
        }
        catch (Exception ex) when (Unreachable(ex))
        {
            await stderr.WriteLineAsync($"migrate: cannot reach PostgreSQL at {target.Host}:{target.Port}: {Innermost(ex).Message}");
            return 1;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or DbUpdateException)
        {
            await stderr.WriteLineAsync($"migrate: failed on '{target.Database}' at {target.Host}:{target.Port}: {Innermost(ex).Message}");
            return 1;
        }
    }

    private static bool Unreachable(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is SocketException or TimeoutException) return true;
        return false;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }
}
