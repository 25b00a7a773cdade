using System.Diagnostics;
using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class LocalGitTests : IDisposable
{
    private readonly string _repo = Directory.CreateTempSubdirectory("lab-cli-git-").FullName;

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    [Fact]
    public async Task RevParseAsync_Head_FullCommitId()
    {
        Git("init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(_repo, "a"), "a");
        Git("add", "a");
        Git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "a");

        var commit = await LocalGit.RevParseAsync(_repo, "HEAD");

        Assert.Matches("^[0-9a-f]{40}$", commit);
        Assert.Equal(Git("rev-parse", "main").Trim(), commit);
    }

    [Fact]
    public async Task RevParseAsync_UnknownRef_UsageError()
    {
        Git("init", "-q", "-b", "main");

        var e = await Assert.ThrowsAsync<CliUsageException>(() => LocalGit.RevParseAsync(_repo, "no-such-branch"));

        Assert.Contains("no-such-branch", e.Message, StringComparison.Ordinal);
    }

    private string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _repo };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
        return output;
    }
}
