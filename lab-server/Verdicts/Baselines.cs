using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Verdicts;

/// <summary>
/// What a run is compared with. A branch push: its merge base with the repository's default branch. A commit of the
/// default branch: the previous commit along first parents that the lab tested with the same pipeline. The machine
/// and variant are always the run's own: the baseline's samples are read per machine and variant, and the judge
/// schedules baseline boots where the baseline has none.
/// </summary>
public sealed class Baselines(LabDbContext db, GitMirrors git)
{
    /// <summary>How far back along the default branch the previous tested commit is looked for.</summary>
    public const int History = 500;

    public async Task<(string? Commit, string Reason)> FindAsync(RunRow run, string repositoryUrl, CancellationToken ct)
    {
        var defaultBranch = await git.DefaultBranchAsync(repositoryUrl, ct);
        if (defaultBranch is null) return (null, "none: the repository's default branch is unknown");

        var onDefault = run.Branch == defaultBranch
            || (run.Branch is null && await git.IsOnBranchAsync(repositoryUrl, run.Commit, defaultBranch, ct));
        if (!onDefault)
        {
            var mergeBase = await git.MergeBaseAsync(repositoryUrl, run.Commit, $"refs/heads/{defaultBranch}", ct);
            if (mergeBase is null) return (null, $"none: {run.Branch ?? run.Commit} shares no history with {defaultBranch}");
            if (mergeBase != run.Commit) return (mergeBase, $"merge base of {run.Branch ?? "the commit"} with {defaultBranch}");
            // A branch that points into the default branch is judged as that commit of the default branch.
        }

        var ancestors = await git.FirstParentAncestorsAsync(repositoryUrl, run.Commit, History, ct);
        if (ancestors.Count == 0) return (null, $"none: the first commit of {defaultBranch}");
        var tested = (await db.Runs.AsNoTracking()
                .Where(r => r.RepositoryId == run.RepositoryId && r.PipelinePath == run.PipelinePath && r.Kind == RunKinds.Push
                            && r.EndedAt != null && ancestors.Contains(r.Commit) && r.Jobs.Any(j => j.Boots.Any()))
                .Select(r => r.Commit)
                .ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        var previous = ancestors.FirstOrDefault(tested.Contains);
        return previous is null
            ? (null, $"none: the first tested commit of {defaultBranch}")
            : (previous, $"previous tested commit on {defaultBranch}");
    }
}
