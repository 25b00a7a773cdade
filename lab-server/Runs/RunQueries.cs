using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Runs;

/// <summary>The read side of the API (the dashboard's run page builds on <see cref="GetRunAsync"/>).</summary>
public sealed class RunQueries(LabDbContext db, KernelSymbols symbols, ConsoleStorage.ConsoleArchive archive)
{
    /// <summary>Functions listed per profile, by self and by total samples.</summary>
    public const int TopFunctions = 15;

    public async Task<IReadOnlyList<RunSummary>> ListRunsAsync(int limit, CancellationToken ct) =>
        await db.Runs.AsNoTracking()
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Take(limit)
            .Select(r => new RunSummary(r.Id, r.Repository.Name, r.Branch, r.Commit, r.PipelinePath,
                r.Outcome, r.CreatedAt, r.EndedAt, r.Jobs.Count, r.Detail))
            .ToListAsync(ct);

    public async Task<RunView?> GetRunAsync(Guid id, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).FirstOrDefaultAsync(r => r.Id == id, ct);
        if (run is null) return null;

        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => j.RunId == id)
            .Include(j => j.Machine).ThenInclude(m => m.Agent)
            .Include(j => j.Agent)
            .Include(j => j.Boots).ThenInclude(b => b.Stages)
            .Include(j => j.Boots).ThenInclude(b => b.Metrics)
            .Include(j => j.Boots).ThenInclude(b => b.Tests)
            .Include(j => j.Boots).ThenInclude(b => b.Findings)
            .AsSplitQuery()
            .ToListAsync(ct);

        // The folded stacks only: the raw perf-script text is read by the profile route alone.
        var bootIds = jobs.SelectMany(j => j.Boots).Select(b => b.Id).ToList();
        var profiles = (await db.Profiles.AsNoTracking()
                .Where(p => bootIds.Contains(p.BootId))
                .Select(p => new { p.BootId, p.Folded, p.Symbolized })
                .ToListAsync(ct))
            .ToDictionary(p => p.BootId, p => FoldedStacks.Summarise(p.Folded, p.Symbolized, TopFunctions));

        // What retention deleted (ConsoleStorage/PruneRetentionJob), so an empty console reads as pruned.
        var jobIds = jobs.Select(j => j.Id).ToArray();
        var prunes = (await db.Database.SqlQuery<Pruned>($"""
                SELECT job_id AS "JobId", console_pruned_at AS "ConsolePrunedAt", artifacts_pruned_at AS "ArtifactsPrunedAt"
                FROM retention_prunes WHERE job_id = ANY({jobIds})
                """).ToListAsync(ct))
            .ToDictionary(p => p.JobId);

        var views = new List<JobView>(jobs.Count);
        foreach (var job in jobs
                     .OrderBy(j => j.Machine.Agent.Name, StringComparer.Ordinal)
                     .ThenBy(j => j.Machine.Name, StringComparer.Ordinal)
                     .ThenBy(j => j.Variant, StringComparer.Ordinal)
                     .ThenBy(j => j.Attempt))
        {
            // Symbolized at read time, so an ELF uploaded after the boot report still names the frames.
            var symbolizer = job.Boots.Any(b => b.Findings.Count > 0) ? await symbols.ForJobAsync(job.Id, ct) : null;
            var pruned = prunes.GetValueOrDefault(job.Id);
            views.Add(ToView(job, symbolizer, profiles) with { ConsolePrunedAt = pruned?.ConsolePrunedAt, ArtifactsPrunedAt = pruned?.ArtifactsPrunedAt });
        }
        return new RunView(run.Id, run.Repository.Name, run.Branch, run.Commit, run.PipelinePath,
            run.Outcome, run.CreatedAt, run.EndedAt, views, run.Detail, run.Kind, run.BaselineCommit, run.BaselineReason, run.Resolving);
    }

    public async Task<IReadOnlyList<ConsoleLine>?> GetConsoleAsync(Guid jobId, long from, int limit, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId, ct)) return null;
        if (await archive.HasChunksAsync(jobId, ct))
            return (await archive.RangeAsync(jobId, from, limit, ct)).Select(l => new ConsoleLine(l.Boot, l.HostTime, l.Text)).ToList();
        return await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId && l.LineNo >= from)
            .OrderBy(l => l.LineNo)
            .Take(limit)
            .Select(l => new ConsoleLine(l.Boot, l.HostTime, l.Text))
            .ToListAsync(ct);
    }

    private static JobView ToView(JobRow j, Symbolizer? symbolizer, Dictionary<Guid, ProfileSummary> profiles) => new(
        j.Id, j.Variant, j.Machine.Name, j.Agent?.Name ?? j.Machine.Agent.Name, j.Outcome, j.Detail,
        j.CreatedAt, j.AssignedAt, j.EndedAt,
        j.Boots.OrderBy(b => b.Index).Select(b => new BootView(
            b.Index, b.Outcome, b.Detail, b.StartedAt, b.EndedAt, b.TscHz, b.CorruptMarkers,
            b.Stages.OrderBy(s => s.Ordinal).Select(s => new StageReport(s.Name, s.Source, s.KernelNs, s.HostNs)).ToList(),
            b.Metrics.OrderBy(m => m.Id).Select(m => new MetricReport(m.Name, m.Value, m.Unit, m.Samples, m.Stat)).ToList(),
            b.Tests.OrderBy(t => t.Id).Select(t => new TestReport(t.Name, t.Result, t.Detail)).ToList(),
            b.Findings.OrderBy(f => f.Id).Select(f => FindingRecords.Read(f, symbolizer)).ToList(),
            profiles.GetValueOrDefault(b.Id)))
            .ToList(),
        j.Attempt);

    private sealed record Pruned(Guid JobId, DateTimeOffset? ConsolePrunedAt, DateTimeOffset? ArtifactsPrunedAt);
}
