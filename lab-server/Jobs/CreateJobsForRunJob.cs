using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Machines;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Creates a run's jobs: one per pipeline variant per machine that has the variant's tags, on every enrolled
/// agent. Safe to run twice (Hangfire delivers at least once): a job is unique per run, variant and machine.
/// </summary>
public sealed class CreateJobsForRunJob(LabDbContext db, TimeProvider clock, IOptions<LabOptions> options, ILogger<CreateJobsForRunJob> log)
{
    public const string Queue = "runs";

    [AutomaticRetry(Attempts = 5)]
    public async Task RunAsync(Guid runId, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null)
        {
            log.LogWarning("Run {RunId} does not exist; nothing to schedule", runId);
            return;
        }
        if (run.EndedAt is not null) return;

        // The YAML was validated at push; loading it again gives the variants with their resolved tags.
        PipelineDefinition pipeline;
        try
        {
            pipeline = PipelineLoader.Load(run.PipelineYaml, run.PipelinePath);
        }
        catch (PipelineException ex)
        {
            // Only a server with another loader than the one that accepted the push gets here. Retrying would
            // fail the same way (and ScheduleStalledRunsJob would retry it for ever): end the run instead.
            await EndWithoutJobsAsync(runId, $"the pipeline no longer loads: {ex.Message}", clock.GetUtcNow(), ct);
            return;
        }
        // Machines whose agent is offline (not heard from for Lab:AgentOfflineSeconds) get no job while a matching
        // machine is online; when none is, the jobs wait for the offline ones, and expire if their agent does not
        // come back (ExpireQueuedJobsJob).
        var now = clock.GetUtcNow();
        var seenSince = now - options.Value.AgentOffline;
        var active = await db.Machines.AsNoTracking().Where(m => m.Active)
            .OrderBy(m => m.Agent.Name).ThenBy(m => m.Name)
            .Select(m => new { m.Id, m.AgentId, m.Tags, Online = m.Agent.LastSeen >= seenSince })
            .ToListAsync(ct);
        var agentOf = active.ToDictionary(m => m.Id, m => m.AgentId);
        List<(string Variant, Guid MachineId)> Plan(bool onlineOnly) => MachineMatching.Plan(pipeline.Variants,
                active.Where(m => m.Online || !onlineOnly).Select(m => (m.Id, (IReadOnlyList<string>)m.Tags)).ToList())
            // Runs the judge scheduled (baseline, extra, bisection, calibration boots) go to one machine and variant.
            .Where(p => (run.OnlyMachineId is null || p.MachineId == run.OnlyMachineId) && (run.OnlyVariant is null || p.Variant == run.OnlyVariant))
            .ToList();
        var plan = Plan(onlineOnly: true);
        if (plan.Count == 0) plan = Plan(onlineOnly: false);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Under the run's lock (the roll-up takes it too), so a run that ended meanwhile gets no new jobs.
        var ended = await db.Database
            .SqlQuery<bool>($"SELECT ended_at IS NOT NULL AS \"Value\" FROM runs WHERE id = {runId} FOR UPDATE")
            .SingleAsync(ct);
        if (ended) return;
        if (plan.Count == 0)
        {
            if (!await db.Jobs.AnyAsync(j => j.RunId == runId, ct))
                await EndWithoutJobsAsync(runId, $"no machine has tags [{string.Join(", ", MachineMatching.RequiredTags(pipeline.Variants))}]", now, ct);
        }
        else
        {
            foreach (var (variant, machineId) in plan)
            {
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO jobs (id, run_id, variant, machine_id, attempt, state, outcome, created_at, console_count)
                    VALUES ({Guid.CreateVersion7(now)}, {runId}, {variant}, {machineId}, 1, {JobStates.Queued}, {Outcome.Pending.ToName()}, {now}, 0)
                    ON CONFLICT (run_id, variant, machine_id, attempt) DO NOTHING
                    """, ct);
            }
            // Delivered when the transaction commits, so a woken agent always finds the jobs; only the agents of
            // the planned machines wake.
            foreach (var payload in JobWakeups.AgentPayloads(plan.Select(p => agentOf[p.MachineId])))
                await db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobWakeups.Channel}, {payload})", ct);
        }
        await tx.CommitAsync(ct);
    }

    private async Task EndWithoutJobsAsync(Guid runId, string detail, DateTimeOffset now, CancellationToken ct)
    {
        await db.Runs.Where(r => r.Id == runId && r.EndedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Outcome, Outcome.InfraError)
            .SetProperty(r => r.Detail, detail)
            .SetProperty(r => r.EndedAt, now), ct);
        log.LogWarning("Run {RunId}: {Detail}", runId, detail);
    }
}
