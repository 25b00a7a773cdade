using Npgsql;
using NpgsqlTypes;

namespace Redox.Lab.Server.Artifacts;

/// <summary>
/// Deletes artifact files no row names any more (ArtifactFiles): after retention pruned their jobs' rows
/// (ConsoleStorage/PruneRetentionJob runs it), after a re-upload replaced a job's artifact, after an upload whose
/// transaction failed. One file may be named by several jobs' rows: it stays while any row names it. Each batch of
/// files is decided and deleted holding <see cref="ArtifactFiles.PlacementLock"/> exclusively, while an upload
/// places its file and stores its row holding it shared, so a file an upload is storing a row for is never deleted.
/// Temporary files of uploads that died are deleted once unchanged for <see cref="TmpGrace"/> (a live upload keeps
/// writing its file). Safe on several servers at once.
/// </summary>
public sealed class ArtifactSweep(NpgsqlDataSource dataSource, ArtifactFiles files, TimeProvider clock, ILogger<ArtifactSweep> log)
{
    /// <summary>Files decided per transaction (the lock is held that long).</summary>
    public const int Batch = 500;

    /// <summary>How long a temporary upload file may stay unchanged before it counts as abandoned.</summary>
    public static readonly TimeSpan TmpGrace = TimeSpan.FromHours(1);

    /// <summary>Returns how many files it deleted.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (!Directory.Exists(files.Root)) return 0;
        var deleted = 0;
        foreach (var dir in Directory.EnumerateDirectories(files.Root).Where(d => Path.GetFileName(d) is { Length: 2 } n && n.All(char.IsAsciiHexDigitLower)).Order(StringComparer.Ordinal))
        {
            var names = Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>().Where(ArtifactFiles.IsHash).ToList();
            foreach (var batch in names.Chunk(Batch))
                deleted += await SweepAsync(batch, ct);
        }

        if (Directory.Exists(files.TmpDir))
        {
            foreach (var tmp in Directory.EnumerateFiles(files.TmpDir).ToList())
            {
                if (clock.GetUtcNow() - File.GetLastWriteTimeUtc(tmp) > TmpGrace && TryDelete(tmp)) deleted++;
            }
        }
        if (deleted > 0) log.LogInformation("Deleted {Count} artifact files no job names any more", deleted);
        return deleted;
    }

    private async Task<int> SweepAsync(string[] hashes, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter { Value = ArtifactFiles.PlacementLock, NpgsqlDbType = NpgsqlDbType.Bigint });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        var named = new HashSet<string>(StringComparer.Ordinal);
        await using (var query = new NpgsqlCommand("SELECT DISTINCT sha256 FROM artifacts WHERE sha256 = ANY($1)", connection, tx))
        {
            query.Parameters.Add(new NpgsqlParameter { Value = hashes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await using var reader = await query.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) named.Add(reader.GetString(0));
        }
        var deleted = hashes.Where(h => !named.Contains(h)).Count(h => TryDelete(files.PathOf(h)));
        await tx.CommitAsync(ct);
        return deleted;
    }

    private bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path)) return false;
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not delete artifact file {File}: {Error}", Path.GetFileName(path), e.Message);
            return false;
        }
    }
}
