using System.Diagnostics;

namespace Redox.Lab.Cli;

/// <summary>The few git questions lab-cli asks a local repository.</summary>
public static class LocalGit
{
    /// <summary>The full commit id a ref names (<c>HEAD</c>, <c>main~2</c>, a tag); a usage error when it names none.</summary>
    public static async Task<string> RevParseAsync(string repo, string rev)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-C", repo, "rev-parse", "--verify", "--quiet", rev + "^{commit}" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var git = Process.Start(psi) ?? throw new CliUsageException("git could not be started");
        var output = await git.StandardOutput.ReadToEndAsync();
        await git.WaitForExitAsync();
        return git.ExitCode == 0 ? output.Trim() : throw new CliUsageException($"'{rev}' names no commit in {repo}");
    }
}
