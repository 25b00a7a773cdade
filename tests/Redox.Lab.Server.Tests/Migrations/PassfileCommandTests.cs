using Npgsql;
using Redox.Lab.Migrations;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Migrations;

/// <summary>A connection string's password goes into a mode-600 password file, never onto a command line or into an environment.</summary>
[Collection(LabCollection.Name)]
public sealed class PassfileCommandTests(LabFixture lab)
{
    private string NewFile() => Path.Combine(lab.TempDir, "passfile-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Run_PasswordInTheString_WrittenToAMode600FileTheStringNamesInstead()
    {
        var file = NewFile();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await PassfileCommand.RunAsync(["--out", file], new StringReader("Host=db;Port=5432;Username=lab;Password=se:cr\\et;Database=redox_lab\n"), stdout, stderr);

        Assert.Equal(0, exit);
        var printed = stdout.ToString().Trim();
        Assert.DoesNotContain("se:cr", printed, StringComparison.Ordinal);
        var parsed = new NpgsqlConnectionStringBuilder(printed);
        Assert.Equal(Path.GetFullPath(file), parsed.Passfile);
        Assert.Null(parsed.Password);
        Assert.Equal(("db", "lab", "redox_lab"), (parsed.Host, parsed.Username, parsed.Database));
        Assert.Equal("*:*:*:lab:se\\:cr\\\\et\n", await File.ReadAllTextAsync(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Run_NoPassword_StringPrintedAsItIsAndNoFileWritten()
    {
        var file = NewFile();
        using var stdout = new StringWriter();

        var exit = await PassfileCommand.RunAsync(["--out", file], new StringReader("Host=db;Username=lab;Database=redox_lab;Passfile=/etc/lab.pgpass"), stdout, TextWriter.Null);

        Assert.Equal(0, exit);
        Assert.Equal("/etc/lab.pgpass", new NpgsqlConnectionStringBuilder(stdout.ToString().Trim()).Passfile);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Run_NoOut_Usage2()
    {
        Assert.Equal(2, await PassfileCommand.RunAsync([], new StringReader("Host=db"), TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public async Task MigrateRun_StringWithPasswordThroughPassfileAndStdin_MigratesWithTheRealServer()
    {
        // The lab role's real password, as a user would put it in LAB_DB.
        var cluster = new NpgsqlConnectionStringBuilder(lab.Cluster.ConnectionString("pf_" + Guid.NewGuid().ToString("N")[..8]));
        var password = (await File.ReadAllTextAsync(cluster.Passfile!)).Trim().Split(':', 5)[4];
        var withPassword = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Passfile = null, Password = password };
        using var printed = new StringWriter();
        Assert.Equal(0, await PassfileCommand.RunAsync(["--out", NewFile()], new StringReader(withPassword.ConnectionString), printed, TextWriter.Null));
        using var output = new StringWriter();

        var exit = await MigrateCommand.RunAsync([ConnectionArgument.FileOption, "-"], output, output, stdin: new StringReader(printed.ToString()));

        Assert.True(exit == 0, output.ToString());
        Assert.DoesNotContain(password, printed.ToString(), StringComparison.Ordinal);
        Assert.Contains("applied", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateTokenRun_ConnectionFile_TokenWritten()
    {
        var connectionFile = NewFile();
        await File.WriteAllTextAsync(connectionFile, lab.ConnectionString + "\n");
        var tokenFile = NewFile();
        using var output = new StringWriter();

        var exit = await CreateTokenCommand.RunAsync([ConnectionArgument.FileOption, connectionFile, "--user", "pf-" + Guid.NewGuid().ToString("N")[..8], "--role", "viewer", "--out", tokenFile], output, output);

        Assert.True(exit == 0, output.ToString());
        Assert.True(new FileInfo(tokenFile).Length > 0);
    }
}
