using Hangfire;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Bisection;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Verdicts;

/// <summary>
/// Judges ended runs, oldest first: every run's findings become bugs; a push is judged against its baseline; a
/// baseline or extra run sends its parent push back to the judge; a bisection step moves its bisection on; the
/// second run of a calibration pair records its A/A verdicts. Recurring, one at a time on all servers
/// (<see cref="DisableConcurrentExecutionAttribute"/>), so two judgements of one run never race; each run is
/// marked judged at the end, and judging it again is harmless (verdicts are rewritten, bugs are upserts,
/// scheduling checks what is already scheduled).
/// </summary>
public sealed class JudgeEndedRunsJob(LabDbContext db, RunJudge judge, BugTracker bugs, BisectionService bisections,
    Calibrations calibrations, TimeProvider clock, ILogger<JudgeEndedRunsJob> log)
{
    public const string RecurringId = "judge-ended-runs";

    /// <summary>Every 5 seconds.</summary>
    public const string Cron = "*/5 * * * * *";

    /// <summary>Returns how many runs it judged.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var ended = await db.Runs.AsNoTracking()
            .Where(r => r.EndedAt != null && r.JudgedAt == null)
            .OrderBy(r => r.EndedAt).ThenBy(r => r.Id)
            .Select(r => r.Id)
            .Take(50)
            .ToListAsync(ct);
        var judged = 0;
        foreach (var id in ended)
        {
            try
            {
                if (await JudgeOneAsync(id, ct)) judged++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One run the judge cannot handle must not hold up the others: it is marked judged with the error logged.
                log.LogError(ex, "Run {RunId}: judging failed", id);
                await MarkJudgedAsync(id, ct);
            }
            db.ChangeTracker.Clear();
        }
        return judged;
    }

    /// <summary>Judges one ended run; false when it must wait (the other half of a calibration pair still runs).</summary>
    public async Task<bool> JudgeOneAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId, ct);
        var spec = RunJudge.SpecOf(run);
        await bugs.AssignAsync(run.Id, spec, ct);

        switch (run.Kind)
        {
            case RunKinds.Push:
                await judge.JudgeAsync(run.Id, ct);
                break;
            case RunKinds.Baseline or RunKinds.Extra when run.ParentRunId is { } parent:
                await judge.JudgeAsync(parent, ct);
                break;
            case RunKinds.Bisect:
                await bisections.StepEndedAsync(run.Id, ct);
                break;
            case RunKinds.Calibration:
                if (!await calibrations.PairEndedAsync(run.Id, ct)) return false;
                break;
        }
        await MarkJudgedAsync(run.Id, ct);
        return true;
    }

    private Task<int> MarkJudgedAsync(Guid runId, CancellationToken ct) =>
        db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.JudgedAt, clock.GetUtcNow()), ct);
}

/// <summary>Judges a push against its baseline, per machine and variant, and asks for what is missing: baseline boots, extra boots, a bisection.</summary>
public sealed class RunJudge(
    LabDbContext db, GitMirrors git, Baselines baselines, SampleQueries samples, Thresholds thresholds, RunScheduler scheduler,
    BisectionService bisections, ChangePoints changePoints, BugTracker bugs, TimeProvider clock, ILogger<RunJudge> log)
{
    /// <summary>The run's judge section; a pipeline that no longer loads is judged by the defaults.</summary>
    public static JudgeSpec SpecOf(RunRow run)
    {
        try
        {
            return PipelineLoader.Load(run.PipelineYaml, run.PipelinePath).Judgement;
        }
        catch (PipelineException)
        {
            return JudgeSpec.Default;
        }
    }

    public static PipelineDefinition? PipelineOf(RunRow run)
    {
        try
        {
            return PipelineLoader.Load(run.PipelineYaml, run.PipelinePath);
        }
        catch (PipelineException)
        {
            return null;
        }
    }

    public async Task JudgeAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.Include(r => r.Repository).SingleAsync(r => r.Id == runId, ct);
        if (run.EndedAt is null || run.Kind != RunKinds.Push) return;
        // 1. Wait for every baseline and extra run it asked for: the verdict is taken on all boots at once.
        if (await db.Runs.AnyAsync(r => r.ParentRunId == runId && r.EndedAt == null && (r.Kind == RunKinds.Baseline || r.Kind == RunKinds.Extra), ct))
            return;
        var pipeline = PipelineOf(run);
        if (pipeline is null) return;
        var spec = pipeline.Judgement;
        var url = run.Repository.Url;

        // 2. The baseline, found once and kept on the run.
        if (run.BaselineReason is null)
        {
            (run.BaselineCommit, run.BaselineReason) = await baselines.FindAsync(run, url, ct);
            await db.SaveChangesAsync(ct);
        }

        var cap = spec.MaxBoots > 0 ? spec.MaxBoots : pipeline.Boot.Count;
        var design = new SequentialDesign(spec.Step, cap);
        var pairs = await db.Jobs.AsNoTracking().Where(j => j.RunId == runId)
            .Select(j => new { j.MachineId, j.Variant }).Distinct().ToListAsync(ct);
        var schedule = new List<ScheduledRun>();
        if (run.BaselineCommit is { } baseCommit)
        {
            var baseYaml = await PipelineYamlAtAsync(run, baseCommit, ct);
            foreach (var p in pairs)
            {
                var candidate = await samples.OfCommitAsync(run.RepositoryId, run.Commit, run.PipelinePath, p.MachineId, p.Variant, ct);
                var baseline = await samples.OfCommitAsync(run.RepositoryId, baseCommit, run.PipelinePath, p.MachineId, p.Variant, ct);
                // A job that built nothing or booted nothing measured nothing: no baseline boots for it.
                if (candidate.Count == 0) continue;
                var children = await db.Runs.AsNoTracking()
                    .Where(r => r.ParentRunId == runId && r.OnlyMachineId == p.MachineId && r.OnlyVariant == p.Variant)
                    .Select(r => new { r.Kind, r.Commit }).ToListAsync(ct);

                // 3. No baseline boots on this machine: boot the baseline, once.
                if (baseline.Count == 0)
                {
                    if (baseYaml is not null && !children.Any(c => c.Kind == RunKinds.Baseline))
                    {
                        schedule.Add(new ScheduledRun(RunKinds.Baseline, runId, run.RepositoryId, null, baseCommit, run.PipelinePath, baseYaml,
                            p.MachineId, p.Variant, Math.Max(pipeline.Boot.Count, Math.Min(candidate.Count, cap))));
                        continue;
                    }
                    await StoreAsync(run, p.MachineId, p.Variant, [new VerdictResult(Subjects.Metric, "(baseline)", VerdictNames.Inconclusive, null, null, 0, candidate.Count,
                        Detail: baseYaml is null ? $"the baseline {baseCommit[..12]} has no {run.PipelinePath}" : $"the baseline {baseCommit[..12]} has no boots on this machine")], 0, ct);
                    continue;
                }

                // 4. The verdicts on every boot so far.
                var lookup = await thresholds.ForAsync(p.MachineId, run.PipelinePath, p.Variant, spec, ct);
                var results = VerdictEngine.Judge(baseline, candidate, spec, lookup);
                var rounds = children.Count(c => c.Kind == RunKinds.Extra && c.Commit == run.Commit);
                await StoreAsync(run, p.MachineId, p.Variant, results, rounds, ct);

                // 5. Unclear: one more round, baseline then candidate, until the cap.
                var unclear = results.Any(r => r.Subject is Subjects.Metric or Subjects.Stage && r.Verdict == VerdictNames.Inconclusive);
                var more = design.MoreBoots(unclear ? VerdictKind.Inconclusive : VerdictKind.NoChange, baseline.Count, candidate.Count);
                if (more > 0 && baseYaml is not null)
                {
                    schedule.Add(new ScheduledRun(RunKinds.Extra, runId, run.RepositoryId, null, baseCommit, run.PipelinePath, baseYaml, p.MachineId, p.Variant, more));
                    schedule.Add(new ScheduledRun(RunKinds.Extra, runId, run.RepositoryId, run.Branch, run.Commit, run.PipelinePath, run.PipelineYaml, p.MachineId, p.Variant, more));
                }
            }
        }

        if (schedule.Count > 0)
        {
            await scheduler.ScheduleAsync(schedule, ct);
            log.LogInformation("Run {RunId}: scheduled {Count} runs for its verdicts", runId, schedule.Count);
            return;
        }

        // 6. Final verdicts: bisect a regression with untested commits before it; on the default branch, look
        //    for lasting steps in the history and close bugs that stopped showing up.
        if (run.BaselineCommit is not null) await bisections.StartAsync(runId, ct);
        var defaultBranch = await git.DefaultBranchAsync(url, ct);
        if (defaultBranch is not null && (run.Branch == defaultBranch || (run.Branch is null && run.BaselineReason?.StartsWith("previous", StringComparison.Ordinal) == true)))
        {
            await changePoints.DetectAsync(runId, ct);
            await bugs.MarkFixedAsync(run.RepositoryId, defaultBranch, spec.FixedAfter, ct);
        }
    }

    /// <summary>The pipeline file at another commit (the baseline builds with its own); null when it has none.</summary>
    public async Task<string?> PipelineYamlAtAsync(RunRow run, string commit, CancellationToken ct)
    {
        var known = await db.Runs.AsNoTracking()
            .Where(r => r.RepositoryId == run.RepositoryId && r.Commit == commit && r.PipelinePath == run.PipelinePath)
            .Select(r => r.PipelineYaml).FirstOrDefaultAsync(ct);
        return known ?? await git.ReadAsync(run.Repository.Url, ["show", $"{commit}:{run.PipelinePath}"], ct);
    }

    /// <summary>Replaces the verdicts of one run, machine and variant (judging again after extra boots rewrites them).</summary>
    public async Task StoreAsync(RunRow run, Guid machineId, string variant, IReadOnlyList<VerdictResult> results, int rounds, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Set<VerdictRow>()
            .Where(v => v.RunId == run.Id && v.MachineId == machineId && v.Variant == variant && v.Subject != Subjects.History)
            .ExecuteDeleteAsync(ct);
        db.Set<VerdictRow>().AddRange(results.Select(r => ToRow(r, run.Id, machineId, variant, run.BaselineCommit, rounds, now)));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    public static VerdictRow ToRow(VerdictResult r, Guid runId, Guid machineId, string variant, string? baselineCommit, int rounds, DateTimeOffset now) => new()
    {
        RunId = runId, MachineId = machineId, Variant = variant, Subject = r.Subject, Name = r.Name, Verdict = r.Verdict,
        BaselineCommit = baselineCommit, Unit = r.Unit, Better = r.Better, BaselineCount = r.BaselineCount, CandidateCount = r.CandidateCount,
        BaselineMedian = r.BaselineMedian, CandidateMedian = r.CandidateMedian, Shift = r.Shift, ShiftLow = r.ShiftLow, ShiftHigh = r.ShiftHigh,
        P = r.P, Threshold = r.Threshold, ThresholdSource = r.ThresholdSource, Rounds = rounds, Detail = r.Detail, BugId = r.BugId, UpdatedAt = now,
    };
}
