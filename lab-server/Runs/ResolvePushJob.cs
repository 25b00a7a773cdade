using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Polly.Timeout;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;

namespace Redox.Lab.Server.Runs;

/// <summary>
/// Reads a recorded push from git in the background: fetch the repository's mirror (or skip it when a fetch after the
/// push already ran, or the pushed commit is already there), resolve the branch, read and validate the pipeline, then
/// create the run's jobs. A push git cannot answer ends as <c>error</c> with the reason in the run's detail.
/// Runs on its own Hangfire queue (<see cref="Queue"/>, <c>Lab:Git:Concurrency</c> workers) and within
/// <c>Lab:Git:TotalTimeoutSeconds</c>, waiting for another push's fetch of the same repository included: a dead remote
/// holds neither a request nor a worker for longer. Safe to run twice: only a run still resolving is touched.
/// </summary>
public sealed class ResolvePushJob(
    LabDbContext db, GitMirrors git, CreateJobsForRunJob createJobs, IBackgroundJobClient hangfire, TimeProvider clock,
    IOptions<LabOptions> options, ILogger<ResolvePushJob> log)
{
    public const string Queue = "git";

    /// <summary>The run's detail while it waits for git.</summary>
    public static string Waiting(string? branch, string? commit) =>
        commit is not null ? $"resolving commit {commit}" : $"resolving branch '{branch}'";

    /// <summary>Database failures are retried by Hangfire (and, after that, by ScheduleStalledRunsJob); git failures end the run.</summary>
    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || !run.Resolving || run.EndedAt is not null) return;
        var repository = run.Repository;
        var bound = options.Value.Git.TotalTimeout;

        using var budget = new CancellationTokenSource(bound, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, budget.Token);
        string failure;
        try
        {
            var resolved = await git.ResolveAsync(repository.Url, run.Branch, run.Commit.Length > 0 ? run.Commit : null,
                run.PipelinePath, repository.Trusted ? null : repository.DefaultBranch, linked.Token, run.CreatedAt);
            PipelineLoader.Load(resolved.PipelineYaml, run.PipelinePath);
            var updated = await db.Runs.Where(r => r.Id == runId && r.Resolving && r.EndedAt == null).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Commit, resolved.Commit)
                .SetProperty(r => r.PipelineYaml, resolved.PipelineYaml)
                .SetProperty(r => r.Resolving, false)
                .SetProperty(r => r.Detail, (string?)null), ct);
            if (updated == 1) await CreateJobsAsync(runId, ct);
            return;
        }
        catch (GitException ex)
        {
            // git quotes the paths it worked in; the run's detail is public: the server's data directory becomes a placeholder.
            failure = Infrastructure.ServerPaths.Replace(ex.Message, (Path.GetFullPath(options.Value.DataDir), Infrastructure.ServerPaths.DataPlaceholder));
        }
        catch (PipelineException ex)
        {
            failure = $"malformed pipeline: {ex.Message}";
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is TimeoutRejectedException or OperationCanceledException)
        {
            failure = $"repository {repository.Name} did not answer within {bound.TotalSeconds:0} s (Lab:Git:TotalTimeoutSeconds); git was stopped";
        }

        // The location stays with developers (RepositoryView); a run's detail is shown to every viewer.
        failure = failure.Replace(repository.Url, repository.Name, StringComparison.Ordinal);
        var now = clock.GetUtcNow();
        await db.Runs.Where(r => r.Id == runId && r.Resolving && r.EndedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Outcome, Outcome.Error)
            .SetProperty(r => r.Detail, failure)
            .SetProperty(r => r.Resolving, false)
            .SetProperty(r => r.EndedAt, now), ct);
        log.LogWarning("Run {RunId} ended as error: {Detail}", runId, failure);
    }

    /// <summary>Clones (or fetches) a newly registered repository's mirror, so its first push only has to fetch.</summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task WarmAsync(Guid repositoryId, CancellationToken ct)
    {
        var url = await db.Repositories.AsNoTracking().Where(r => r.Id == repositoryId).Select(r => r.Url).FirstOrDefaultAsync(ct);
        if (url is null) return;
        using var budget = new CancellationTokenSource(options.Value.Git.TotalTimeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, budget.Token);
        try
        {
            await git.WarmAsync(url, linked.Token);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is GitException or OperationCanceledException)
        {
            // Not an error of any run: the first push fetches again and reports what it finds.
            log.LogInformation("Warming the mirror of repository {RepositoryId} failed: {Message}", repositoryId, ex.Message);
        }
    }

    /// <summary>Creates the jobs at once (agents wait for them); if that fails, Hangfire's "runs" queue tries again.</summary>
    private async Task CreateJobsAsync(Guid runId, CancellationToken ct)
    {
        try
        {
            await createJobs.RunAsync(runId, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Creating the jobs of run {RunId} failed; queueing it", runId);
            hangfire.Enqueue<CreateJobsForRunJob>(CreateJobsForRunJob.Queue, job => job.RunAsync(runId, CancellationToken.None));
        }
    }
}
