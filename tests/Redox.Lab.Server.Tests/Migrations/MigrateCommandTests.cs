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
