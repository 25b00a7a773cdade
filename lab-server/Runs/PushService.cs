using System.Security.Claims;
using System.Text.RegularExpressions;
using Hangfire;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Repositories;

namespace Redox.Lab.Server.Runs;

/// <summary>A push the lab cannot accept; the message is the problem's detail.</summary>
public sealed class PushRejectedException(string title, string message, int status = 400) : Exception(message)
{
    public string Title { get; } = title;

    /// <summary>400 for a malformed push, 403 for an unregistered repository or a user who may not push to it.</summary>
    public int Status { get; } = status;
}

/// <summary>
/// "Push a branch": check the request, the repository's registration and the pusher's right, store the run, and
/// answer. Nothing here waits on git: the branch is resolved and the pipeline read and validated by
/// <see cref="ResolvePushJob"/> in the background, which ends the run as <c>error</c> with the reason when that fails.
/// Webhooks create runs through <see cref="PushAsync"/> too.
/// </summary>
public sealed partial class PushService(LabDbContext db, IBackgroundJobClient hangfire, TimeProvider clock, ILogger<PushService> log)
{
    /// <summary>A push by a user (API, CLI): the user must be allowed to push to the registered repository.</summary>
    public async Task<(Guid RunId, string? Commit)> PushAsync(PushRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        var registered = await RepositoriesApi.ForPushAsync(db, request.Repository, user, ct);
        return await RecordAsync(registered, request, Roles.UserId(user), ct);
    }

    /// <summary>
    /// Records a push to a repository already looked up and authorised (a webhook whose signature was checked), and
    /// schedules its resolution. Throws <see cref="PushRejectedException"/> for a malformed branch, commit or pipeline path.
    /// </summary>
    /// <returns>The run, and the commit when the push named a full commit id (null: resolved in the background).</returns>
    public async Task<(Guid RunId, string? Commit)> RecordAsync(RepositoryRow registered, PushRequest request, Guid? pushedBy, CancellationToken ct)
    {
        var (branch, commit, pipelinePath) = Validate(request);
        if (!registered.PipelineFiles.Any(p => PipelinePattern.Matches(p, pipelinePath)))
            throw new PushRejectedException("Invalid push", $"'{pipelinePath}' is not one of {registered.Name}'s pipeline files ({string.Join(", ", registered.PipelineFiles)})");

        // 1. Store the run as it was asked for; only then schedule it (the job reads the run, so it must be committed first).
        var now = clock.GetUtcNow();
        var runId = Guid.CreateVersion7(now);
        var fullCommit = commit is { Length: 40 or 64 } ? commit.ToLowerInvariant() : null;
        db.Runs.Add(new RunRow
        {
            Id = runId,
            RepositoryId = registered.Id,
            PushedBy = pushedBy,
            Branch = branch,
            // The pushed id for now (abbreviated ids too, so the run names what was asked); the full id once resolved.
            Commit = commit?.ToLowerInvariant() ?? "",
            PipelinePath = pipelinePath,
            PipelineYaml = "",
            Outcome = Outcome.Pending,
            Detail = ResolvePushJob.Waiting(branch, commit),
            CreatedAt = now,
            Resolving = true,
        });
        await db.SaveChangesAsync(ct);

        // 2. Schedule. The run is stored either way: if this enqueue fails, ScheduleStalledRunsJob schedules it
        //    within a minute or two, so the push still succeeds rather than inviting a second run of the same commit.
        try
        {
            hangfire.Enqueue<ResolvePushJob>(ResolvePushJob.Queue, job => job.RunAsync(runId, CancellationToken.None));
        }
        catch (BackgroundJobClientException ex)
        {
            log.LogWarning(ex, "Run {RunId} stored but not scheduled; the stalled-run recovery will schedule it", runId);
        }
        return (runId, fullCommit);
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
