using System.Diagnostics;

namespace Redox.Lab.Cli;

/// <summary>The few git questions lab asks a local repository.</summary>
public static class LocalGit
{
    /// <summary>The full commit id a ref names (<c>HEAD</c>, <c>main~2</c>, a tag); a usage error when it names none.</summary>
    public static async Task<string> RevParseAsync(string repo, string rev) =>
        await GitAsync(repo, "rev-parse", "--verify", "--quiet", rev + "^{commit}") ?? throw new CliUsageException($"'{TerminalText.Clean(rev)}' names no commit in {repo}");

    /// <summary>The checkout's top folder, or null outside a git repository.</summary>
    public static Task<string?> TopLevelAsync(string dir) => GitAsync(dir, "rev-parse", "--show-toplevel");

    /// <summary>The checked-out branch, or null on a detached HEAD.</summary>
    public static Task<string?> CurrentBranchAsync(string repo) => GitAsync(repo, "symbolic-ref", "--quiet", "--short", "HEAD");

    private static async Task<string?> GitAsync(string repo, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-C");
        psi.ArgumentList.Add(repo);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var git = Process.Start(psi) ?? throw new CliUsageException("git could not be started");
        var output = await git.StandardOutput.ReadToEndAsync();
        await git.StandardError.ReadToEndAsync();
        await git.WaitForExitAsync();
        return git.ExitCode == 0 && output.Trim() is { Length: > 0 } o ? o : null;
    }
}
