using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Machines;

namespace Redox.Lab.Agent.Build;

/// <summary>
/// Checks a commit out into a job's own directory. Each repository has a bare mirror under
/// <c>StateDir/repos/</c> that is fetched before every job, so a job downloads only what is new; the
/// job's checkout is a local clone of the mirror (hard links, cheap) detached at the commit, and it
/// is deleted after the job. Any failure is the lab's (<see cref="LabInfraException"/>): the server
/// validated the commit when the run was pushed.
/// </summary>
public sealed class GitCheckout(IOptions<AgentOptions> options, ILogger<GitCheckout> log)
{
    private static readonly Dictionary<string, string> GitEnvironment = new()
    {
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_ASKPASS"] = "true",
    };

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _mirrorLocks = new();

    public async Task CheckoutAsync(string repository, string commit, string workDir, CancellationToken cancellationToken)
    {
        var mirror = MirrorPath(repository);
        var gate = _mirrorLocks.GetOrAdd(mirror, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await UpdateMirrorAsync(repository, mirror, commit, cancellationToken);
        }
        finally
        {
            gate.Release();
        }

        if (Directory.Exists(workDir))
            Directory.Delete(workDir, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(workDir)!);
        await GitAsync(Path.GetDirectoryName(workDir)!, cancellationToken, "clone", "--quiet", "--no-checkout", mirror, workDir);
        await GitAsync(workDir, cancellationToken, "checkout", "--quiet", "--detach", commit);
        log.LogInformation("Checked out {Commit} of {Repository} into {WorkDir}", commit, repository, workDir);
    }

    private async Task UpdateMirrorAsync(string repository, string mirror, string commit, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(mirror))
        {
            var temp = mirror + ".tmp";
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            Directory.CreateDirectory(Path.GetDirectoryName(mirror)!);
            await GitAsync(Path.GetDirectoryName(mirror)!, cancellationToken, "clone", "--quiet", "--mirror", repository, temp);
            Directory.Move(temp, mirror);
            log.LogInformation("Mirrored {Repository} into {Mirror}", repository, mirror);
        }
        else
        {
            await GitAsync(mirror, cancellationToken, "fetch", "--quiet", "--prune", "origin");
        }

        if (!await HasCommitAsync(mirror, commit, cancellationToken))
        {
            // A commit on no branch (or a branch deleted since the push): servers that allow it hand it out by id.
            await GitAsync(mirror, cancellationToken, "fetch", "--quiet", "origin", commit);
        }
    }

    private static async Task<bool> HasCommitAsync(string mirror, string commit, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync("git", ["-c", "safe.directory=*", "cat-file", "-e", commit + "^{commit}"], mirror, GitEnvironment, null, cancellationToken);
        return result.ExitCode == 0;
    }

    private static async Task GitAsync(string directory, CancellationToken cancellationToken, params string[] args)
    {
        var result = await ProcessRunner.RunAsync("git", ["-c", "safe.directory=*", .. args], directory, GitEnvironment, null, cancellationToken);
        if (result.ExitCode != 0)
            throw new LabInfraException($"git {string.Join(' ', args)} failed ({result.ExitCode}): {string.Join(" | ", result.Tail.TakeLast(5))}");
    }

    private string MirrorPath(string repository)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repository)))[..16];
        var name = Path.GetFileName(repository.TrimEnd('/', '\\'));
        name = new string([.. name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')]);
        return Path.Combine(options.Value.RepoRoot, $"{name}-{hash}.git");
    }
}
