using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Redox.Lab.Dashboard.Pages.Run;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.ConsoleStorage;

/// <summary>
/// A job's console as stored (STORAGE.md): compressed chunks (<c>console_chunks</c>) for what
/// <see cref="CompactConsoleJob"/> packed, raw rows (<c>console_lines</c>) for the rest. Chunks always hold the
/// lower line numbers: compaction packs every raw row of a job, and lines that arrive later (a spooled agent's late
/// upload) have higher numbers. The readers of a console that is all raw rows keep their SQL; one with chunks is
/// read here and filtered in memory.
/// </summary>
public sealed class ConsoleArchive(LabDbContext db, NpgsqlDataSource dataSource)
{
    /// <summary>Whether any of the job's lines are in chunks.</summary>
    public Task<bool> HasChunksAsync(Guid jobId, CancellationToken ct) =>
        db.Database.SqlQuery<bool>($"SELECT EXISTS (SELECT 1 FROM console_chunks WHERE job_id = {jobId}) AS \"Value\"").SingleAsync(ct);

    /// <summary>Lines <paramref name="from"/> .. <paramref name="from"/> + <paramref name="count"/> - 1, in order.</summary>
    public async Task<List<NumberedLine>> RangeAsync(Guid jobId, long from, long count, CancellationToken ct)
    {
        var to = from + count;
        var lines = new List<NumberedLine>();
        await foreach (var chunk in ChunksAsync(jobId, from, to, boot: null, ct))
            lines.AddRange(chunk.Where(l => l.LineNo >= from && l.LineNo < to));
        lines.AddRange(await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId && l.LineNo >= from && l.LineNo < to)
            .OrderBy(l => l.LineNo)
            .Select(l => new NumberedLine(l.LineNo, l.Boot, l.HostTime, l.Text))
            .ToListAsync(ct));
        return lines;
    }

    /// <summary>Every line of the job (of one boot when <paramref name="boot"/> is given), in order, decompressed a chunk at a time.</summary>
    public async IAsyncEnumerable<NumberedLine> AllAsync(Guid jobId, int? boot, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var chunk in ChunksAsync(jobId, 0, long.MaxValue, boot, ct))
        {
            foreach (var line in chunk)
            {
                if (boot is null || line.Boot == boot)
                    yield return line;
            }
        }
        var raw = db.ConsoleLines.AsNoTracking().Where(l => l.JobId == jobId);
        if (boot is { } b) raw = raw.Where(l => l.Boot == b);
        await foreach (var l in raw.OrderBy(l => l.LineNo).AsAsyncEnumerable().WithCancellation(ct))
            yield return new NumberedLine(l.LineNo, l.Boot, l.HostTime, l.Text);
    }

    /// <summary>The lines of each chunk overlapping [from, to) (and holding lines of <paramref name="boot"/>), in order.</summary>
    private async IAsyncEnumerable<List<NumberedLine>> ChunksAsync(Guid jobId, long from, long to, int? boot, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand("""
            SELECT first_line, line_count, data FROM console_chunks
            WHERE job_id = $1 AND first_line < $3 AND first_line + line_count > $2 AND ($4::int IS NULL OR $4 BETWEEN min_boot AND max_boot)
            ORDER BY first_line
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = jobId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = from, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = to, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)boot ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);
        while (await reader.ReadAsync(ct))
        {
            var first = reader.GetInt64(0);
            var count = reader.GetInt32(1);
            var data = await reader.GetFieldValueAsync<byte[]>(2, ct);
            yield return ConsoleChunkCodec.Decode(data, first, count);
        }
    }
}
