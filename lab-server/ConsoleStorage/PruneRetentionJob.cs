using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.ConsoleStorage;

/// <summary>
/// Deletes what retention no longer keeps (STORAGE.md): the consoles and artifacts of jobs that ended longer ago than
/// their pipeline's <see cref="RetentionOptions"/> days, recording each in <c>retention_prunes</c> so readers can say
/// so; runs, jobs, boots, stages, metrics, tests and findings stay (they are small, and the history charts and
/// verdicts need them). Then deletes the artifact files no row names any more (Artifacts/ArtifactSweep: a file shared by
/// several jobs stays while one names it). Also creates the console tables' partitions for the coming months. Recurring; safe to
/// run twice or on two servers at once.
/// </summary>
public sealed class PruneRetentionJob(
    LabDbContext db, NpgsqlDataSource dataSource, TimeProvider clock, IOptions<RetentionOptions> options, Artifacts.ArtifactSweep artifactFiles, ILogger<PruneRetentionJob> log)
{
    public const string RecurringId = "prune-retention";

    /// <summary>Every hour.</summary>
    public const string Cron = "17 * * * *";

    /// <summary>Jobs pruned per run.</summary>
    public const int Batch = 1000;

    /// <summary>Returns how many jobs it pruned something of.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await EnsurePartitionsAsync(now, ct);
        if (options.Value.ShortestDays() is not { } shortest)
        {
            await artifactFiles.RunAsync(ct);
            return 0;
        }

        // Jobs old enough for the shortest retention that still hold a console or artifacts not pruned yet.
        var oldest = now - TimeSpan.FromDays(shortest);
        var candidates = await db.Database.SqlQuery<Candidate>($"""
            SELECT j.id AS "JobId", j.ended_at AS "EndedAt", r.pipeline_path AS "PipelinePath",
                   p.console_pruned_at AS "ConsolePrunedAt", p.artifacts_pruned_at AS "ArtifactsPrunedAt"
            FROM jobs j JOIN runs r ON r.id = j.run_id LEFT JOIN retention_prunes p ON p.job_id = j.id
            WHERE j.state = 'ended' AND j.ended_at < {oldest}
              AND ((p.console_pruned_at IS NULL AND (j.console_count > 0 OR EXISTS (SELECT 1 FROM console_chunks c WHERE c.job_id = j.id)))
                OR (p.artifacts_pruned_at IS NULL AND EXISTS (SELECT 1 FROM artifacts a WHERE a.job_id = j.id)))
            ORDER BY j.ended_at
            LIMIT {Batch}
            """).ToListAsync(ct);

        var pruned = 0;
        foreach (var job in candidates)
        {
            var (consoleDays, artifactDays) = options.Value.For(job.PipelinePath);
            var age = now - job.EndedAt;
            var console = job.ConsolePrunedAt is null && consoleDays > 0 && age > TimeSpan.FromDays(consoleDays);
            var artifacts = job.ArtifactsPrunedAt is null && artifactDays > 0 && age > TimeSpan.FromDays(artifactDays);
            if (!console && !artifacts) continue;

            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM jobs WHERE id = {job.JobId} FOR UPDATE", ct);
            if (console)
            {
                await db.Database.ExecuteSqlAsync($"DELETE FROM console_lines WHERE job_id = {job.JobId}", ct);
                await db.Database.ExecuteSqlAsync($"DELETE FROM console_chunks WHERE job_id = {job.JobId}", ct);
            }
            if (artifacts)
                await db.Database.ExecuteSqlAsync($"DELETE FROM artifacts WHERE job_id = {job.JobId}", ct);
            DateTimeOffset? consoleAt = console ? now : null, artifactsAt = artifacts ? now : null;
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO retention_prunes (job_id, console_pruned_at, artifacts_pruned_at) VALUES ({job.JobId}, {consoleAt}, {artifactsAt})
                ON CONFLICT (job_id) DO UPDATE SET
                    console_pruned_at = coalesce(retention_prunes.console_pruned_at, excluded.console_pruned_at),
                    artifacts_pruned_at = coalesce(retention_prunes.artifacts_pruned_at, excluded.artifacts_pruned_at)
                """, ct);
            await tx.CommitAsync(ct);
            pruned++;
        }
        if (pruned > 0) log.LogInformation("Retention pruned the consoles or artifacts of {Count} jobs", pruned);
        // Every run, not only after pruning: files replaced by re-uploads and left by failed uploads go too.
        await artifactFiles.RunAsync(ct);
        return pruned;
    }

    /// <summary>This month's partitions and the next two exist before the first job id of each arrives.</summary>
    public async Task EnsurePartitionsAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var table in Partitions.Tables)
        {
            for (var m = 0; m < 3; m++)
            {
                await using var create = new NpgsqlCommand(Partitions.CreateSql(table, Partitions.MonthStart(now).AddMonths(m)), connection);
                try
                {
                    await create.ExecuteNonQueryAsync(ct);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation)
                {
                    // Rows of that month already sit in the default partition (the month was not created in time):
                    // they stay there, readable as any other; only the cheap pruning of that month is lost.
                    log.LogWarning("Partition {Partition} not created: {Error}", Partitions.Name(table, Partitions.MonthStart(now).AddMonths(m)), e.MessageText);
                }
            }
        }
    }

    private sealed record Candidate(Guid JobId, DateTimeOffset EndedAt, string PipelinePath, DateTimeOffset? ConsolePrunedAt, DateTimeOffset? ArtifactsPrunedAt);
}
