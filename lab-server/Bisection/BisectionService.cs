using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Bisection;

/// <summary>
/// Bisects a regression between a run's baseline (good) and its commit (bad) on the same machine and variant, up
/// to the pipeline's step cap. Each step boots the middle commit of the open range (or reuses its boots when the
/// lab already has them) and judges it against the good commit with the same verdict code as the run. A step is
/// bad when the verdict says regression (a bug seen, a test failing); an inconclusive performance step, after the
/// boots the pipeline gives a run, is bad when its median is nearer the bad commit's than the good one's.
/// One bisection per run, machine and variant: for the regression that matters most (a bug, then a failing
/// test, then the largest relative shift); the others of that run usually share its cause.
/// </summary>
public sealed class BisectionService(LabDbContext db, GitMirrors git, SampleQueries samples, Thresholds thresholds, RunScheduler scheduler, TimeProvider clock, ILogger<BisectionService> log)
{
    public async Task StartAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).SingleAsync(r => r.Id == runId, ct);
        if (run.BaselineCommit is not { } good) return;
        var regressions = await db.Set<VerdictRow>().AsNoTracking()
            .Where(v => v.RunId == runId && v.Verdict == VerdictNames.Regression && v.Subject != Subjects.History)
            .ToListAsync(ct);
        foreach (var group in regressions.GroupBy(v => (v.MachineId, v.Variant)))
        {
            if (await db.Set<BisectionRow>().AnyAsync(b => b.RunId == runId && b.MachineId == group.Key.MachineId && b.Variant == group.Key.Variant, ct))
                continue;
            var target = group
                .OrderBy(v => v.Subject switch { Subjects.Bug => 0, Subjects.Test => 1, _ => 2 })
                .ThenByDescending(v => v.Shift is { } s && v.BaselineMedian is { } m && m != 0 ? Math.Abs(s / m) : 0)
                .First();
            var commits = await git.RangeAsync(run.Repository.Url, good, run.Commit, ct);
            // Nothing untested between them: the candidate itself is the first bad commit; no bisection needed.
            if (commits.Count < 2) continue;
            var now = clock.GetUtcNow();
            var row = new BisectionRow
            {
                Id = Guid.CreateVersion7(now), RunId = runId, MachineId = target.MachineId, Variant = target.Variant,
                Subject = target.Subject, Name = target.Name, GoodCommit = good, BadCommit = run.Commit,
                Commits = string.Join(' ', commits), Low = -1, High = commits.Count - 1,
                MaxSteps = RunJudge.SpecOf(run).BisectSteps, CreatedAt = now, UpdatedAt = now,
            };
            db.Set<BisectionRow>().Add(row);
            await db.SaveChangesAsync(ct);
            log.LogInformation("Run {RunId}: bisecting {Subject} {Name} over {Count} commits", runId, target.Subject, target.Name, commits.Count);
            await AdvanceAsync(row.Id, ct);
        }
    }

    /// <summary>A bisection step's run ended: judge it and move on.</summary>
    public async Task StepEndedAsync(Guid stepRunId, CancellationToken ct)
    {
        var id = await db.Set<BisectionRow>().Where(b => b.StepRunId == stepRunId && b.State == BisectionStates.Running)
            .Select(b => (Guid?)b.Id).FirstOrDefaultAsync(ct);
        if (id is { } bisectionId) await AdvanceAsync(bisectionId, ct);
    }

    /// <summary>Judges every step whose boots exist, then schedules the next one or ends the bisection.</summary>
    private async Task AdvanceAsync(Guid bisectionId, CancellationToken ct)
    {
        var b = await db.Set<BisectionRow>().SingleAsync(x => x.Id == bisectionId, ct);
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).SingleAsync(r => r.Id == b.RunId, ct);
        var pipeline = RunJudge.PipelineOf(run);
        if (pipeline is null) return;
        var spec = pipeline.Judgement;
        var commits = b.Commits.Split(' ');
        var good = await samples.OfCommitAsync(run.RepositoryId, b.GoodCommit, run.PipelinePath, b.MachineId, b.Variant, ct);
        var bad = await samples.OfCommitAsync(run.RepositoryId, b.BadCommit, run.PipelinePath, b.MachineId, b.Variant, ct);
        var lookup = await thresholds.ForAsync(b.MachineId, run.PipelinePath, b.Variant, spec, ct);

        while (b.State == BisectionStates.Running)
        {
            if (b.High - b.Low <= 1)
            {
                b.State = BisectionStates.Done;
                b.FirstBadCommit = commits[b.High];
                break;
            }
            var mid = (b.Low + b.High) / 2;
            var commit = commits[mid];
            var step = await samples.OfCommitAsync(run.RepositoryId, commit, run.PipelinePath, b.MachineId, b.Variant, ct);
            var stepRunEnded = b.StepRunId is { } stepRun && b.StepCommit == commit
                && await db.Runs.AnyAsync(r => r.Id == stepRun && r.EndedAt != null, ct);
            if (step.Count < pipeline.Boot.Count && !stepRunEnded)
            {
                if (b.StepCommit == commit && b.StepRunId is not null) break; // its run is still going
                if (b.Steps >= b.MaxSteps)
                {
                    b.State = BisectionStates.Capped;
                    break;
                }
                var yaml = await db.Runs.AsNoTracking().Where(r => r.RepositoryId == run.RepositoryId && r.Commit == commit && r.PipelinePath == run.PipelinePath)
                    .Select(r => r.PipelineYaml).FirstOrDefaultAsync(ct)
                    ?? await git.ReadAsync(run.Repository.Url, ["show", $"{commit}:{run.PipelinePath}"], ct);
                if (yaml is null)
                {
                    b.State = BisectionStates.Failed;
                    b.Evidence += $"{Short(commit)}: has no {run.PipelinePath}\n";
                    break;
                }
                var ids = await scheduler.ScheduleAsync([new ScheduledRun(RunKinds.Bisect, run.Id, run.RepositoryId, null, commit, run.PipelinePath, yaml,
                    b.MachineId, b.Variant, pipeline.Boot.Count)], ct);
                b.StepCommit = commit;
                b.StepRunId = ids[0];
                b.Steps++;
                break;
            }
            if (step.Count == 0)
            {
                b.State = BisectionStates.Failed;
                b.Evidence += $"{Short(commit)}: no boots (the step's build or boots failed)\n";
                break;
            }

            var (isBad, evidence) = Judge(b, good, step, bad, spec, lookup);
            b.Evidence += $"{Short(commit)}: {(isBad ? "bad" : "good")}: {evidence}\n";
            if (isBad) b.High = mid;
            else b.Low = mid;
            b.StepCommit = null;
            b.StepRunId = null;
        }
        b.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        if (b.State != BisectionStates.Running)
            log.LogInformation("Bisection {Id}: {State}, first bad commit {Commit}", b.Id, b.State, b.FirstBadCommit);
    }

    internal static (bool Bad, string Evidence) Judge(
        BisectionRow b, IReadOnlyList<BootSample> good, IReadOnlyList<BootSample> step, IReadOnlyList<BootSample> bad,
        Redox.Lab.Contracts.Pipelines.JudgeSpec spec, VerdictEngine.ThresholdLookup lookup)
    {
        var result = VerdictEngine.Judge(good, step, spec, lookup).FirstOrDefault(r => r.Subject == b.Subject && r.Name == b.Name);
        if (b.Subject is Subjects.Bug or Subjects.Test)
        {
            var seen = result?.Verdict is VerdictNames.Regression or VerdictNames.Known;
            return (seen, result?.Detail ?? $"not seen in {step.Count} boots");
        }
        if (result is null) return (false, $"{b.Name} not measured in {step.Count} boots");
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{result.Verdict}, median {result.CandidateMedian:G6} against good {result.BaselineMedian:G6} {result.Unit}, p = {result.P:G3}, {step.Count} boots");
        if (result.Verdict == VerdictNames.Regression) return (true, text);
        if (result.Verdict != VerdictNames.Inconclusive) return (false, text);
        var badMedian = ShiftComparison.Median(VerdictEngine.Series(bad, b.Name));
        var nearerBad = result.CandidateMedian is { } c && result.BaselineMedian is { } g && Math.Abs(c - badMedian) < Math.Abs(c - g);
        return (nearerBad, text + $"; nearer the {(nearerBad ? "bad" : "good")} commit's median {(nearerBad ? badMedian : result.BaselineMedian):G6}");
    }

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
}
