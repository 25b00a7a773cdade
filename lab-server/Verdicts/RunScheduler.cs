using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Redox.Lab.Server.Verdicts;

/// <summary>A run the judge asks for: one commit, one machine, one variant, a number of boots.</summary>
public sealed record ScheduledRun(
    string Kind, Guid ParentRunId, Guid RepositoryId, string? Branch, string Commit,
    string PipelinePath, string PipelineYaml, Guid MachineId, string Variant, int BootCount);

/// <summary>
/// Stores lab-scheduled runs with their one job each, in the order given. Jobs are created here rather than by
/// CreateJobsForRunJob so that their creation times, which is the order agents claim them in, follow the list:
/// baseline then candidate, round after round (A B A B).
/// </summary>
public sealed class RunScheduler(LabDbContext db, TimeProvider clock)
{
    public async Task<IReadOnlyList<Guid>> ScheduleAsync(IReadOnlyList<ScheduledRun> runs, CancellationToken ct)
    {
        if (runs.Count == 0) return [];
        var now = clock.GetUtcNow();
        var ids = new List<Guid>(runs.Count);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            var at = now.AddMilliseconds(i);
            var id = Guid.CreateVersion7(at);
            db.Runs.Add(new RunRow
            {
                Id = id, RepositoryId = r.RepositoryId, Branch = r.Branch, Commit = r.Commit,
                PipelinePath = r.PipelinePath, PipelineYaml = r.PipelineYaml, Outcome = Outcome.Pending, CreatedAt = at,
                Kind = r.Kind, ParentRunId = r.ParentRunId, OnlyMachineId = r.MachineId, OnlyVariant = r.Variant, BootCount = r.BootCount,
            });
            db.Jobs.Add(new JobRow
            {
                Id = Guid.CreateVersion7(at), RunId = id, Variant = r.Variant, MachineId = r.MachineId,
                State = JobStates.Queued, Outcome = Outcome.Pending, CreatedAt = at,
            });
            ids.Add(id);
        }
        await db.SaveChangesAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobWakeups.Channel}, {ids[0].ToString()})", ct);
        await tx.CommitAsync(ct);
        return ids;
    }
}
