using System.Security.Claims;
using System.Text.RegularExpressions;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Polly.Timeout;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Repositories;

namespace Redox.Lab.Server.Runs;

/// <summary>A push the lab cannot accept; the message is the problem's detail.</summary>
public sealed class PushRejectedException(string title, string message, int status = 400) : Exception(message)
{
    public string Title { get; } = title;

    /// <summary>400 for a malformed push, 403 for an unregistered repository or a user who may not push to it.</summary>
    public int Status { get; } = status;
}

/// <summary>"Push a branch": check the repository is registered and the user may push, resolve, validate, store the run, schedule its jobs.</summary>
public sealed partial class PushService(LabDbContext db, GitMirrors git, IBackgroundJobClient hangfire, TimeProvider clock, ILogger<PushService> log)
{
    public async Task<(Guid RunId, string Commit)> PushAsync(PushRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        var registered = await RepositoriesApi.ForPushAsync(db, request.Repository, user, ct);
        var repository = registered.Url;
        var (branch, commit, pipelinePath) = Validate(request);
        if (!registered.PipelineFiles.Any(p => PipelinePattern.Matches(p, pipelinePath)))
            throw new PushRejectedException("Invalid push", $"'{pipelinePath}' is not one of {registered.Name}'s pipeline files ({string.Join(", ", registered.PipelineFiles)})");

        // 1. Resolve the branch at the repository as it is now, and read the pipeline: at that commit for a
        //    trusted repository; from the default branch for an untrusted one, so a pushed branch cannot
        //    rewrite its own build recipe.
        ResolvedCommit resolved;
        try
        {
            resolved = await git.ResolveAsync(repository, branch, commit, pipelinePath,
                registered.Trusted ? null : registered.DefaultBranch, ct);
        }
        catch (GitException ex)
        {
            throw new PushRejectedException("Cannot resolve the push", ex.Message);
        }
        catch (TimeoutRejectedException)
        {
            throw new PushRejectedException("Cannot resolve the push", $"repository {registered.Name} did not answer in time");
        }

        // 2. Reject a malformed pipeline now, naming file, line and field, rather than on every agent later.
        try
        {
            PipelineLoader.Load(resolved.PipelineYaml, pipelinePath);
        }
        catch (PipelineException ex)
        {
            throw new PushRejectedException("Malformed pipeline", ex.Message);
        }

        // 3. Store the run; only then schedule it (the job reads the run, so it must be committed first).
        var now = clock.GetUtcNow();
        var runId = Guid.CreateVersion7(now);
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            db.Runs.Add(new RunRow
            {
                Id = runId,
                RepositoryId = registered.Id,
                PushedBy = Roles.UserId(user),
                Branch = branch,
                Commit = resolved.Commit,
                PipelinePath = pipelinePath,
                PipelineYaml = resolved.PipelineYaml,
                Outcome = Outcome.Pending,
                CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        // 4. Schedule. The run is stored either way: if this enqueue fails, ScheduleStalledRunsJob schedules it
        //    within a minute or two, so the push still succeeds rather than inviting a second run of the same commit.
        try
        {
            hangfire.Enqueue<CreateJobsForRunJob>(CreateJobsForRunJob.Queue, job => job.RunAsync(runId, CancellationToken.None));
        }
        catch (BackgroundJobClientException ex)
        {
            log.LogWarning(ex, "Run {RunId} stored but not scheduled; the stalled-run recovery will schedule it", runId);
        }
        return (runId, resolved.Commit);
    }

    private static (string? Branch, string? Commit, string Pipeline) Validate(PushRequest request)
    {
        var branch = string.IsNullOrWhiteSpace(request.Branch) ? null : request.Branch.Trim();
        var commit = string.IsNullOrWhiteSpace(request.Commit) ? null : request.Commit.Trim();
        if (branch is null && commit is null)
            throw new PushRejectedException("Invalid push", "give a branch or a commit");
        if (branch is not null && !IsBranchName(branch))
            throw new PushRejectedException("Invalid push", $"'{RepositoriesApi.Prefix(branch)}' is not a branch name");
        if (commit is not null && !CommitId().IsMatch(commit))
            throw new PushRejectedException("Invalid push", $"'{RepositoriesApi.Prefix(commit)}' is not a commit id (4 to 64 hex digits)");
        var pipeline = request.Pipeline?.Trim().TrimStart('/') ?? "";
        if (!IsPipelinePath(pipeline))
            throw new PushRejectedException("Invalid push", $"'{RepositoriesApi.Prefix(request.Pipeline ?? "")}' is not a pipeline path inside the repository");
        return (branch, commit, pipeline);
    }

    internal static bool IsBranchName(string branch) =>
        branch.Length is > 0 and <= 250 && !branch.StartsWith('-') && !branch.Contains("..", StringComparison.Ordinal)
        && !branch.Any(c => char.IsControl(c) || c is ' ' or ':' or '~' or '^' or '?' or '*' or '[' or '\\');

    internal static bool IsPipelinePath(string pipeline) =>
        pipeline.Length is > 0 and <= 500 && !pipeline.Contains("..", StringComparison.Ordinal) && !pipeline.Any(char.IsControl)
        && !pipeline.StartsWith('-');

    /// <summary>A local path becomes absolute (the agents clone from the same place); a URL stays as given.</summary>
    internal static string NormaliseRepository(string repository)
    {
        var r = repository?.Trim() ?? "";
        if (r.Length == 0) throw new PushRejectedException("Invalid push", "repository is required");
        if (r.StartsWith('-') || r.Any(char.IsControl)) throw new PushRejectedException("Invalid push", $"'{RepositoriesApi.Prefix(r)}' is not a repository");
        var isUrl = r.Contains("://", StringComparison.Ordinal) || ScpLike().IsMatch(r);
        return isUrl ? r : Path.GetFullPath(r).TrimEnd('/');
    }

    [GeneratedRegex("^[0-9a-fA-F]{4,64}$")]
    private static partial Regex CommitId();

    [GeneratedRegex(@"^[\w.-]+@[\w.-]+:")]
    private static partial Regex ScpLike();
}
