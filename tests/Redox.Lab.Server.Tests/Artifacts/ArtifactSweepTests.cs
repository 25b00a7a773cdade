using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Artifacts;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Artifacts;

/// <summary>Artifact files on disk go once no row names them, never while one does or while an upload is storing its row.</summary>
[Collection(LabCollection.Name)]
public sealed class ArtifactSweepTests(LabFixture lab)
{
    private ArtifactFiles Files => lab.Services.GetRequiredService<ArtifactFiles>();

    private ArtifactSweep Sweep(TimeProvider? clock = null) =>
        new(lab.Services.GetRequiredService<NpgsqlDataSource>(), Files, clock ?? TimeProvider.System, NullLogger<ArtifactSweep>.Instance);

    private async Task<string> PutAsync(HttpClient agent, Guid job, string name, byte[] content)
    {
        var response = await ArtifactsApiTests.PutAsync(agent, job, name, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ArtifactInfo>(LabFixture.Json))!.Sha256;
    }

    private async Task ExecAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(lab.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task RunAsync_HashSharedByTwoJobs_FileStaysUntilNoRowNamesIt()
    {
        var (agentA, jobA) = await ArtifactsApiTests.ClaimedJobAsync(lab, "sweep-a");
        var (agentB, jobB) = await ArtifactsApiTests.ClaimedJobAsync(lab, "sweep-b");
        var shared = RandomNumberGenerator.GetBytes(4096);
        var sharedSha = await PutAsync(agentA, jobA.JobId, "initfs.img", shared);
        Assert.Equal(sharedSha, await PutAsync(agentB, jobB.JobId, "initfs.img", shared));
        var onlyA = await PutAsync(agentA, jobA.JobId, "kernel.img", RandomNumberGenerator.GetBytes(100));

        // Retention deletes job A's rows (PruneRetentionJob does exactly this DELETE).
        await ExecAsync($"DELETE FROM artifacts WHERE job_id = '{jobA.JobId}'");
        await Sweep().RunAsync(CancellationToken.None);

        Assert.False(File.Exists(Files.PathOf(onlyA)));
        Assert.True(File.Exists(Files.PathOf(sharedSha)));
        using var client = lab.Client();
        Assert.Equal(shared, await client.GetByteArrayAsync($"/api/jobs/{jobB.JobId}/artifacts/initfs.img"));

        await ExecAsync($"DELETE FROM artifacts WHERE job_id = '{jobB.JobId}'");
        await Sweep().RunAsync(CancellationToken.None);

        Assert.False(File.Exists(Files.PathOf(sharedSha)));
    }

    [Fact]
    public async Task RunAsync_ReuploadReplacedAFile_OldContentDeletedNewKept()
    {
        var (agent, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "sweep-re");
        var first = await PutAsync(agent, job.JobId, "blob.bin", RandomNumberGenerator.GetBytes(64));
        var second = await PutAsync(agent, job.JobId, "blob.bin", RandomNumberGenerator.GetBytes(64));

        await Sweep().RunAsync(CancellationToken.None);

        Assert.False(File.Exists(Files.PathOf(first)));
        Assert.True(File.Exists(Files.PathOf(second)));
    }

    [Fact]
    public async Task RunAsync_UploadStoringItsRow_WaitsForItAndKeepsTheFile()
    {
        var (_, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "sweep-fly");
        var content = RandomNumberGenerator.GetBytes(256);
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        // An upload between placing its file and committing its row, as ArtifactStore.PutAsync does it.
        await using var upload = new NpgsqlConnection(lab.ConnectionString);
        await upload.OpenAsync();
        await using var tx = await upload.BeginTransactionAsync();
        await using (var shared = new NpgsqlCommand($"SELECT pg_advisory_xact_lock_shared({ArtifactFiles.PlacementLock})", upload, tx))
            await shared.ExecuteNonQueryAsync();
        using (var staged = await Files.StageAsync(new MemoryStream(content), 1024, CancellationToken.None))
            Files.Place(staged);

        var sweep = Sweep().RunAsync(CancellationToken.None);
        // The sweep is seen waiting for the placement lock (a state reached, not a time waited).
        await WaitForAsync(async () => await LockWaitersAsync() > 0);
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO artifacts (job_id, name, size, sha256, content, created_at) VALUES ('{job.JobId}', 'fly.bin', 256, '{sha}', NULL, now())", upload, tx))
            await insert.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        await sweep;

        Assert.True(File.Exists(Files.PathOf(sha)));
        using var client = lab.Client();
        Assert.Equal(content, await client.GetByteArrayAsync($"/api/jobs/{job.JobId}/artifacts/fly.bin"));
    }

    [Fact]
    public async Task RunAsync_TmpFiles_AbandonedOneDeletedLiveOneKept()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        Directory.CreateDirectory(Files.TmpDir);
        var abandoned = Path.Combine(Files.TmpDir, Guid.NewGuid().ToString("N"));
        var live = Path.Combine(Files.TmpDir, Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(abandoned, [1]);
        await File.WriteAllBytesAsync(live, [2]);
        File.SetLastWriteTimeUtc(abandoned, clock.GetUtcNow().UtcDateTime - ArtifactSweep.TmpGrace - TimeSpan.FromMinutes(1));
        File.SetLastWriteTimeUtc(live, clock.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(1));

        await Sweep(clock).RunAsync(CancellationToken.None);

        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(live));
        File.Delete(live);
    }

    private async Task<long> LockWaitersAsync()
    {
        await using var connection = new NpgsqlConnection(lab.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = {ArtifactFiles.PlacementLock}", connection);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!await condition())
            await Task.Delay(50, timeout.Token);
    }
}
