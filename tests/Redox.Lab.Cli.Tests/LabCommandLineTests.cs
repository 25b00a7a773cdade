using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class LabCommandLineTests
{
    [Theory]
    [InlineData("push", "--pipline", "x")]
    [InlineData("push", "--branch")]
    [InlineData("results")]
    [InlineData("results", "not-a-run")]
    [InlineData("results", "0d9f7a3e-5b7e-4b8e-9d2a-3f0f5f1e2d3c", "extra")]
    [InlineData("compare", "0d9f7a3e-5b7e-4b8e-9d2a-3f0f5f1e2d3c")]
    [InlineData("logs", "0d9f7a3e-5b7e-4b8e-9d2a-3f0f5f1e2d3c", "--folow")]
    [InlineData("repo", "hook", "kernel", "--forge", "bitbucket", "--pipelines", "p.yaml")]
    [InlineData("user", "add", "--name", "a", "--role", "root")]
    [InlineData("pusj")]
    public async Task RunAsync_UnknownOrMissingArguments_Exit2WithoutContactingTheServer(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        // The server is a closed port: a command that got as far as the network would say "cannot reach".
        var exit = await LabCommandLine.RunAsync(["--server", "http://127.0.0.1:9", .. args], stdout, stderr);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.StartsWith("lab: ", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GlobalOptionsBeforeOrAfterTheVerb_BothBound()
    {
        var root = LabCommandLine.Build(TextWriter.Null, TextWriter.Null);

        var before = root.Parse(["--server", "http://lab:1", "--json", "machines"]);
        var after = root.Parse(["machines", "--json", "--server", "http://lab:1"]);

        Assert.Empty(before.Errors);
        Assert.Empty(after.Errors);
        Assert.Equal("http://lab:1", before.GetValue(LabCommandLine.ServerOption));
        Assert.Equal("http://lab:1", after.GetValue(LabCommandLine.ServerOption));
        Assert.True(after.GetValue(LabCommandLine.JsonOption));
    }

    [Fact]
    public void Parse_TokenOption_DoesNotExist()
    {
        // The token is read from a file only: argv is visible to every local user.
        var parsed = LabCommandLine.Build(TextWriter.Null, TextWriter.Null).Parse(["machines", "--token", "secret"]);

        Assert.NotEmpty(parsed.Errors);
    }

    [Fact]
    public async Task RunAsync_ServerUnreachable_Exit2AndSaysSo()
    {
        using var stderr = new StringWriter();

        var exit = await LabCommandLine.RunAsync(["machines", "--server", "http://127.0.0.1:9"], TextWriter.Null, stderr);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("cannot reach the lab server", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_OptionEnvConfigDefault_InThatOrder()
    {
        var dir = Directory.CreateTempSubdirectory("lab-config-").FullName;
        var config = Path.Combine(dir, "config");
        File.WriteAllText(config, "# lab\nserver = http://from-file:1\ntoken-file = /from/file\n");
        string? Env(string name) => name switch { "LAB_CONFIG" => config, "LAB_SERVER" => "http://from-env:1", _ => null };

        var fromOption = LabConfig.Resolve("http://from-option:1", "/from/option", Env);
        var fromEnvAndFile = LabConfig.Resolve(null, null, Env);
        var defaults = LabConfig.Resolve(null, null, name => name == "LAB_CONFIG" ? Path.Combine(dir, "missing") : null);

        Assert.Equal(new LabConfig("http://from-option:1", "/from/option"), fromOption);
        Assert.Equal(new LabConfig("http://from-env:1", "/from/file"), fromEnvAndFile);
        Assert.Equal("http://127.0.0.1:5080", defaults.Server);
        Assert.EndsWith(Path.Combine(".config", "redox-lab", "token"), defaults.TokenFile, StringComparison.Ordinal);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Resolve_ConfigWithUnknownKey_UsageErrorNamesTheLine()
    {
        var dir = Directory.CreateTempSubdirectory("lab-config-").FullName;
        var config = Path.Combine(dir, "config");
        File.WriteAllText(config, "server = http://x:1\ntoken = abc\n");

        var e = Assert.Throws<CliUsageException>(() => LabConfig.Resolve(null, null, name => name == "LAB_CONFIG" ? config : null));

        Assert.Contains(":2: unknown key 'token'", e.Message, StringComparison.Ordinal);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ExitFor_OutcomesAndRegressions_GateAMerge()
    {
        static Contracts.Api.RunView Run(Contracts.Api.Outcome o) => new(Guid.NewGuid(), "r", "main", "abc", "p.yaml", o, DateTimeOffset.UnixEpoch, null, []);
        var regression = new Contracts.Api.RunVerdictsView(Guid.NewGuid(), "push", "abc", "def", "x", true, 0,
            [new Contracts.Api.VerdictView("a/m", "v", "stage", "stage:kmain-done", "regression", "ms", "lower", 5, 5, 1, 2, 1, 0.5, 1.5, 1, 0.001, 0.02, "default", 1, null, null, null)], []);

        Assert.Equal(ExitCodes.Ok, CliCommands.ExitFor(Run(Contracts.Api.Outcome.Passed), null));
        Assert.Equal(ExitCodes.Failed, CliCommands.ExitFor(Run(Contracts.Api.Outcome.Passed), regression));
        Assert.Equal(ExitCodes.Failed, CliCommands.ExitFor(Run(Contracts.Api.Outcome.KernelPanic), null));
        Assert.Equal(ExitCodes.Undecided, CliCommands.ExitFor(Run(Contracts.Api.Outcome.InfraError), null));
        Assert.Equal(ExitCodes.Undecided, CliCommands.ExitFor(Run(Contracts.Api.Outcome.Cancelled), null));
    }

    [Fact]
    public void WatchPrinter_HostileStageAndDetail_PrintedEscaped()
    {
        using var o = new StringWriter();
        var printer = new WatchPrinter(o);
        var job = Guid.NewGuid();

        printer.Print("job", $"{{\"jobId\":\"{job}\",\"variant\":\"v\",\"machine\":\"a/m\",\"attempt\":1,\"state\":\"ended\",\"outcome\":\"kernelPanic\",\"detail\":\"\\u001b]0;pwned\\u0007\"}}");
        printer.Print("stage", $"{{\"jobId\":\"{job}\",\"boot\":0,\"stage\":\"x\\u001b[2J\",\"hostTime\":\"2026-12-01T00:00:00Z\"}}");

        Assert.DoesNotContain('\u001b', o.ToString());
        Assert.Contains("\\x1b]0;pwned\\x07", o.ToString(), StringComparison.Ordinal);
        Assert.Contains("kernel-panic", o.ToString(), StringComparison.Ordinal);
    }
}
