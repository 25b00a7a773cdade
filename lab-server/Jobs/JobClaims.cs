using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Jobs;

/// <summary>Hands queued jobs to agents: one job to one agent, the oldest first.</summary>
public sealed class JobClaims(LabDbContext db, NpgsqlDataSource dataSource, JobWakeups wakeups, TimeProvider clock, IOptionsSnapshot<LabOptions> options)
{
    /// <summary>How often a waiter looks again without a wake-up: only a safety net for a lost LISTEN connection.</summary>
    internal static readonly TimeSpan Recheck = TimeSpan.FromSeconds(5);

    /// <summary>Claims a job for <paramref name="agentId"/>, waiting up to <paramref name="wait"/> for one; null when none came.</summary>
    public async Task<JobAssignment?> NextAsync(Guid agentId, TimeSpan wait, CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        while (true)
        {
            var wakeup = wakeups.NextWakeupFor(agentId);
            if (await TryClaimAsync(agentId, ct) is { } jobId)
                return await AssignmentAsync(jobId, ct);

            var remaining = wait - clock.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero) return null;
            try
            {
                await wakeup.WaitAsync(remaining < Recheck ? remaining : Recheck, clock, ct);
            }
            catch (TimeoutException)
            {
                // Look once more; the loop ends when the wait is spent.
            }
        }
    }

    private async Task<Guid?> TryClaimAsync(Guid agentId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // SKIP LOCKED: concurrent claimers never block on, nor both take, the same row.
        // An agent asks while one of its machines is idle, but a job names its machine: a job for an idle machine goes
        // first, the oldest of those, so an agent with a busy and an idle machine is not handed work it can only hold
        // until the busy one is free (MachinePool.AcquireAsync) while the idle one's jobs wait. The agent's running
        // jobs are few; the (state, created_at) index finds them.
        await using var cmd = dataSource.CreateCommand("""
            UPDATE jobs SET state = 'running', agent_id = $1, assigned_at = $2, lease_expires_at = $3
            WHERE id = (
                SELECT j.id FROM jobs j JOIN machines m ON m.id = j.machine_id
                WHERE j.state = 'queued' AND m.agent_id = $1 AND m.active
                  -- Machines/HEALTH.md: good machines, and unknown ones with no health check pending, take jobs.
                  AND (m.health = 'good' OR (m.health = 'unknown' AND NOT m.health_check_requested))
                ORDER BY j.machine_id IN (SELECT r.machine_id FROM jobs r WHERE r.state = 'running' AND r.agent_id = $1),
                         j.created_at, j.id
                LIMIT 1
                FOR UPDATE OF j SKIP LOCKED)
            RETURNING id
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = agentId, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = now + options.Value.Lease, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteScalarAsync(ct) is Guid id ? id : null;
    }

    private async Task<JobAssignment> AssignmentAsync(Guid jobId, CancellationToken ct) =>
        await db.Jobs.AsNoTracking()
            .Where(j => j.Id == jobId)
            .Select(j => new JobAssignment(
                j.Id, j.RunId, j.Run.Repository.Url, j.Run.Commit, j.Run.PipelinePath, j.Run.PipelineYaml,
                j.Variant, j.Machine.Name, options.Value.LeaseSeconds, j.Run.BootCount, j.Run.Repository.Trusted))
            .SingleAsync(CancellationToken.None) with { Limits = BootLimits.Published(options.Value.Limits) };
}
