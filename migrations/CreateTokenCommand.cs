using Npgsql;
using Redox.Lab.Server.Identity;

namespace Redox.Lab.Migrations;

/// <summary>
/// The install-time command that makes a user (if missing) and an API token for it, and writes the token to a
/// file only its owner can read (mode 600). The token is shown nowhere else, and the lab keeps only its SHA-256.
/// <code>
/// Redox.Lab.Migrations create-token --connection "&lt;cs&gt;" --user admin --role admin --out .lab/admin-token
/// </code>
/// Exit codes: 0 done, 1 failed, 2 usage.
/// </summary>
public static class CreateTokenCommand
{
    public const string Name = "create-token";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null, CancellationToken ct = default)
    {
        string? connection = null, connectionFile = null, user = null, role = null, output = null, label = "install";
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--connection" or "-c": connection = Value(); break;
                    case ConnectionArgument.FileOption: connectionFile = Value(); break;
                    case "--user": user = Value(); break;
                    case "--role": role = Value(); break;
                    case "--out": output = Value(); break;
                    case "--label": label = Value(); break;
                    case "--help" or "-h":
                        await stdout.WriteLineAsync($"usage: Redox.Lab.Migrations {Name} --user <name> --role viewer|developer|admin --out <file> [--label <text>] [--connection-file <file, - for stdin> | --connection <cs>]  (default: ${MigrateCommand.EnvironmentVariable})");
                        return 0;
                    default:
                        await stderr.WriteLineAsync($"{Name}: unknown argument '{args[i]}' (try --help)");
                        return 2;
                }
            }
            catch (ArgumentException ex)
            {
                await stderr.WriteLineAsync($"{Name}: {ex.Message}");
                return 2;
            }
        }
        if (connectionFile is not null) connection = await ConnectionArgument.ReadAsync(connectionFile, stdin ?? Console.In, ct);
        connection ??= Environment.GetEnvironmentVariable(MigrateCommand.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(connection) || user is null || role is null || output is null)
        {
            await stderr.WriteLineAsync($"{Name}: --user, --role, --out and a connection string (--connection-file, --connection or ${MigrateCommand.EnvironmentVariable}) are required");
            return 2;
        }
        if (!Roles.IsValid(role))
        {
            await stderr.WriteLineAsync($"{Name}: role must be one of {string.Join(", ", Roles.All)}");
            return 2;
        }

        try
        {
            await using var db = LabDbContextFactory.Create(connection);
            var store = new IdentityStore(db, TimeProvider.System);
            await store.CreateUserAsync(user, role, orExisting: true, ct);
            var token = await store.CreateTokenAsync(user, label, null, ct);

            var full = Path.GetFullPath(output);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            // Created 600 from the start (never readable by others, not even for a moment), then replaced atomically.
            var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new FileStream(temp, options))
            await using (var writer = new StreamWriter(file))
            {
                await writer.WriteLineAsync(token.Token);
            }
            File.Move(temp, full, overwrite: true);
            await stdout.WriteLineAsync($"{Name}: token '{token.Label}' for {token.Role} '{token.User}' written to {full} (mode 600)");
            return 0;
        }
        catch (IdentityException ex)
        {
            await stderr.WriteLineAsync($"{Name}: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or UnauthorizedAccessException
                                       or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            await stderr.WriteLineAsync($"{Name}: failed: {ex.GetBaseException().Message}");
            return 1;
        }
    }
}
