using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Jobs;

/// <summary>How an agent's call on one of its jobs went.</summary>
public enum JobCallStatus
{
    Ok,
    /// <summary>No such job.</summary>
    NotFound,
    /// <summary>The job was claimed by another agent (or by none).</summary>
    NotYours,
    /// <summary>A console chunk past the stored lines.</summary>
    Gap,
    /// <summary>The job has ended (completed, cancelled, agent-lost): nothing more is stored for it.</summary>
    Ended,
    /// <summary>The report does not fit the job (a boot index at or past the job's boot count).</summary>
    Invalid,
}

/// <summary>What an agent reports about a job it holds: heartbeats, console, boots, the end. Every call is safe to repeat.</summary>
public sealed class AgentJobs(
    LabDbContext db, NpgsqlDataSource dataSource, JobRetries retries, RunRollup rollup, ProfileStore profiles, TimeProvider clock, IOptionsSnapshot<LabOptions> options,
    LateResults late)
{
    /// <summary>
    /// Renews the lease; null for an unknown job. Continue is false when the agent must stop (ended, or not its job);
    /// Cancel is true when a user cancelled the running job (the lease is still renewed: the agent powers off and completes).
    /// </summary>
    public async Task<(bool Continue, bool Cancel)?> HeartbeatAsync(Guid agentId, Guid jobId, CancellationToken ct)
    {
        var lease = clock.GetUtcNow() + options.Value.Lease;
        var renewed = await db.Jobs
            .Where(j => j.Id == jobId && j.AgentId == agentId && j.State == JobStates.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, lease), ct);
        if (renewed == 1)
        {
            var cancel = await db.Jobs.AnyAsync(j => j.Id == jobId && j.CancelRequestedAt != null, ct);
            return (!cancel, cancel);
        }
        return await db.Jobs.AnyAsync(j => j.Id == jobId, ct) ? (false, false) : null;
    }

    /// <summary>Appends a console chunk by offset; returns the stored count (the agent's next offset).</summary>
    public async Task<(JobCallStatus Status, long NextOffset)> AppendConsoleAsync(Guid agentId, Guid jobId, ConsoleChunk chunk, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        // The row lock serialises appends to one job, so the counts read here stay true until commit.
        long stored, bytes, dropped;
        string state;
        bool lost;
        await using (var read = new NpgsqlCommand("SELECT agent_id, console_count, state, console_bytes, console_dropped, outcome FROM jobs WHERE id = $1 FOR UPDATE", connection, tx))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var reader = await read.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return (JobCallStatus.NotFound, 0);
            if (reader.IsDBNull(0) || reader.GetGuid(0) != agentId) return (JobCallStatus.NotYours, 0);
            stored = reader.GetInt64(1);
            state = reader.GetString(2);
            bytes = reader.GetInt64(3);
            dropped = reader.GetInt64(4);
            lost = reader.GetString(5) == Outcome.AgentLost.ToName();
        }

        var plan = ConsolePlan.For(stored, chunk.Offset, chunk.Lines.Count);
        if (plan.Gap) return (JobCallStatus.Gap, stored);
        if (plan.Take(chunk.Lines.Count) == 0) return (JobCallStatus.Ok, stored);
        // A retried chunk that is all stored is fine (above); new lines after the end are not, except for a job that
        // ended agent-lost: its holder's spooled lines arrive after an outage (LateResults).
        if (state != JobStates.Running && !lost) return (JobCallStatus.Ended, stored);

        // The job's boots' counters (a handful of rows), under the job's row lock like the job's own.
        var boots = new Dictionary<int, BootConsole>();
        await using (var read = new NpgsqlCommand("SELECT boot, lines, bytes, dropped FROM console_boots WHERE job_id = $1", connection, tx))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var reader = await read.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                boots[reader.GetInt32(0)] = new BootConsole { Lines = reader.GetInt64(1), Bytes = reader.GetInt64(2), Dropped = reader.GetInt64(3) };
        }
        var bootsDropped = boots.Values.Sum(b => b.Dropped);

        // Line length, per-boot and per-job caps (ConsoleLimits): validation there, storage here.
        var limited = ConsoleLimits.Apply(chunk.Lines.Skip(plan.Skip), chunk.Offset + plan.Skip, stored - dropped - bootsDropped, bytes, dropped, boots, options.Value.Limits);
        if (limited.Lines.Count > 0)
        {
            await using var copy = await connection.BeginBinaryImportAsync(
                "COPY console_lines (job_id, line_no, boot, host_time, text) FROM STDIN (FORMAT BINARY)", ct);
            foreach (var line in limited.Lines)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(jobId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(line.LineNo, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(line.Boot, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(line.HostTime.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(line.Text, NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }

        await using (var update = new NpgsqlCommand("UPDATE jobs SET console_count = $2, console_bytes = $3, console_dropped = $4 WHERE id = $1", connection, tx))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            update.Parameters.Add(new NpgsqlParameter { Value = plan.Next, NpgsqlDbType = NpgsqlDbType.Bigint });
            update.Parameters.Add(new NpgsqlParameter { Value = limited.StoredBytes, NpgsqlDbType = NpgsqlDbType.Bigint });
            update.Parameters.Add(new NpgsqlParameter { Value = limited.Dropped, NpgsqlDbType = NpgsqlDbType.Bigint });
            await update.ExecuteNonQueryAsync(ct);
        }
        foreach (var (boot, counts) in boots.Where(b => b.Value.Changed))
        {
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO console_boots (job_id, boot, lines, bytes, dropped) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (job_id, boot) DO UPDATE SET lines = EXCLUDED.lines, bytes = EXCLUDED.bytes, dropped = EXCLUDED.dropped
                """, connection, tx);
            upsert.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            upsert.Parameters.Add(new NpgsqlParameter { Value = boot, NpgsqlDbType = NpgsqlDbType.Integer });
            upsert.Parameters.Add(new NpgsqlParameter { Value = counts.Lines, NpgsqlDbType = NpgsqlDbType.Bigint });
            upsert.Parameters.Add(new NpgsqlParameter { Value = counts.Bytes, NpgsqlDbType = NpgsqlDbType.Bigint });
            upsert.Parameters.Add(new NpgsqlParameter { Value = counts.Dropped, NpgsqlDbType = NpgsqlDbType.Bigint });
            await upsert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (JobCallStatus.Ok, plan.Next);
    }

    /// <summary>Stores one boot, replacing an earlier report of the same index with all its stages, metrics, tests and findings.</summary>
    public async Task<JobCallStatus> ReportBootAsync(Guid agentId, Guid jobId, BootReport report, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var job = await db.LockJobAsync(jobId, ct);
        if (job is null) return JobCallStatus.NotFound;
        if (job.AgentId != agentId) return JobCallStatus.NotYours;
        // Boots only while the job runs, and only the boots it was given: no boots after the end, none past the count.
        if (job.State != JobStates.Running && job.Outcome != Outcome.AgentLost) return JobCallStatus.Ended;
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == job.RunId)
            .Select(r => new { r.BootCount, r.PipelineYaml, r.PipelinePath }).SingleAsync(ct);
        if (JobOutcomes.ExpectedBoots(run.BootCount, run.PipelineYaml, run.PipelinePath) is { } expected && report.Index >= expected)
            return JobCallStatus.Invalid;
        report = BootLimits.Apply(report, options.Value.Limits);

        // Children go with the boot (ON DELETE CASCADE).
        await db.Boots.Where(b => b.JobId == jobId && b.Index == report.Index).ExecuteDeleteAsync(ct);
        // Folded now with the job's kernel.elf if it is stored; an ELF stored later folds it again (ProfileStore).
        var profile = await profiles.FoldAsync(jobId, report.Profile, ct);
        db.Boots.Add(new BootRow
        {
            Id = Guid.CreateVersion7(),
            JobId = jobId,
            Index = report.Index,
            Outcome = report.Outcome,
            Detail = report.Detail,
            StartedAt = report.StartedAt,
            EndedAt = report.EndedAt,
            TscHz = report.TscHz,
            CorruptMarkers = report.CorruptMarkers,
            Profile = profile,
            Stages = report.Stages.Select((s, i) => new BootStageRow
            {
                Name = s.Name, Source = s.Source, KernelNs = s.KernelNs, HostNs = s.HostNs, Ordinal = i,
            }).ToList(),
            Metrics = report.Metrics.Select(m => new MetricRow
            {
                Name = m.Name, Value = m.Value, Unit = m.Unit, Samples = m.Samples, Stat = m.Stat,
            }).ToList(),
            Tests = report.Tests.Select(t => new TestResultRow { Name = t.Name, Result = t.Result, Detail = t.Detail }).ToList(),
            Findings = report.Findings.Select(FindingRecords.ToRow).ToList(),
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return JobCallStatus.Ok;
    }

    /// <summary>
    /// Ends the job and, when it was the run's last, the run. A job already ended stays as it is, except that its holder's
    /// kernel outcome replaces agent-lost (<see cref="LateResults"/>: the agent spooled through an outage).
    /// </summary>
    public async Task<JobCallStatus> CompleteAsync(Guid agentId, Guid jobId, JobCompletion completion, CancellationToken ct)
    {
        // The agent's detail is stored and shown: bounded like every other text an agent sends.
        completion = completion with { Detail = BootLimits.BoundOrNull(completion.Detail) };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var job = await db.LockJobAsync(jobId, ct);
        if (job is null) return JobCallStatus.NotFound;
        if (job.AgentId != agentId) return JobCallStatus.NotYours;
        var now = clock.GetUtcNow();

        // The outcome from what the server stored, not from the agent's word (JobOutcomes); late results too.
        var boots = await db.Boots.AsNoTracking().Where(b => b.JobId == jobId)
            .Select(b => new { b.Index, b.Outcome }).ToDictionaryAsync(b => b.Index, b => b.Outcome, ct);
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == job.RunId)
            .Select(r => new { r.BootCount, r.PipelineYaml, r.PipelinePath }).SingleAsync(ct);
        var (outcome, detail) = JobOutcomes.Derive(completion, job.CancelRequestedAt is not null, boots,
            JobOutcomes.ExpectedBoots(run.BootCount, run.PipelineYaml, run.PipelinePath));
        var bootDrops = await db.Set<ConsoleBootRow>().AsNoTracking().Where(b => b.JobId == jobId && b.Dropped > 0)
            .OrderBy(b => b.Boot).Select(b => new { b.Boot, b.Dropped }).ToListAsync(ct);
        var consoleDropped = job.ConsoleDropped + bootDrops.Sum(b => b.Dropped);
        if (consoleDropped > 0)
        {
            var perBoot = bootDrops.Count == 0 ? "" : " (" + string.Join(", ", bootDrops.Select(b => $"{(b.Boot < 0 ? "build" : $"boot {b.Boot}")}: {b.Dropped} past its own limit")) + ")";
            detail = $"{detail}{(detail is null ? "" : "; ")}console: {consoleDropped} lines past the lab's limit counted, not stored{perBoot}";
        }

        if (job.State == JobStates.Ended)
        {
            await late.AcceptAsync(job, new JobCompletion(outcome, detail), now, ct);
            await tx.CommitAsync(ct);
            return JobCallStatus.Ok;
        }

        job.State = JobStates.Ended;
        job.Outcome = outcome;
        job.Detail = detail;
        job.EndedAt = now;
        job.LeaseExpiresAt = null;
        await db.SaveChangesAsync(ct);
        await retries.RetryIfInfrastructureAsync(job.Id, now, ct);
        await rollup.RollUpAsync(job.RunId, now, ct);
        await tx.CommitAsync(ct);
        return JobCallStatus.Ok;
    }


}
