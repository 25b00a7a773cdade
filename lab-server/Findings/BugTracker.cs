using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Findings;

/// <summary>
/// Groups findings into bugs: gives each finding of a run its signature and bug, keeps each bug's first and last
/// sighting, count and state. Safe to run twice: findings that have a bug are left alone, and a bug is an upsert
/// on (repository, signature).
/// </summary>
public sealed class BugTracker(LabDbContext db, KernelSymbols symbols, TimeProvider clock)
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

    /// <summary>Count, first and last sighting from the bug's findings; new on one commit, known on more, known again after a fix.</summary>
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
        if (bug.State == BugStates.Fixed && bug.FixedAt is { } fixedAt && sightings.Any(s => s.EndedAt > fixedAt))
        {
            bug.State = BugStates.Known; // back after a fix
            bug.FixedAt = null;
        }
        else if (bug.State == BugStates.New && commits > 1)
        {
            bug.State = BugStates.Known;
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Marks fixed each open bug of the repository that, on some machine where it occurred, has not shown up in
    /// <paramref name="fixedAfter"/> boots of the default branch since it was last seen there.
    /// </summary>
    public async Task<int> MarkFixedAsync(Guid repositoryId, string defaultBranch, int fixedAfter, CancellationToken ct)
    {
        var open = await db.Set<BugRow>().Where(b => b.RepositoryId == repositoryId && b.State != BugStates.Fixed).ToListAsync(ct);
        var fixedCount = 0;
        foreach (var bug in open)
        {
            var lastPerMachine = await (
                    from f in db.Findings
                    join b in db.Boots on f.BootId equals b.Id
                    join j in db.Jobs on b.JobId equals j.Id
                    where f.BugId == bug.Id
                    group b by j.MachineId into g
                    select new { MachineId = g.Key, Last = g.Max(b => b.EndedAt) })
                .ToListAsync(ct);
            foreach (var m in lastPerMachine)
            {
                var cleanBoots = await (
                        from b in db.Boots
                        join j in db.Jobs on b.JobId equals j.Id
                        where j.MachineId == m.MachineId && j.Run.RepositoryId == repositoryId && j.Run.Branch == defaultBranch
                              && b.EndedAt > m.Last && !b.Findings.Any(f => f.BugId == bug.Id)
                        select b.Id)
                    .CountAsync(ct);
                if (cleanBoots < fixedAfter) continue;
                bug.State = BugStates.Fixed;
                bug.FixedAt = clock.GetUtcNow();
                fixedCount++;
                break;
            }
        }
        await db.SaveChangesAsync(ct);
        return fixedCount;
    }
}
