using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Verdicts;

/// <summary>The boots a verdict compares, read as <see cref="BootSample"/>s.</summary>
public sealed class SampleQueries(LabDbContext db)
{
    /// <summary>
    /// Every boot of <paramref name="commit"/> with this pipeline on this machine and variant, from every run but
    /// calibrations (a push, its baseline and extra boots, bisection steps): the samples of one side of a verdict.
    /// </summary>
    public async Task<IReadOnlyList<BootSample>> OfCommitAsync(
        Guid repositoryId, string commit, string pipelinePath, Guid machineId, string variant, CancellationToken ct)
    {
        var jobIds = await db.Jobs.AsNoTracking()
            .Where(j => j.Run.RepositoryId == repositoryId && j.Run.Commit == commit && j.Run.PipelinePath == pipelinePath
                        && j.MachineId == machineId && j.Variant == variant && j.Run.Kind != RunKinds.Calibration
                        && j.State == JobStates.Ended)
            .Select(j => j.Id)
            .ToListAsync(ct);
        // Drift (Machines/HEALTH.md): boots from before the machine's last fingerprint change or reference drift
        // are not comparable with boots after it; without them the baseline is booted again on the machine as it is now.
        var since = await db.Machines.AsNoTracking().Where(m => m.Id == machineId).Select(m => m.ComparableSince).SingleOrDefaultAsync(ct);
        return await OfJobsAsync(jobIds, since, ct);
    }

    /// <summary>The boots of these jobs that the kernel, not the lab, ended (an infrastructure failure measured nothing).</summary>
    public Task<IReadOnlyList<BootSample>> OfJobsAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken ct) => OfJobsAsync(jobIds, null, ct);

    private async Task<IReadOnlyList<BootSample>> OfJobsAsync(IReadOnlyCollection<Guid> jobIds, DateTimeOffset? since, CancellationToken ct)
    {
        var boots = await db.Boots.AsNoTracking()
            .Where(b => jobIds.Contains(b.JobId) && (since == null || b.StartedAt >= since))
            .Include(b => b.Metrics).Include(b => b.Stages).Include(b => b.Tests).Include(b => b.Findings)
            .AsSplitQuery()
            .OrderBy(b => b.StartedAt)
            .ToListAsync(ct);
        return boots.Where(b => b.Outcome.Kind() != OutcomeKind.Infrastructure).Select(ToSample).ToList();
    }

    /// <summary>The key a metric is judged under: its name, or <c>name@stat</c> for a second statistic (p99) of one name.</summary>
    public static string MetricKey(string name, string stat) =>
        stat is "" or "value" or "median" ? name : $"{name}@{stat}";

    internal static BootSample ToSample(BootRow b)
    {
        var values = new Dictionary<string, Measured>(StringComparer.Ordinal);
        foreach (var m in b.Metrics)
            values.TryAdd(MetricKey(m.Name, m.Stat), new Measured(m.Value, m.Unit, Subjects.Metric));
        foreach (var s in b.Stages)
        {
            // The kernel's own clock when it has one (TSC), else the host's arrival time of the line.
            var ns = s.KernelNs ?? s.HostNs;
            values.TryAdd($"stage:{s.Name}", new Measured(ns / 1e6, "ms", Subjects.Stage));
        }
        var tests = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var t in b.Tests.Where(t => t.Result is "pass" or "fail"))
            tests[t.Name] = tests.GetValueOrDefault(t.Name, true) && t.Result == "pass";
        var bugs = b.Findings.Where(f => f.BugId is not null).Select(f => f.BugId!.Value).ToHashSet();
        return new BootSample(b.Id, values, tests, bugs);
    }
}

/// <summary>Where a series' threshold comes from: the pipeline, else the machine's calibration, else the lab's default.</summary>
public sealed class Thresholds(LabDbContext db)
{
    /// <summary>A/A comparisons a machine needs before its calibration sets thresholds.</summary>
    public const int MinComparisons = 3;

    /// <summary>The floor of a calibrated threshold: below 1% a kernel developer would not call it a change.</summary>
    public const double Floor = 0.01;

    public async Task<VerdictEngine.ThresholdLookup> ForAsync(Guid machineId, string pipelinePath, string variant, JudgeSpec spec, CancellationToken ct)
    {
        var rows = await db.Set<CalibrationRow>().AsNoTracking()
            .Where(c => c.MachineId == machineId && c.PipelinePath == pipelinePath && c.Variant == variant)
            .Select(c => new { c.Subject, c.Name, c.RelativeShift })
            .ToListAsync(ct);
        var calibrated = rows.GroupBy(r => r.Name)
            .Where(g => g.Count() >= MinComparisons)
            .ToDictionary(g => g.Key, g => Calibrated(g.Select(r => Math.Abs(r.RelativeShift)).ToList()), StringComparer.Ordinal);
        return (subject, name) =>
        {
            if (spec.Metrics.TryGetValue(name, out var m) && m.Threshold is { } t) return (t, "pipeline");
            if (spec.Threshold is { } all) return (all, "pipeline");
            if (calibrated.TryGetValue(name, out var c)) return (c, "calibration");
            return (VerdictRule.DefaultThreshold, "default");
        };
    }

    /// <summary>
    /// The shift that identical commits showed in 95% of A/A comparisons on this machine (floored at 1%): a shift
    /// smaller than what the machine produces between two runs of the same commit is not the commit's doing.
    /// </summary>
    public static double Calibrated(IReadOnlyList<double> absoluteRelativeShifts)
    {
        var sorted = absoluteRelativeShifts.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0) return VerdictRule.DefaultThreshold;
        var index = (int)Math.Ceiling(0.95 * sorted.Length) - 1;
        return Math.Max(Floor, sorted[Math.Clamp(index, 0, sorted.Length - 1)]);
    }
}
