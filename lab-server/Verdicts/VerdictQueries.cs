using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Bisection;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Findings;

namespace Redox.Lab.Server.Verdicts;

/// <summary>The read side of verdicts, bugs, bisections, calibrations and compare, shared by the API and the dashboard.</summary>
public sealed class VerdictQueries(LabDbContext db, SampleQueries samples, Thresholds thresholds)
{
    public async Task<RunVerdictsView?> RunAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null) return null;
        var rows = await db.Set<VerdictRow>().AsNoTracking().Where(v => v.RunId == runId).ToListAsync(ct);
        // A child counts until the judge has taken its boots in (it is marked judged after its parent was judged again).
        var pending = await db.Runs.CountAsync(r => r.ParentRunId == runId && (r.EndedAt == null || r.JudgedAt == null), ct);
        var bisections = await BisectionsAsync(db.Set<BisectionRow>().Where(b => b.RunId == runId), ct);
        return new RunVerdictsView(run.Id, run.Kind, run.Commit, run.BaselineCommit, run.BaselineReason,
            run.JudgedAt is not null && pending == 0, pending, await ViewsAsync(rows, ct), bisections);
    }

    public async Task<IReadOnlyList<VerdictView>> ViewsAsync(IReadOnlyList<VerdictRow> rows, CancellationToken ct)
    {
        var machineIds = rows.Select(r => r.MachineId).Distinct().ToList();
        var machines = await MachineNamesAsync(machineIds, ct);
        var bugIds = rows.Where(r => r.BugId is not null).Select(r => r.BugId!.Value).Distinct().ToList();
        var titles = await db.Set<BugRow>().AsNoTracking().Where(b => bugIds.Contains(b.Id)).ToDictionaryAsync(b => b.Id, b => b.Title, ct);
        return rows
            .OrderBy(r => machines.GetValueOrDefault(r.MachineId), StringComparer.Ordinal).ThenBy(r => r.Variant, StringComparer.Ordinal)
            .ThenBy(r => Rank(r.Verdict)).ThenBy(r => r.Subject, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => View(r, machines.GetValueOrDefault(r.MachineId) ?? "?", r.BugId is { } b ? titles.GetValueOrDefault(b) : null))
            .ToList();
    }

    private static int Rank(string verdict) => verdict switch
    {
        VerdictNames.Regression => 0,
        VerdictNames.Inconclusive => 1,
        VerdictNames.Improvement => 2,
        VerdictNames.Known => 3,
        _ => 4,
    };

    internal static VerdictView View(VerdictRow r, string machine, string? bugTitle) => new(
        machine, r.Variant, r.Subject, r.Subject == Subjects.Bug && bugTitle is not null ? bugTitle : r.Name, r.Verdict,
        r.Unit, r.Better, r.BaselineCount, r.CandidateCount, r.BaselineMedian, r.CandidateMedian,
        r.Shift, r.ShiftLow, r.ShiftHigh, r.Shift is { } s && r.BaselineMedian is { } m && m != 0 ? s / Math.Abs(m) : null,
        r.P, r.Threshold, r.ThresholdSource, r.Rounds, r.Detail, r.BugId, bugTitle, r.BaselineCommit);

    private async Task<Dictionary<Guid, string>> MachineNamesAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct) =>
        await db.Machines.AsNoTracking().Where(m => ids.Contains(m.Id))
            .Select(m => new { m.Id, Name = m.Agent.Name + "/" + m.Name })
            .ToDictionaryAsync(m => m.Id, m => m.Name, ct);

    public async Task<IReadOnlyList<BisectionView>> BisectionsAsync(IQueryable<BisectionRow> query, CancellationToken ct)
    {
        var rows = await query.AsNoTracking().OrderByDescending(b => b.CreatedAt).ToListAsync(ct);
        var machines = await MachineNamesAsync(rows.Select(r => r.MachineId).Distinct().ToList(), ct);
        return rows.Select(b => new BisectionView(
            b.Id, b.RunId, machines.GetValueOrDefault(b.MachineId) ?? "?", b.Variant, b.Subject, b.Name, b.GoodCommit, b.BadCommit,
            b.Commits.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, b.Steps, b.MaxSteps, b.State, b.FirstBadCommit, b.StepCommit,
            b.Evidence.Split('\n', StringSplitOptions.RemoveEmptyEntries))).ToList();
    }

    public async Task<BisectionView?> BisectionAsync(Guid id, CancellationToken ct) =>
        (await BisectionsAsync(db.Set<BisectionRow>().Where(b => b.Id == id), ct)).FirstOrDefault();

    public async Task<IReadOnlyList<RegressionView>> RegressionsAsync(int limit, CancellationToken ct)
    {
        var rows = await db.Set<VerdictRow>().AsNoTracking()
            .Where(v => v.Verdict == VerdictNames.Regression && db.Runs.Any(r => r.Id == v.RunId && r.Kind == RunKinds.Push))
            .OrderByDescending(v => v.UpdatedAt).Take(limit).ToListAsync(ct);
        var runIds = rows.Select(r => r.RunId).Distinct().ToList();
        var runs = await db.Runs.AsNoTracking().Include(r => r.Repository).Where(r => runIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        var machines = await MachineNamesAsync(rows.Select(r => r.MachineId).Distinct().ToList(), ct);
        var bugIds = rows.Where(r => r.BugId is not null).Select(r => r.BugId!.Value).Distinct().ToList();
        var titles = await db.Set<BugRow>().AsNoTracking().Where(b => bugIds.Contains(b.Id)).ToDictionaryAsync(b => b.Id, b => b.Title, ct);
        var bisections = await BisectionsAsync(db.Set<BisectionRow>().Where(b => runIds.Contains(b.RunId)), ct);
        var result = new List<RegressionView>();
        foreach (var row in rows)
        {
            var run = runs[row.RunId];
            var view = View(row, machines.GetValueOrDefault(row.MachineId) ?? "?", row.BugId is { } bug ? titles.GetValueOrDefault(bug) : null);
            var bisection = bisections.FirstOrDefault(b => b.RunId == row.RunId && b.Variant == row.Variant && b.Subject == row.Subject && b.Name == row.Name);
            result.Add(new RegressionView(run.Id, run.Repository.Name, run.Commit, run.Branch, row.UpdatedAt, view, bisection));
        }
        return result;
    }

    public async Task<IReadOnlyList<BugView>> BugsAsync(string? state, int limit, CancellationToken ct)
    {
        var query = db.Set<BugRow>().AsNoTracking();
        if (state is not null) query = query.Where(b => b.State == state);
        var bugs = await query.OrderByDescending(b => b.LastSeenAt).Take(limit).ToListAsync(ct);
        return await BugViewsAsync(bugs, ct);
    }

    public async Task<IReadOnlyList<BugView>> BugViewsAsync(IReadOnlyList<BugRow> bugs, CancellationToken ct)
    {
        var ids = bugs.Select(b => b.Id).ToList();
        var repoIds = bugs.Select(b => b.RepositoryId).Distinct().ToList();
        var repos = await db.Repositories.AsNoTracking().Where(r => repoIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.Name, ct);
        var where = await (
                from f in db.Findings
                join b in db.Boots on f.BootId equals b.Id
                join j in db.Jobs on b.JobId equals j.Id
                where f.BugId != null && ids.Contains(f.BugId.Value)
                select new { BugId = f.BugId!.Value, j.Run.Commit, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name })
            .Distinct().ToListAsync(ct);
        return bugs.Select(b => new BugView(
            b.Id, repos.GetValueOrDefault(b.RepositoryId) ?? "?", b.Signature, b.Kind, b.Title, b.State, b.Count,
            b.FirstRunId, b.FirstCommit, b.FirstSeenAt, b.LastRunId, b.LastCommit, b.LastSeenAt, b.FixedAt,
            where.Where(w => w.BugId == b.Id).Select(w => w.Commit).Distinct().Order(StringComparer.Ordinal).ToList(),
            where.Where(w => w.BugId == b.Id).Select(w => w.Machine).Distinct().Order(StringComparer.Ordinal).ToList(), b.FixedCommit)).ToList();
    }

    public async Task<BugDetailView?> BugAsync(Guid id, int limit, CancellationToken ct)
    {
        var bug = await db.Set<BugRow>().AsNoTracking().SingleOrDefaultAsync(b => b.Id == id, ct);
        if (bug is null) return null;
        var view = (await BugViewsAsync([bug], ct))[0];
        var sightings = await (
                from f in db.Findings
                join b in db.Boots on f.BootId equals b.Id
                join j in db.Jobs on b.JobId equals j.Id
                where f.BugId == id
                orderby b.EndedAt descending
                select new { f, j.RunId, JobId = j.Id, j.Run.Commit, j.Run.Branch, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name, j.Variant, b.Index, b.EndedAt })
            .Take(limit).ToListAsync(ct);
        return new BugDetailView(view, sightings.Select(s => new BugSighting(
            s.RunId, s.JobId, s.Commit, s.Branch, s.Machine, s.Variant, s.Index, s.EndedAt, FindingRecords.Read(s.f, null))).ToList());
    }

    public async Task<IReadOnlyList<CalibrationView>> CalibrationsAsync(CancellationToken ct)
    {
        var rows = await db.Set<CalibrationRow>().AsNoTracking().ToListAsync(ct);
        var machines = await MachineNamesAsync(rows.Select(r => r.MachineId).Distinct().ToList(), ct);
        return rows.GroupBy(r => (r.MachineId, r.PipelinePath, r.Variant, r.Subject, r.Name))
            .Select(g =>
            {
                var shifts = g.Select(r => Math.Abs(r.RelativeShift)).ToList();
                return new CalibrationView(
                    machines.GetValueOrDefault(g.Key.MachineId) ?? "?", g.Key.PipelinePath, g.Key.Variant, g.Key.Subject, g.Key.Name,
                    g.Count(), g.Count(r => r.FalsePositive), (double)g.Count(r => r.FalsePositive) / g.Count(),
                    ShiftComparison.Median(g.Select(r => r.Noise).ToList()), ShiftComparison.Median(shifts),
                    g.Count() >= Thresholds.MinComparisons ? Thresholds.Calibrated(shifts) : null);
            })
            .OrderBy(c => c.Machine, StringComparer.Ordinal).ThenBy(c => c.Pipeline, StringComparer.Ordinal)
            .ThenBy(c => c.Variant, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// B against A with the same verdict code, per machine and variant both ran. A and B are runs (their own boots,
    /// not pooled by commit) or jobs. Null when either id is unknown.
    /// </summary>
    public async Task<CompareView?> CompareAsync(Guid a, Guid b, CancellationToken ct)
    {
        var sideA = await SideAsync(a, ct);
        var sideB = await SideAsync(b, ct);
        if (sideA is null || sideB is null) return null;
        var spec = RunJudge.SpecOf(sideB.Value.Run);
        var rows = new List<VerdictRow>();
        var now = DateTimeOffset.UtcNow;
        var bugsA = new HashSet<Guid>();
        var bugsB = new HashSet<Guid>();
        foreach (var key in sideB.Value.Jobs.Select(j => (j.MachineId, j.Variant)).Distinct())
        {
            // Comparing two jobs: whatever their machines. Comparing runs: machine and variant must match.
            var jobsA = sideA.Value.IsJob ? sideA.Value.Jobs : sideA.Value.Jobs.Where(j => j.MachineId == key.MachineId && j.Variant == key.Variant).ToList();
            var jobsB = sideB.Value.Jobs.Where(j => j.MachineId == key.MachineId && j.Variant == key.Variant).ToList();
            if (jobsA.Count == 0) continue;
            var samplesA = await samples.OfJobsAsync(jobsA.Select(j => j.Id).ToList(), ct);
            var samplesB = await samples.OfJobsAsync(jobsB.Select(j => j.Id).ToList(), ct);
            bugsA.UnionWith(samplesA.SelectMany(s => s.Bugs));
            bugsB.UnionWith(samplesB.SelectMany(s => s.Bugs));
            if (samplesA.Count == 0 || samplesB.Count == 0) continue;
            var lookup = await thresholds.ForAsync(key.MachineId, sideB.Value.Run.PipelinePath, key.Variant, spec, ct);
            rows.AddRange(VerdictEngine.Judge(samplesA, samplesB, spec, lookup)
                .Select(r => RunJudge.ToRow(r, sideB.Value.Run.Id, key.MachineId, key.Variant, sideA.Value.Run.Commit, 0, now)));
        }
        var added = await db.Set<BugRow>().AsNoTracking().Where(x => bugsB.Contains(x.Id) && !bugsA.Contains(x.Id)).ToListAsync(ct);
        var removed = await db.Set<BugRow>().AsNoTracking().Where(x => bugsA.Contains(x.Id) && !bugsB.Contains(x.Id)).ToListAsync(ct);
        return new CompareView(a, b, sideA.Value.Run.Commit, sideB.Value.Run.Commit, await ViewsAsync(rows, ct),
            await BugViewsAsync(added, ct), await BugViewsAsync(removed, ct));
    }

    private async Task<(RunRow Run, List<JobRow> Jobs, bool IsJob)?> SideAsync(Guid id, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct);
        if (run is not null)
            return (run, await db.Jobs.AsNoTracking().Where(j => j.RunId == id && j.State == JobStates.Ended).ToListAsync(ct), false);
        var job = await db.Jobs.AsNoTracking().Include(j => j.Run).SingleOrDefaultAsync(j => j.Id == id, ct);
        return job is null ? null : (job.Run, [job], true);
    }
}
