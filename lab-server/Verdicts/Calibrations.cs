using Microsoft.EntityFrameworkCore;
using Pragmastat;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Verdicts;

/// <summary>
/// A/A calibration: the same commit booted as two runs, back to back, on one machine, and judged against itself.
/// Every regression or improvement it reports is a false positive; its shifts and spreads are the machine's noise,
/// which sets the default thresholds (<see cref="Thresholds"/>). The first run of a pair is a calibration run
/// whose parent is the run being calibrated; the second's parent is the first.
/// </summary>
public sealed class Calibrations(LabDbContext db, SampleQueries samples, Thresholds thresholds, RunScheduler scheduler, TimeProvider clock)
{
    /// <summary>Schedules an A/A pair for each machine and variant of <paramref name="runId"/> (or one machine); returns the runs.</summary>
    public async Task<IReadOnlyList<Guid>> RequestAsync(Guid runId, Guid? machineId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null) return [];
        var spec = RunJudge.SpecOf(run);
        var pairs = await db.Jobs.AsNoTracking()
            .Where(j => j.RunId == runId && (machineId == null || j.MachineId == machineId) && j.Machine.Active)
            .Select(j => new { j.MachineId, j.Variant }).Distinct().ToListAsync(ct);
        var ids = new List<Guid>();
        foreach (var p in pairs)
        {
            var first = await scheduler.ScheduleAsync([new ScheduledRun(RunKinds.Calibration, run.Id, run.RepositoryId, null, run.Commit,
                run.PipelinePath, run.PipelineYaml, p.MachineId, p.Variant, spec.CalibrationBoots)], ct);
            var second = await scheduler.ScheduleAsync([new ScheduledRun(RunKinds.Calibration, first[0], run.RepositoryId, null, run.Commit,
                run.PipelinePath, run.PipelineYaml, p.MachineId, p.Variant, spec.CalibrationBoots)], ct);
            ids.AddRange(first);
            ids.AddRange(second);
        }
        return ids;
    }

    /// <summary>A calibration run ended; when it is the second of a pair and the first ended too, records the A/A verdicts. False: wait.</summary>
    public async Task<bool> PairEndedAsync(Guid runId, CancellationToken ct)
    {
        var second = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId, ct);
        if (second.ParentRunId is not { } parentId) return true;
        var first = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == parentId, ct);
        if (first is null || first.Kind != RunKinds.Calibration) return true; // this is the first of its pair
        if (first.EndedAt is null) return false;
        if (await db.Set<CalibrationRow>().AnyAsync(c => c.RunId == runId, ct)) return true;

        var spec = RunJudge.SpecOf(second);
        var jobsA = await db.Jobs.AsNoTracking().Where(j => j.RunId == first.Id).Select(j => j.Id).ToListAsync(ct);
        var jobsB = await db.Jobs.AsNoTracking().Where(j => j.RunId == second.Id).Select(j => new { j.Id, j.MachineId, j.Variant }).ToListAsync(ct);
        if (jobsB.Count == 0) return true;
        var a = await samples.OfJobsAsync(jobsA, ct);
        var b = await samples.OfJobsAsync(jobsB.Select(j => j.Id).ToList(), ct);
        if (a.Count == 0 || b.Count == 0) return true;
        var (machineId, variant) = (jobsB[0].MachineId, jobsB[0].Variant);
        // Judged exactly as a push would be, thresholds included: the rate measured is the lab's own.
        var lookup = await thresholds.ForAsync(machineId, second.PipelinePath, variant, spec, ct);
        var now = clock.GetUtcNow();
        foreach (var r in VerdictEngine.Judge(a, b, spec, lookup).Where(r => r.Subject is Subjects.Metric or Subjects.Stage))
        {
            var pooled = VerdictEngine.Series(a, r.Name).Concat(VerdictEngine.Series(b, r.Name)).ToArray();
            db.Set<CalibrationRow>().Add(new CalibrationRow
            {
                RunId = second.Id, MachineId = machineId, PipelinePath = second.PipelinePath, Variant = variant,
                Subject = r.Subject, Name = r.Name, Verdict = r.Verdict,
                FalsePositive = r.Verdict is VerdictNames.Regression or VerdictNames.Improvement,
                RelativeShift = r.RelativeShift ?? 0, Noise = Noise(pooled), Samples = pooled.Length, CreatedAt = now,
            });
        }
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>Relative spread (Shamos estimator over the Hodges-Lehmann centre, Pragmastat): robust boot-to-boot noise.</summary>
    public static double Noise(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        try
        {
            var v = Toolkit.RelSpread(new Sample(values.ToArray())).NominalValue;
            return double.IsFinite(v) ? v : 0;
        }
        catch (ArgumentException)
        {
            return 0; // a centre of zero: no relative spread
        }
    }
}

/// <summary>
/// Periodic calibration: once a day, an A/A pair on every active machine at the latest passed push of the default
/// branch that ran there. A machine calibrated in the last <see cref="MinInterval"/> (by this job or on demand) is
/// skipped, so a second delivery of the job (Hangfire delivers at least once) schedules nothing. Recurring.
/// </summary>
public sealed class CalibrateMachinesJob(LabDbContext db, Calibrations calibrations, TimeProvider clock, ILogger<CalibrateMachinesJob> log)
{
    public const string RecurringId = "calibrate-machines";

    /// <summary>Daily at 03:17 UTC.</summary>
    public const string Cron = "17 3 * * *";

    /// <summary>Less than a day, so that a daily run a little early still calibrates.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromHours(20);

    /// <summary>Returns how many runs it scheduled.</summary>
    [Hangfire.AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var since = clock.GetUtcNow() - MinInterval;
        var machines = await db.Machines.AsNoTracking()
            .Where(m => m.Active && !db.Runs.Any(r => r.Kind == RunKinds.Calibration && r.OnlyMachineId == m.Id && r.CreatedAt > since))
            .Select(m => m.Id).ToListAsync(ct);
        var scheduled = 0;
        foreach (var machineId in machines)
        {
            var runId = await db.Jobs.AsNoTracking()
                .Where(j => j.MachineId == machineId && j.Outcome == Outcome.Passed && j.Run.Kind == RunKinds.Push && j.Run.Branch != null)
                .OrderByDescending(j => j.Run.CreatedAt)
                .Select(j => (Guid?)j.RunId)
                .FirstOrDefaultAsync(ct);
            if (runId is null) continue;
            scheduled += (await calibrations.RequestAsync(runId.Value, machineId, ct)).Count;
        }
        log.LogInformation("Calibration: scheduled {Count} runs", scheduled);
        return scheduled;
    }
}
