using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Findings;

/// <summary>
/// Groups findings into bugs: gives each finding of a run its signature and bug, keeps each bug's first and last
/// sighting, count and state. Safe to run twice: findings that have a bug are left alone, and a bug is an upsert
/// on (repository, signature).
/// </summary>
public sealed class BugTracker(LabDbContext db, KernelSymbols symbols, GitMirrors git, TimeProvider clock)
{
    /// <summary>Assigns the run's unassigned findings to bugs; returns the bugs touched.</summary>
    public async Task<IReadOnlyList<Guid>> AssignAsync(Guid runId, JudgeSpec spec, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == runId)
            .Select(r => new { r.RepositoryId, r.Commit, r.CreatedAt }).SingleAsync(ct);
        var findings = await (
                from f in db.Findings
                join b in db.Boots on f.BootId equals b.Id
                join j in db.Jobs on b.JobId equals j.Id
                where j.RunId == runId && f.BugId == null
                select new { Finding = f, j.Id })
            .ToListAsync(ct);
        var touched = new HashSet<Guid>();
        foreach (var byJob in findings.GroupBy(f => f.Id))
        {
            var symbolizer = await symbols.ForJobAsync(byJob.Key, ct);
            foreach (var row in byJob.Select(x => x.Finding))
            {
                var signature = FindingSignatures.Of(FindingRecords.Read(row, symbolizer), spec.Plumbing, spec.Frames);
                var bugId = await UpsertAsync(run.RepositoryId, row.Kind, signature, runId, run.Commit, run.CreatedAt, ct);
                row.Signature = signature.Signature;
                row.BugId = bugId;
                touched.Add(bugId);
            }
        }
        await db.SaveChangesAsync(ct);
        foreach (var bug in touched) await RefreshAsync(bug, ct);
        return [.. touched];
    }

    private async Task<Guid> UpsertAsync(Guid repositoryId, string kind, FindingSignature s, Guid runId, string commit, DateTimeOffset seen, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO bugs (id, repository_id, signature, kind, title, first_run_id, first_commit, first_seen_at,
                              last_run_id, last_commit, last_seen_at, count, state)
            VALUES ({Guid.CreateVersion7(clock.GetUtcNow())}, {repositoryId}, {s.Signature}, {kind}, {s.Title}, {runId}, {commit}, {seen},
                    {runId}, {commit}, {seen}, 0, {BugStates.New})
            ON CONFLICT (repository_id, signature) DO NOTHING
            """, ct);
        return await db.Set<BugRow>().Where(b => b.RepositoryId == repositoryId && b.Signature == s.Signature).Select(b => b.Id).SingleAsync(ct);
    }

    /// <summary>
    /// Count, first and last sighting from the bug's findings; new on one commit, known on more. A fixed bug is
    /// known again only when a commit that contains its fix shows it: the lab re-boots old commits as baselines,
    /// extra rounds and bisection steps, and their findings are old news, not a relapse.
    /// </summary>
    private async Task RefreshAsync(Guid bugId, CancellationToken ct)
    {
        var sightings = await (
                from f in db.Findings
                join b in db.Boots on f.BootId equals b.Id
                join j in db.Jobs on b.JobId equals j.Id
                where f.BugId == bugId
                select new { j.RunId, j.Run.Commit, j.Run.CreatedAt, b.EndedAt })
            .ToListAsync(ct);
        if (sightings.Count == 0) return;
        var first = sightings.MinBy(s => s.CreatedAt)!;
        var last = sightings.MaxBy(s => s.CreatedAt)!;
        var bug = await db.Set<BugRow>().SingleAsync(b => b.Id == bugId, ct);
        bug.Count = sightings.Count;
        bug.FirstRunId = first.RunId;
        bug.FirstCommit = first.Commit;
        bug.FirstSeenAt = first.CreatedAt;
        bug.LastRunId = last.RunId;
        bug.LastCommit = last.Commit;
        bug.LastSeenAt = last.CreatedAt;
        var commits = sightings.Select(s => s.Commit).Distinct().Count();
        if (bug.State == BugStates.Fixed && bug.FixedAt is { } fixedAt)
        {
            var since = sightings.Where(s => s.EndedAt > fixedAt).Select(s => s.Commit).Distinct(StringComparer.Ordinal).ToList();
            foreach (var commit in since)
            {
                if (!await ContainsFixAsync(bug, commit, ct)) continue;
                bug.State = BugStates.Known; // back after a fix
                bug.FixedAt = null;
                bug.FixedCommit = null;
                break;
            }
        }
        else if (bug.State == BugStates.New && commits > 1)
        {
            bug.State = BugStates.Known;
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Whether <paramref name="commit"/> contains the bug's fix: its fix commit is an ancestor (git). When git cannot
    /// tell (no mirror, a commit gone), whether the commit was first tested after the bug was marked fixed.
    /// </summary>
    private async Task<bool> ContainsFixAsync(BugRow bug, string commit, CancellationToken ct)
    {
        if (bug.FixedCommit is { } fix)
        {
            if (string.Equals(fix, commit, StringComparison.Ordinal)) return true;
            var url = await db.Repositories.AsNoTracking().Where(r => r.Id == bug.RepositoryId).Select(r => r.Url).SingleAsync(ct);
            if (await git.MergeBaseAsync(url, fix, commit, ct) is { } mergeBase) return string.Equals(mergeBase, fix, StringComparison.Ordinal);
        }
        var firstTested = await db.Runs.AsNoTracking().Where(r => r.RepositoryId == bug.RepositoryId && r.Commit == commit).MinAsync(r => r.CreatedAt, ct);
        return firstTested > bug.FixedAt;
    }

    /// <summary>
    /// Marks fixed each open bug of the repository that, on some machine where it occurred, has not shown up in
    /// <paramref name="fixedAfter"/> boots of default-branch commits newer than every default-branch commit that
    /// showed it there.
    /// "Newer" is the order the lab first tested commits in, so boots of an old buggy commit that the lab runs
    /// again later (a baseline, an extra round, a bisection step) neither count as clean nor restart the count.
    /// </summary>
    public async Task<int> MarkFixedAsync(Guid repositoryId, string defaultBranch, int fixedAfter, CancellationToken ct)
    {
        var open = await db.Set<BugRow>().Where(b => b.RepositoryId == repositoryId && b.State != BugStates.Fixed).ToListAsync(ct);
        var fixedCount = 0;
        foreach (var bug in open)
        {
            // Per machine, the newest commit (by when the lab first tested it) that showed the bug on the default
            // branch; a bug only ever seen on other branches: on any. A branch forked before the fix still shows it,
            // and that says nothing about the default branch.
            var seen = await (
                    from f in db.Findings
                    join b in db.Boots on f.BootId equals b.Id
                    join j in db.Jobs on b.JobId equals j.Id
                    where f.BugId == bug.Id
                    select new { j.MachineId, j.Run.Commit, OnDefault = j.Run.Branch == defaultBranch })
                .Distinct().ToListAsync(ct);
            var seenCommits = seen.Select(s => s.Commit).Distinct().ToList();
            var firstTested = await db.Runs.AsNoTracking()
                .Where(r => r.RepositoryId == repositoryId && seenCommits.Contains(r.Commit))
                .GroupBy(r => r.Commit).Select(g => new { Commit = g.Key, At = g.Min(r => r.CreatedAt) })
                .ToDictionaryAsync(x => x.Commit, x => x.At, StringComparer.Ordinal, ct);
            var lastPerMachine = seen.GroupBy(s => s.MachineId).Select(g => new
            {
                MachineId = g.Key,
                Last = (g.Any(s => s.OnDefault) ? g.Where(s => s.OnDefault) : g).Max(s => firstTested[s.Commit]),
            });
            foreach (var m in lastPerMachine)
            {
                var clean = await (
                        from b in db.Boots
                        join j in db.Jobs on b.JobId equals j.Id
                        where j.MachineId == m.MachineId && j.Run.RepositoryId == repositoryId && j.Run.Branch == defaultBranch
                              && !db.Runs.Any(r => r.RepositoryId == repositoryId && r.Commit == j.Run.Commit && r.CreatedAt <= m.Last)
                              && !b.Findings.Any(f => f.BugId == bug.Id)
                        select new
                        {
                            j.Run.Commit,
                            FirstTested = db.Runs.Where(r => r.RepositoryId == repositoryId && r.Commit == j.Run.Commit).Min(r => r.CreatedAt),
                        })
                    .ToListAsync(ct);
                if (clean.Count < fixedAfter) continue;
                bug.State = BugStates.Fixed;
                bug.FixedAt = clock.GetUtcNow();
                bug.FixedCommit = clean.MinBy(c => c.FirstTested)!.Commit;
                fixedCount++;
                break;
            }
        }
        await db.SaveChangesAsync(ct);
        return fixedCount;
    }
}
