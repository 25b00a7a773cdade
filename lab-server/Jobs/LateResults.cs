using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// The completion of a job the lease expiry already failed as agent-lost, sent by the agent that held it once it
/// could reach the server again (its spool: lab-agent/Server/SPOOL.md). The boot happened and its console and
/// reports are stored by offset and index like any others, so the job takes the outcome the agent saw
/// instead of agent-lost, and the retry the expiry queued is withdrawn while no agent has claimed it yet.
/// What the server checks: the caller is the job's holder (AgentJobs), the job ended as agent-lost and nothing
/// else, and the late outcome is the kernel's (success or kernel fault). A late infra-error or cancelled (the agent
/// stopped the boot because the heartbeat said the job was lost) changes nothing: the retry stays.
/// </summary>
public sealed class LateResults(LabDbContext db, RunRollup rollup, ILogger<LateResults> log)
{
    /// <summary>Whether a completion that arrives after agent-lost replaces it.</summary>
    public static bool Accepts(Outcome late) => late.Kind() is OutcomeKind.Success or OutcomeKind.Kernel;

    /// <summary>Call inside the completion's transaction, holding the job's row lock, for a job that ended agent-lost.</summary>
    public async Task AcceptAsync(JobRow job, JobCompletion completion, DateTimeOffset now, CancellationToken ct)
    {
        if (job.Outcome != Outcome.AgentLost || !Accepts(completion.Outcome)) return;

        var lostDetail = job.Detail;
        job.Outcome = completion.Outcome;
        job.Detail = completion.Detail;
        job.EndedAt = now;
        await db.SaveChangesAsync(ct);

        // The retry JobRetries queued for this attempt: same run and variant, the next attempt, not claimed yet.
        var withdrawn = await db.Jobs
            .Where(j => j.RunId == job.RunId && j.Variant == job.Variant && j.Attempt == job.Attempt + 1 && j.State == JobStates.Queued && j.AgentId == null)
            .ExecuteDeleteAsync(ct);
        log.LogWarning("Job {JobId}: results arrived after it was failed as agent-lost ({Lost}); it ends {Outcome}, {Withdrawn} queued retry withdrawn",
            job.Id, lostDetail, completion.Outcome.ToName(), withdrawn);

        // A run that had ended (agent-lost on its last attempt) ends again with the true outcome, and is judged again.
        await db.Runs.Where(r => r.Id == job.RunId && r.EndedAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.EndedAt, (DateTimeOffset?)null).SetProperty(r => r.JudgedAt, (DateTimeOffset?)null), ct);
        await rollup.RollUpAsync(job.RunId, now, ct);
    }
}
