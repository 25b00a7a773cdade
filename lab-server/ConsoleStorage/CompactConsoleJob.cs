using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Redox.Lab.Dashboard.Pages.Run;

namespace Redox.Lab.Server.ConsoleStorage;

/// <summary>
/// Packs the raw console rows of jobs that ended <see cref="RetentionOptions.CompactAfterMinutes"/> ago into
/// compressed chunks (<see cref="ConsoleChunkCodec"/>) and deletes the rows, one job per transaction under the
/// job's row lock (the lock console uploads take), so a reader sees either the rows or the chunks. Recurring;
/// safe to run twice or on two servers at once.
/// </summary>
public sealed class CompactConsoleJob(NpgsqlDataSource dataSource, TimeProvider clock, IOptions<RetentionOptions> options, ILogger<CompactConsoleJob> log)
{
    public const string RecurringId = "compact-consoles";

    /// <summary>Every minute.</summary>
    public const string Cron = "* * * * *";

    /// <summary>Jobs per run: a backlog is worked off over several runs.</summary>
    public const int Batch = 200;

    /// <summary>Returns how many jobs' consoles it packed.</summary>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - TimeSpan.FromMinutes(options.Value.CompactAfterMinutes);
        var jobs = new List<Guid>();
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var select = new NpgsqlCommand("""
            SELECT j.id FROM jobs j
            WHERE j.state = 'ended' AND j.ended_at < $1 AND EXISTS (SELECT 1 FROM console_lines c WHERE c.job_id = j.id)
            ORDER BY j.ended_at LIMIT $2
            """, connection))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = cutoff.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            select.Parameters.Add(new NpgsqlParameter { Value = Batch, NpgsqlDbType = NpgsqlDbType.Integer });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) jobs.Add(reader.GetGuid(0));
        }

        var packed = 0;
        foreach (var job in jobs)
        {
            if (await CompactAsync(job, ct) > 0) packed++;
        }
        return packed;
    }

    /// <summary>Packs one job's raw rows; returns how many lines it packed.</summary>
    public async Task<long> CompactAsync(Guid jobId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockJob = new NpgsqlCommand("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", connection, tx))
        {
            lockJob.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            if (await lockJob.ExecuteScalarAsync(ct) is null) return 0;
        }

        var chunks = new List<(long First, List<NumberedLine> Lines)>();
        await using (var read = new NpgsqlCommand("SELECT line_no, boot, host_time, text FROM console_lines WHERE job_id = $1 ORDER BY line_no", connection, tx))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var reader = await read.ExecuteReaderAsync(ct);
            List<NumberedLine>? current = null;
            var bytes = 0;
            while (await reader.ReadAsync(ct))
            {
                var line = new NumberedLine(reader.GetInt64(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3));
                // A chunk holds consecutive line numbers only (they are implied by its first line).
                if (current is null || current.Count >= ConsoleChunkCodec.MaxLines || bytes >= ConsoleChunkCodec.MaxRawBytes
                    || current[^1].LineNo + 1 != line.LineNo)
                {
                    current = [];
                    bytes = 0;
                    chunks.Add((line.LineNo, current));
                }
                current.Add(line);
                bytes += line.Text.Length;
            }
        }
        if (chunks.Count == 0) return 0;

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY console_chunks (job_id, first_line, line_count, min_boot, max_boot, raw_bytes, data) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var (first, lines) in chunks)
            {
                var data = ConsoleChunkCodec.Encode(lines, out var rawBytes);
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(jobId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(first, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(lines.Count, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(lines.Min(l => l.Boot), NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(lines.Max(l => l.Boot), NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(rawBytes, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(data, NpgsqlDbType.Bytea, ct);
            }
            await copy.CompleteAsync(ct);
        }

        var last = chunks[^1].Lines[^1].LineNo;
        await using (var delete = new NpgsqlCommand("DELETE FROM console_lines WHERE job_id = $1 AND line_no <= $2", connection, tx))
        {
            delete.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
            delete.Parameters.Add(new NpgsqlParameter { Value = last, NpgsqlDbType = NpgsqlDbType.Bigint });
            await delete.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        var total = chunks.Sum(c => (long)c.Lines.Count);
        log.LogInformation("Job {Job}: packed {Lines} console lines into {Chunks} compressed chunks", jobId, total, chunks.Count);
        return total;
    }
}
