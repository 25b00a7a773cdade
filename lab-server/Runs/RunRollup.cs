using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Runs;

/// <summary>How a run ended, from how its jobs ended.</summary>
public static class RunOutcomes
{
    /// <summary>The worst of the jobs' outcomes (<see cref="OutcomeNames.Worst"/>); pending while any job is, or with no jobs.</summary>
    public static Outcome RollUp(IEnumerable<Outcome> jobOutcomes)
    {
        Outcome? worst = null;
        foreach (var o in jobOutcomes)
        {
            if (o == Outcome.Pending) return Outcome.Pending;
            worst = worst is { } w ? OutcomeNames.Worst(w, o) : o;
        }
        return worst ?? Outcome.Pending;
    }
}

/// <summary>
/// Ends a run once all its jobs ended. Call inside the transaction that ended a job, after queuing its retry
/// (JobRetries): only the last attempt of each variant and machine counts, so a retried infrastructure
/// failure leaves the run pending until the retry ends.
/// </summary>
public sealed class RunRollup(LabDbContext db)
{
    public async Task RollUpAsync(Guid runId, DateTimeOffset now, CancellationToken ct)
    {
        // Not the last job: another of the run's jobs is unfinished and no one is ending it (its row is not locked).
        // Locking that row keeps it unfinished until this transaction commits, so its own end rolls the run up later.
        // Without this, the jobs of a run ending together queued one by one on the run's row below (bench/scale).
        if (db.Database.CurrentTransaction is not null && (await db.Database.SqlQuery<int>($"""
                SELECT 1 AS "Value" FROM jobs WHERE run_id = {runId} AND state <> {JobStates.Ended}
                LIMIT 1 FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct)).Count > 0)
            return;

        // Lock the run so two jobs ending at once cannot both see the other still running:
        // the second waits here, then (read committed) counts with the first one's update visible.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM runs WHERE id = {runId} FOR UPDATE", ct);
        var jobs = await db.Jobs.Where(j => j.RunId == runId)
            .Select(j => new { j.Variant, j.MachineId, j.Attempt, j.State, j.Outcome })
            .ToListAsync(ct);
        var last = jobs.GroupBy(j => (j.Variant, j.MachineId)).Select(g => g.MaxBy(j => j.Attempt)!).ToList();
        // An infrastructure failure retried on another machine (JobRetries) is superseded by that retry's attempt.
        last.RemoveAll(j => j.State == JobStates.Ended && j.Outcome.Kind() == OutcomeKind.Infrastructure
            && jobs.Any(o => o.Variant == j.Variant && o.MachineId != j.MachineId && o.Attempt > j.Attempt));
        if (last.Count == 0 || last.Any(j => j.State != JobStates.Ended)) return;

        var outcome = RunOutcomes.RollUp(last.Select(j => j.Outcome));
        await db.Runs.Where(r => r.Id == runId && r.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Outcome, outcome).SetProperty(r => r.EndedAt, now), ct);
    }
}
