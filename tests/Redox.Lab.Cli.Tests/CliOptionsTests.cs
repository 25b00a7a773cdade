using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class CliOptionsTests
{
    [Fact]
    public void Parse_KeysFlagsAndPositionals_AllKept()
    {
        var o = CliOptions.Parse(["push", "--repo", "/src/kernel", "--wait", "--branch", "main", "extra"]);

        Assert.Equal("push", o.Command);
        Assert.Equal("/src/kernel", o.Require("repo"));
        Assert.Equal("main", o.Get("branch"));
        Assert.True(o.Has("wait"));
        Assert.Null(o.Get("wait"));
        Assert.Equal(["extra"], o.Positional);
    }

    [Fact]
    public void Parse_KeyWithoutValue_UsageError()
    {
        var e = Assert.Throws<CliUsageException>(() => CliOptions.Parse(["push", "--repo"]));

        Assert.Contains("--repo", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Require_Missing_UsageErrorNamesTheOption()
    {
        var o = CliOptions.Parse(["push"]);

        Assert.Contains("--repo", Assert.Throws<CliUsageException>(() => o.Require("repo")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_GivenOnTheCommandLine_UsedOverTheDefault()
    {
        var o = CliOptions.Parse(["show", "--server", "http://lab:1"]);

        Assert.Equal("http://lab:1", o.Server);
    }
}
