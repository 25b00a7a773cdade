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
/// bad when the verdict says regression (a bug seen, a test failing). An inconclusive performance step gets more
/// boots first, as a run's verdict does (<see cref="SequentialDesign"/>: good then step, a round at a time, up to the
/// pipeline's cap); still inconclusive at the cap, it is bad when its median is nearer the bad commit's than the
/// good one's, and its evidence says so.
/// One bisection per run, machine and variant: for the regression that matters most (a bug, then a failing
/// test, then the largest relative shift); the others of that run usually share its cause. A lasting step that
/// change-point detection found in the history gets its own (<see cref="StartHistoryAsync"/>).
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
            if (await db.Set<BisectionRow>().AnyAsync(b => b.RunId == runId && b.MachineId == group.Key.MachineId && b.Variant == group.Key.Variant
                                                           && b.Subject != Subjects.History, ct))
                continue;
            var target = group
                .OrderBy(v => v.Subject switch { Subjects.Bug => 0, Subjects.Test => 1, _ => 2 })
                .ThenByDescending(v => v.Shift is { } s && v.BaselineMedian is { } m && m != 0 ? Math.Abs(s / m) : 0)
                .First();
            await BeginAsync(run, target.MachineId, target.Variant, target.Subject, target.Name, good, run.Commit, ct);
        }
    }

    /// <summary>
    /// Bisects a lasting step of the default branch's history (<see cref="ChangePoints"/>, a verdict of subject
    /// <c>history</c> on <paramref name="runId"/>): between the last tested commit before the step (good) and the
    /// first tested commit after it (bad), when commits the lab never tested lie between them (a push of several
    /// commits tests only its head). Each step is judged on the step's metric or stage, as a run's bisection is.
    /// Idempotent: the judge may run twice.
    /// </summary>
    public async Task StartHistoryAsync(Guid runId, Guid machineId, string variant, string name, string good, string bad, CancellationToken ct)
    {
        if (await db.Set<BisectionRow>().AnyAsync(b => b.RunId == runId && b.MachineId == machineId && b.Variant == variant
                                                       && b.Subject == Subjects.History && b.Name == name, ct))
            return;
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).SingleAsync(r => r.Id == runId, ct);
        await BeginAsync(run, machineId, variant, Subjects.History, name, good, bad, ct);
    }

    /// <summary>Opens a bisection over the commits after <paramref name="good"/> up to <paramref name="bad"/> and takes its first step.</summary>
    private async Task BeginAsync(RunRow run, Guid machineId, string variant, string subject, string name, string good, string bad, CancellationToken ct)
    {
        var commits = await git.RangeAsync(run.Repository.Url, good, bad, ct);
        // Nothing untested between them: the bad commit itself is the first bad commit; no bisection needed.
        if (commits.Count < 2) return;
        var now = clock.GetUtcNow();
        var row = new BisectionRow
        {
            Id = Guid.CreateVersion7(now), RunId = run.Id, MachineId = machineId, Variant = variant,
            Subject = subject, Name = name, GoodCommit = good, BadCommit = bad,
            Commits = string.Join(' ', commits), Low = -1, High = commits.Count - 1,
            MaxSteps = RunJudge.SpecOf(run).BisectSteps, CreatedAt = now, UpdatedAt = now,
        };
        db.Set<BisectionRow>().Add(row);
        await db.SaveChangesAsync(ct);
        log.LogInformation("Run {RunId}: bisecting {Subject} {Name} over {Count} commits", run.Id, subject, name, commits.Count);
        await AdvanceAsync(row.Id, ct);
    }

    /// <summary>A bisection run ended (a step, or an extra round of a step): judge what it can and move on.</summary>
    public async Task StepEndedAsync(Guid stepRunId, CancellationToken ct)
    {
        var step = await db.Runs.AsNoTracking().Where(r => r.Id == stepRunId)
            .Select(r => new { r.ParentRunId, r.OnlyMachineId, r.OnlyVariant }).SingleOrDefaultAsync(ct);
        if (step is null) return;
        var ids = await db.Set<BisectionRow>()
            .Where(b => b.State == BisectionStates.Running
                        && (b.StepRunId == stepRunId || (b.RunId == step.ParentRunId && b.MachineId == step.OnlyMachineId && b.Variant == step.OnlyVariant)))
            .Select(b => b.Id).ToListAsync(ct);
        foreach (var id in ids) await AdvanceAsync(id, ct);
    }

    /// <summary>Judges every step whose boots exist, then schedules the next one (or more boots of this one) or ends the bisection.</summary>
    private async Task AdvanceAsync(Guid bisectionId, CancellationToken ct)
    {
        var b = await db.Set<BisectionRow>().SingleAsync(x => x.Id == bisectionId, ct);
        var run = await db.Runs.AsNoTracking().Include(r => r.Repository).SingleAsync(r => r.Id == b.RunId, ct);
        var pipeline = RunJudge.PipelineOf(run);
        if (pipeline is null) return;
        var spec = pipeline.Judgement;
        // Extra boots of an unclear step follow the run's own design: step boots per side per round, up to the cap.
        var design = new SequentialDesign(spec.Step, spec.MaxBoots > 0 ? spec.MaxBoots : pipeline.Boot.Count);
        var commits = b.Commits.Split(' ');
        var ours = db.Runs.AsNoTracking().Where(r => r.ParentRunId == b.RunId && r.Kind == RunKinds.Bisect
                                                     && r.OnlyMachineId == b.MachineId && r.OnlyVariant == b.Variant);
        // Every boot of this bisection so far is judged at once: wait for all of them (a step and its extra rounds).
        if (await ours.AnyAsync(r => r.EndedAt == null, ct)) return;
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
            var scheduled = await ours.Where(r => r.Commit == commit).SumAsync(r => r.BootCount ?? 0, ct);
            if (step.Count < pipeline.Boot.Count && scheduled == 0)
            {
                // 1. Not booted enough yet (the lab may have boots of it already, from a push): boot it.
                if (b.Steps >= b.MaxSteps)
                {
                    b.State = BisectionStates.Capped;
                    break;
                }
                if (await PipelineYamlAtAsync(run, commit, ct) is not { } yaml)
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

            // 2. Judge the step against the good commit; 3. unclear: another round, good then step (A B), up to
            //    the cap, as Pinpoint adds runs before it decides; 4. still unclear at the cap: the nearer median.
            var judged = Judge(b, good, step, bad, spec, lookup);
            var more = judged.Unclear ? design.MoreBoots(VerdictKind.Inconclusive, Math.Max(step.Count, scheduled), Math.Max(step.Count, scheduled)) : 0;
            if (more > 0 && await PipelineYamlAtAsync(run, b.GoodCommit, ct) is { } goodYaml && await PipelineYamlAtAsync(run, commit, ct) is { } stepYaml)
            {
                var ids = await scheduler.ScheduleAsync([
                    new ScheduledRun(RunKinds.Bisect, run.Id, run.RepositoryId, null, b.GoodCommit, run.PipelinePath, goodYaml, b.MachineId, b.Variant, more),
                    new ScheduledRun(RunKinds.Bisect, run.Id, run.RepositoryId, null, commit, run.PipelinePath, stepYaml, b.MachineId, b.Variant, more)], ct);
                b.StepCommit = commit;
                b.StepRunId = ids[1];
                log.LogInformation("Bisection {Id}: {Commit} unclear after {Boots} boots, {More} more per side", b.Id, Short(commit), step.Count, more);
                break;
            }
            b.Evidence += $"{Short(commit)}: {(judged.Bad ? "bad" : "good")}: {judged.Evidence}\n";
            if (judged.Bad) b.High = mid;
            else b.Low = mid;
            b.StepCommit = null;
            b.StepRunId = null;
        }
        b.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        if (b.State != BisectionStates.Running)
            log.LogInformation("Bisection {Id}: {State}, first bad commit {Commit}", b.Id, b.State, b.FirstBadCommit);
    }

    /// <summary>The pipeline file a commit builds with; an untrusted repository's commits never bring their own build recipe (Repositories/).</summary>
    private async Task<string?> PipelineYamlAtAsync(RunRow run, string commit, CancellationToken ct) =>
        !run.Repository.Trusted
            ? run.PipelineYaml
            : await db.Runs.AsNoTracking().Where(r => r.RepositoryId == run.RepositoryId && r.Commit == commit && r.PipelinePath == run.PipelinePath)
                  .Select(r => r.PipelineYaml).FirstOrDefaultAsync(ct)
              ?? await git.ReadAsync(run.Repository.Url, ["show", $"{commit}:{run.PipelinePath}"], ct);

    /// <summary>
    /// A step's verdict against the good commit. Bad: a regression (a bug seen, a test failing, a significant shift
    /// beyond the threshold). Unclear: an inconclusive performance verdict, which asks for more boots; when no more
    /// are allowed, <paramref name="Bad"/> says whether its median is nearer the bad commit's than the good one's.
    /// </summary>
    internal static (bool Bad, bool Unclear, string Evidence) Judge(
        BisectionRow b, IReadOnlyList<BootSample> good, IReadOnlyList<BootSample> step, IReadOnlyList<BootSample> bad,
        Redox.Lab.Contracts.Pipelines.JudgeSpec spec, VerdictEngine.ThresholdLookup lookup)
    {
        // A history step is about a metric or a stage: the step's verdict of that name.
        var result = VerdictEngine.Judge(good, step, spec, lookup).FirstOrDefault(r => r.Name == b.Name
            && (r.Subject == b.Subject || (b.Subject == Subjects.History && r.Subject is Subjects.Metric or Subjects.Stage)));
        if (b.Subject is Subjects.Bug or Subjects.Test)
        {
            var seen = result?.Verdict is VerdictNames.Regression or VerdictNames.Known;
            return (seen, false, result?.Detail ?? $"not seen in {step.Count} boots");
        }
        if (result is null) return (false, false, $"{b.Name} not measured in {step.Count} boots");
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{result.Verdict}, median {result.CandidateMedian:G6} against good {result.BaselineMedian:G6} {result.Unit}, p = {result.P:G3}, {step.Count} boots against {result.BaselineCount}");
        if (result.Verdict == VerdictNames.Regression) return (true, false, text);
        if (result.Verdict != VerdictNames.Inconclusive) return (false, false, text);
        var badMedian = ShiftComparison.Median(VerdictEngine.Series(bad, b.Name));
        var nearerBad = result.CandidateMedian is { } c && result.BaselineMedian is { } g && Math.Abs(c - badMedian) < Math.Abs(c - g);
        return (nearerBad, true, text + string.Create(CultureInfo.InvariantCulture,
            $"; still unclear at the cap: nearer the {(nearerBad ? "bad" : "good")} commit's median {(nearerBad ? badMedian : result.BaselineMedian):G6}"));
    }

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
}
