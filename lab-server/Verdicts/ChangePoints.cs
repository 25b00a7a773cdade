using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Perfolizer.Mathematics.Cpd;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Verdicts;

/// <summary>A lasting step in a series of per-commit medians.</summary>
/// <param name="Index">The first point after the step.</param>
public sealed record ChangePoint(int Index, double Before, double After)
{
    public double Relative => Before == 0 ? double.NaN : (After - Before) / Math.Abs(Before);
}

/// <summary>
/// Change-point detection over the default branch's history (Perfolizer's ED-PELT): each series is the per-commit
/// median of a metric or stage on one machine and variant, oldest commit first. A step that lasts (at least
/// <see cref="MinSegment"/> commits on each side), is worse by at least the series' threshold, and that no
/// commit's own verdict called a regression, opens one: a verdict of subject <c>history</c> on the run that
/// revealed it, naming the commit where the step begins; untested commits before that one are bisected
/// (<see cref="Bisection.BisectionService.StartHistoryAsync"/>).
/// </summary>
public sealed class ChangePoints(LabDbContext db, GitMirrors git, SampleQueries samples, Thresholds thresholds, Bisection.BisectionService bisections, TimeProvider clock)
{
    /// <summary>Commits a segment must span for its step to count as lasting.</summary>
    public const int MinSegment = 3;

    /// <summary>How many tested commits of the history are read.</summary>
    public const int Window = 100;

    /// <summary>Steps in <paramref name="series"/>, with the medians of the segments either side.</summary>
    public static IReadOnlyList<ChangePoint> Detect(IReadOnlyList<double> series, int minSegment = MinSegment)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count < 2 * minSegment) return [];
        var indexes = EdPeltChangePointDetector.Instance.GetChangePointIndexes(series.ToArray(), minSegment);
        var bounds = new List<int> { 0 };
        // Perfolizer returns the last index of each segment but the last; a step begins one after it.
        bounds.AddRange(indexes.Select(i => i + 1));
        bounds.Add(series.Count);
        var points = new List<ChangePoint>();
        for (var i = 1; i < bounds.Count - 1; i++)
        {
            var before = series.Skip(bounds[i - 1]).Take(bounds[i] - bounds[i - 1]).ToList();
            var after = series.Skip(bounds[i]).Take(bounds[i + 1] - bounds[i]).ToList();
            points.Add(new ChangePoint(bounds[i], ShiftComparison.Median(before), ShiftComparison.Median(after)));
        }
        return points;
    }

    public async Task DetectAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).SingleAsync(r => r.Id == runId, ct);
        var spec = RunJudge.SpecOf(run);
        var history = (await git.FirstParentAncestorsAsync(run.Repository.Url, run.Commit, 1000, ct)).Reverse().Append(run.Commit).ToList();
        var tested = (await db.Runs.AsNoTracking()
                .Where(r => r.RepositoryId == run.RepositoryId && r.PipelinePath == run.PipelinePath && r.Kind == RunKinds.Push && history.Contains(r.Commit))
                .Select(r => r.Commit).Distinct().ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        var commits = history.Where(tested.Contains).TakeLast(Window).ToList();
        if (commits.Count < 2 * MinSegment) return;

        var pairs = await db.Jobs.AsNoTracking().Where(j => j.RunId == runId).Select(j => new { j.MachineId, j.Variant }).Distinct().ToListAsync(ct);
        foreach (var p in pairs)
        {
            var perCommit = new List<IReadOnlyList<BootSample>>();
            foreach (var c in commits)
                perCommit.Add(await samples.OfCommitAsync(run.RepositoryId, c, run.PipelinePath, p.MachineId, p.Variant, ct));
            var lookup = await thresholds.ForAsync(p.MachineId, run.PipelinePath, p.Variant, spec, ct);
            var keys = perCommit[^1].SelectMany(b => b.Values).Select(kv => (kv.Key, kv.Value.Unit, kv.Value.Subject)).Distinct();
            foreach (var (key, unit, subject) in keys)
            {
                if (!VerdictEngine.IsJudged(key, unit, spec)) continue;
                var indexed = perCommit.Select((boots, i) => (i, values: VerdictEngine.Series(boots, key)))
                    .Where(x => x.values.Count > 0).Select(x => (x.i, median: ShiftComparison.Median(x.values))).ToList();
                var better = VerdictEngine.Direction(key, unit, spec);
                var (threshold, _) = lookup(subject, key);
                foreach (var cp in Detect(indexed.Select(x => x.median).ToList()))
                {
                    var worse = better == Better.Lower ? cp.Relative > 0 : cp.Relative < 0;
                    if (!worse || !(Math.Abs(cp.Relative) >= threshold)) continue;
                    var stepCommit = commits[indexed[cp.Index].i];
                    var before = commits[indexed[cp.Index - 1].i];
                    var judged = await db.Set<VerdictRow>().AsNoTracking().Where(v =>
                        v.MachineId == p.MachineId && v.Variant == p.Variant && v.Name == key && v.Verdict == VerdictNames.Regression
                        && ((v.Subject == Subjects.History && v.BaselineCommit == before)
                            || db.Runs.Any(r => r.Id == v.RunId && r.Commit == stepCommit)))
                        .Select(v => new { v.RunId, v.Subject }).FirstOrDefaultAsync(ct);
                    if (judged is null)
                    {
                        db.Set<VerdictRow>().Add(new VerdictRow
                        {
                            RunId = runId, MachineId = p.MachineId, Variant = p.Variant, Subject = Subjects.History, Name = key,
                            Verdict = VerdictNames.Regression, BaselineCommit = before, Unit = unit, Better = better == Better.Lower ? "lower" : "higher",
                            BaselineCount = cp.Index, CandidateCount = indexed.Count - cp.Index, BaselineMedian = cp.Before, CandidateMedian = cp.After,
                            Shift = cp.After - cp.Before, Threshold = threshold, UpdatedAt = clock.GetUtcNow(),
                            Detail = string.Create(CultureInfo.InvariantCulture,
                                $"lasting step at {stepCommit[..12]}: median {cp.Before:G6} → {cp.After:G6} {unit} ({cp.Relative:+0.0%;-0.0%}) over {indexed.Count} tested commits (ED-PELT)"),
                        });
                        await db.SaveChangesAsync(ct);
                    }
                    // This run's step (new, or found before a crash left it unbisected): untested commits between the
                    // two tested ones are bisected for the first bad commit.
                    if (judged is null || (judged.RunId == runId && judged.Subject == Subjects.History))
                        await bisections.StartHistoryAsync(runId, p.MachineId, p.Variant, key, before, stepCommit, ct);
                }
            }
        }
    }
}
