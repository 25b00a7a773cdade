using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using Polly.Timeout;

namespace Redox.Lab.Server.Runs;

/// <summary>A git failure worth reporting to the pusher as is (unknown branch, unreadable repository).</summary>
public class GitException(string message) : Exception(message);

/// <summary>A git failure that may pass on its own (network, remote busy): retried by the "git" pipeline.</summary>
public sealed class GitTransientException(string message) : GitException(message);

/// <summary>A pushed commit, resolved and with its pipeline file read.</summary>
public sealed record ResolvedCommit(string Commit, string PipelineYaml);

/// <summary>
/// Keeps one bare mirror per repository under <c>{DataDir}/mirrors</c> and reads commits from it.
/// Calls for the same repository are serialised; a mirror appears only once its clone completed.
/// </summary>
public sealed class GitMirrors(IOptions<LabOptions> options, ResiliencePipelineProvider<string> pipelines, TimeProvider clock, ILogger<GitMirrors> log)
{
    /// <summary>Name of the resilience pipeline wrapped around fetches (bounded by <see cref="GitOptions"/>).</summary>
    public const string Pipeline = "git";

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _fetchedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, string Message)> _failedAt = new(StringComparer.Ordinal);
    private readonly ResiliencePipeline _pipeline = pipelines.GetPipeline(Pipeline);

    /// <param name="pipelineBranch">Read the pipeline from this branch's head instead of the resolved commit (untrusted repositories).</param>
    /// <param name="pushedAt">
    /// When the push was recorded: a fetch of this mirror that started after it already saw what was pushed, so a burst
    /// of pushes to one repository shares one fetch instead of queueing one each. Null: always fetch.
    /// </param>
    public async Task<ResolvedCommit> ResolveAsync(
        string repository, string? branch, string? commit, string pipelinePath, string? pipelineBranch, CancellationToken ct,
        DateTimeOffset? pushedAt = null)
    {
        var mirror = MirrorPath(repository);
        var gate = _gates.GetOrAdd(mirror, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (!await IsFreshEnoughAsync(mirror, commit, pipelineBranch, pushedAt, ct))
            {
                // A fetch that started after this push and failed speaks for it too: a burst of pushes to a dead
                // remote fails together instead of each waiting out its own timeout.
                if (pushedAt is { } at && _failedAt.TryGetValue(mirror, out var failed) && failed.At >= at)
                    throw new GitException(failed.Message);
                await FetchAsync(repository, mirror, ct);
            }

            var rev = commit ?? $"refs/heads/{branch}";
            var parsed = await RunGitAsync(mirror, ["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"], ct);
            if (parsed.ExitCode != 0)
                throw new GitException(commit is null
                    ? $"unknown branch '{branch}' in {repository}"
                    : $"unknown commit '{commit}' in {repository}");
            var sha = parsed.Stdout.Trim();

            var source = pipelineBranch is null ? sha : $"refs/heads/{pipelineBranch}";
            var show = await RunGitAsync(mirror, ["show", $"{source}:{pipelinePath}"], ct);
            if (show.ExitCode != 0)
                throw new GitException(pipelineBranch is null
                    ? $"pipeline file '{pipelinePath}' does not exist at commit {sha}"
                    : $"pipeline file '{pipelinePath}' does not exist on the default branch '{pipelineBranch}' (this repository is untrusted: its pipeline comes from there)");
            return new ResolvedCommit(sha, show.Stdout);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Runs a read-only git command in the repository's mirror as it was last fetched (by a push); null when there
    /// is no mirror yet or git fails (an unknown commit). Used by the judge for baselines and bisection ranges.
    /// </summary>
    public async Task<string?> ReadAsync(string repository, IReadOnlyList<string> args, CancellationToken ct)
    {
        var mirror = MirrorPath(repository);
        if (!File.Exists(Path.Combine(mirror, "HEAD"))) return null;
        var gate = _gates.GetOrAdd(mirror, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var result = await RunGitAsync(mirror, args, ct);
            return result.ExitCode == 0 ? result.Stdout : null;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The branch the repository's HEAD names (its default branch), e.g. <c>main</c>; null when unknown.</summary>
    public async Task<string?> DefaultBranchAsync(string repository, CancellationToken ct) =>
        (await ReadAsync(repository, ["symbolic-ref", "--quiet", "--short", "HEAD"], ct))?.Trim() is { Length: > 0 } b ? b : null;

    /// <summary>The best common ancestor of two revisions; null when they share none.</summary>
    public async Task<string?> MergeBaseAsync(string repository, string a, string b, CancellationToken ct) =>
        (await ReadAsync(repository, ["merge-base", "--end-of-options", a, b], ct))?.Trim() is { Length: > 0 } m ? m : null;

    /// <summary>Whether <paramref name="commit"/> is on the first-parent history of <paramref name="branch"/>.</summary>
    public async Task<bool> IsOnBranchAsync(string repository, string commit, string branch, CancellationToken ct) =>
        (await ReadAsync(repository, ["rev-list", "--first-parent", $"refs/heads/{branch}"], ct)) is { } list
        && list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Contains(commit, StringComparer.Ordinal);

    /// <summary>Ancestors of <paramref name="commit"/> along first parents, nearest first, at most <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<string>> FirstParentAncestorsAsync(string repository, string commit, int max, CancellationToken ct) =>
        Lines(await ReadAsync(repository, ["rev-list", "--first-parent", $"--max-count={max}", "--end-of-options", commit + "^"], ct));

    /// <summary>The commits after <paramref name="good"/> up to and including <paramref name="bad"/>, oldest first.</summary>
    public async Task<IReadOnlyList<string>> RangeAsync(string repository, string good, string bad, CancellationToken ct) =>
        Lines(await ReadAsync(repository, ["rev-list", "--reverse", "--ancestry-path", "--end-of-options", $"{good}..{bad}"], ct));

    private static List<string> Lines(string? text) =>
        text is null ? [] : text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>
    /// Whether the mirror can answer without fetching: it was fetched after the push was recorded, or the push names a
    /// full commit id the mirror already holds (commits never change) and the pipeline is read from that commit.
    /// </summary>
    private async Task<bool> IsFreshEnoughAsync(string mirror, string? commit, string? pipelineBranch, DateTimeOffset? pushedAt, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(mirror, "HEAD"))) return false;
        if (pushedAt is { } at && _fetchedAt.TryGetValue(mirror, out var fetched) && fetched >= at) return true;
        if (pipelineBranch is not null || commit is not { Length: 40 or 64 }) return false;
        var known = await RunGitAsync(mirror, ["cat-file", "-e", "--end-of-options", commit + "^{commit}"], ct);
        return known.ExitCode == 0;
    }

    /// <summary>Clones the repository's mirror if there is none yet (a repository is warmed when it is registered), else fetches.</summary>
    public async Task WarmAsync(string repository, CancellationToken ct)
    {
        var mirror = MirrorPath(repository);
        var gate = _gates.GetOrAdd(mirror, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await FetchAsync(repository, mirror, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Fetches (or clones) under the "git" pipeline, remembering when the last fetch that succeeded or failed started.</summary>
    private async Task FetchAsync(string repository, string mirror, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        try
        {
            await _pipeline.ExecuteAsync(async token => await UpdateMirrorAsync(repository, mirror, token), ct);
            _fetchedAt[mirror] = started;
            _failedAt.TryRemove(mirror, out _);
        }
        catch (GitException ex)
        {
            _failedAt[mirror] = (started, ex.Message);
            throw;
        }
        catch (TimeoutRejectedException)
        {
            var message = $"repository {repository} did not answer within {options.Value.Git.TotalTimeout.TotalSeconds:0} s (Lab:Git); git was stopped";
            _failedAt[mirror] = (started, message);
            throw new GitException(message);
        }
    }

    private string MirrorPath(string repository)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repository)))[..16];
        var name = new string(Path.GetFileName(repository.TrimEnd('/', '\\')).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
        if (name.Length > 40) name = name[..40];
        return Path.Combine(Path.GetFullPath(options.Value.DataDir), "mirrors", $"{name}-{hash}.git");
    }

    private async Task UpdateMirrorAsync(string repository, string mirror, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(mirror, "HEAD")))
        {
            var fetch = await RunGitAsync(mirror, ["fetch", "--prune", "--force", "origin"], ct);
            if (fetch.ExitCode != 0) throw Failure(repository, fetch.Stderr);
            return;
        }

        // Clone beside the final path and rename, so an interrupted clone never looks like a mirror.
        Directory.CreateDirectory(Path.GetDirectoryName(mirror)!);
        var partial = $"{mirror}.partial-{Guid.NewGuid():N}";
        try
        {
            var clone = await RunGitAsync(null, ["clone", "--mirror", "--quiet", "--", repository, partial], ct);
            if (clone.ExitCode != 0) throw Failure(repository, clone.Stderr);
            try
            {
                Directory.Move(partial, mirror);
            }
            catch (IOException) when (File.Exists(Path.Combine(mirror, "HEAD")))
            {
                // Another server process cloned it first: theirs is as good as ours.
            }
            log.LogInformation("Mirrored {Repository} into {Mirror}", repository, mirror);
        }
        finally
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        }
    }

    private static GitException Failure(string repository, string stderr)
    {
        var message = $"cannot read repository {repository}: {FirstLines(stderr)}";
        // Missing or not-a-repository does not heal by retrying; anything else (network, remote) might.
        string[] permanent = ["does not appear to be a git repository", "not found", "does not exist", "Permission denied", "Authentication failed"];
        return permanent.Any(p => stderr.Contains(p, StringComparison.OrdinalIgnoreCase))
            ? new GitException(message)
            : new GitTransientException(message);
    }

    private static string FirstLines(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "git failed" : string.Join(" ", lines.Take(3));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunGitAsync(string? gitDir, IReadOnlyList<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (gitDir is not null)
        {
            psi.ArgumentList.Add("--git-dir");
            psi.ArgumentList.Add(gitDir);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Never wait for a password on a terminal that no one watches.
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";

        using var process = Process.Start(psi) ?? throw new GitTransientException("cannot start git");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
