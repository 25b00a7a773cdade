using Npgsql;
using Redox.Lab.Migrations;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Migrations;

[Collection(LabCollection.Name)]
public sealed class MigrateCommandTests(LabFixture lab)
{
    [Fact]
    public async Task Run_MissingDatabase_CreatesItAndIsIdempotent()
    {
        var cs = lab.Cluster.ConnectionString("migrate_" + Guid.NewGuid().ToString("N")[..8]);
        using var first = new StringWriter();
        using var second = new StringWriter();

        Assert.Equal(0, await MigrateCommand.RunAsync(["--connection", cs], first, first));
        Assert.Equal(0, await MigrateCommand.RunAsync([$"--connection={cs}"], second, second));

        Assert.Contains("applied", first.ToString(), StringComparison.Ordinal);
        Assert.Contains("up to date", second.ToString(), StringComparison.Ordinal);
        await using var db = new NpgsqlConnection(cs);
        await db.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('runs','jobs','console_lines','boot_stages')", db);
        Assert.Equal(4L, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Run_AsLabRole_DatabaseOwnedByNonSuperuserOverScramWithFsyncOn()
    {
        await using var db = new NpgsqlConnection(lab.ConnectionString);
        await db.OpenAsync();

        // The migrated database, its tables and Hangfire's schema belong to the role the server connects as,
        // and that role is no superuser (pg-local.sh): it could not read pg_authid or change the server's settings.
        var row = await Single(db, """
            SELECT r.rolsuper, r.rolcreaterole, pg_get_userbyid(d.datdba) = current_user,
                   (SELECT bool_and(tableowner = current_user) FROM pg_tables WHERE schemaname IN ('public', 'hangfire')),
                   current_setting('fsync'), current_setting('password_encryption')
            FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()
            """);
        Assert.Equal(new object[] { false, false, true, true, "on", "scram-sha-256" }, row);
        var e = await Assert.ThrowsAsync<PostgresException>(() => Single(db, "SELECT rolpassword FROM pg_authid"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
    }

    [Fact]
    public async Task Open_WrongOrNoPassword_RefusedBySCRAM()
    {
        var wrong = new NpgsqlConnectionStringBuilder(lab.ConnectionString) { Passfile = null, Password = "not-the-password" };
        var empty = Path.Combine(lab.TempDir, "empty.pgpass");
        await File.WriteAllTextAsync(empty, "");
        var none = new NpgsqlConnectionStringBuilder(lab.ConnectionString) { Passfile = empty };

        await using var withWrong = new NpgsqlConnection(wrong.ConnectionString);
        var e = await Assert.ThrowsAsync<PostgresException>(() => withWrong.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, e.SqlState);
        await using var withNone = new NpgsqlConnection(none.ConnectionString);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => withNone.OpenAsync());
    }

    private static async Task<object[]> Single(NpgsqlConnection db, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, db);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var values = new object[reader.FieldCount];
        reader.GetValues(values);
        return values;
    }

    [Fact]
    public async Task Run_PostgresUnreachable_ExitsNonZeroWithClearError()
    {
        var cs = $"Host=127.0.0.1;Port={PostgresCluster.FreePort()};Username=lab;Database=lab;Timeout=3";
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await MigrateCommand.RunAsync(["--connection", cs], stdout, stderr);

        Assert.NotEqual(0, exit);
        Assert.Contains("cannot reach PostgreSQL at 127.0.0.1:", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoConnectionString_ExitsWithUsage()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var saved = Environment.GetEnvironmentVariable(MigrateCommand.EnvironmentVariable);
        if (saved is not null) return; // the environment provides one; nothing to check here

        Assert.Equal(2, await MigrateCommand.RunAsync([], stdout, stderr));
        Assert.Contains(MigrateCommand.EnvironmentVariable, stderr.ToString(), StringComparison.Ordinal);
    }
}
