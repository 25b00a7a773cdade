using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Artifacts;
using Redox.Lab.Server.Tests.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Scripts;

/// <summary>
/// scripts/lab-backup.sh and scripts/lab-restore.sh (scripts/BACKUP.md) on a real lab: back it up while its server
/// runs, restore into an empty database, start a second server on that database and find every run, boot,
/// console line and artifact again.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class BackupRestoreTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task BackupThenRestoreIntoEmptyDatabase_EveryRunBootConsoleLineAndArtifactFoundAgain()
    {
        var runId = await SeedRunAsync();
        var backup = Path.Combine(lab.TempDir, "backup-" + Guid.NewGuid().ToString("N")[..8]);
        var backupStarted = DateTimeOffset.UtcNow;

        await Script("lab-backup.sh", "--db", Conninfo(lab.ConnectionString), "--out", backup, "--data-dir", Path.Combine(lab.TempDir, "server"));
        var restored = await CreateDatabaseAsync("restored_" + Guid.NewGuid().ToString("N")[..8]);
        var restoredData = Path.Combine(lab.TempDir, "restored-data-" + Guid.NewGuid().ToString("N")[..8]);
        var output = await Script("lab-restore.sh", "--db", Conninfo(restored), "--in", backup, "--data-dir", restoredData);

        Assert.Contains("lab-restore: restored runs ", output, StringComparison.Ordinal);
        // Every row the lab held before the backup began is in the restored database, and nothing else.
        foreach (var query in Digests(backupStarted))
            Assert.Equal(await ScalarAsync(lab.ConnectionString, query), await ScalarAsync(restored, query));

        // A server on the restored database answers as the original does, for the seeded run.
        await using var second = await ServerProcess.StartAsync(restored, restoredData, LabFixture.EnrolmentSecret);
        using var before = lab.Client();
        using var after = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{second.Port}"), Timeout = TimeSpan.FromSeconds(90) };
        after.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", lab.AdminToken);
        var original = (await before.GetFromJsonAsync<RunView>($"/api/runs/{runId}", LabFixture.Json))!;
        var run = (await after.GetFromJsonAsync<RunView>($"/api/runs/{runId}", LabFixture.Json))!;
        Assert.Equal(JsonSerializer.Serialize(original.Jobs, LabFixture.Json), JsonSerializer.Serialize(run.Jobs, LabFixture.Json));
        Assert.NotEmpty(run.Jobs);
        foreach (var job in run.Jobs)
        {
            Assert.Single(job.Boots);
            var console = (await after.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job.Id}/console?from=0&limit=100000", LabFixture.Json))!;
            Assert.Equal(Lines(job.Id), console.Select(l => l.Text));
            Assert.Equal(await before.GetStringAsync($"/api/jobs/{job.Id}/artifacts"), await after.GetStringAsync($"/api/jobs/{job.Id}/artifacts"));
            Assert.Equal(Blob(job.Id), await after.GetByteArrayAsync($"/api/jobs/{job.Id}/artifacts/initfs.img"));
        }
    }

    [Fact]
    public async Task Restore_IntoDatabaseWithTables_RefusedAndNothingChanged()
    {
        var backup = Path.Combine(lab.TempDir, "backup-" + Guid.NewGuid().ToString("N")[..8]);
        await Script("lab-backup.sh", "--db", Conninfo(lab.ConnectionString), "--out", backup);
        var runsBefore = await ScalarAsync(lab.ConnectionString, "SELECT count(*)::text FROM runs");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Script("lab-restore.sh", "--db", Conninfo(lab.ConnectionString), "--in", backup));

        Assert.Contains("restore into a new, empty database", refused.Message, StringComparison.Ordinal);
        Assert.Equal(runsBefore, await ScalarAsync(lab.ConnectionString, "SELECT count(*)::text FROM runs"));
    }

    [Fact]
    public async Task Restore_BackupAlteredAfterwards_RefusedBeforeTouchingTheDatabase()
    {
        var backup = Path.Combine(lab.TempDir, "backup-" + Guid.NewGuid().ToString("N")[..8]);
        await Script("lab-backup.sh", "--db", Conninfo(lab.ConnectionString), "--out", backup);
        await using (var dump = File.OpenWrite(Path.Combine(backup, "lab.dump")))
        {
            dump.Seek(-10, SeekOrigin.End);
            dump.Write([1, 2, 3]);
        }
        var empty = await CreateDatabaseAsync("altered_" + Guid.NewGuid().ToString("N")[..8]);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Script("lab-restore.sh", "--db", Conninfo(empty), "--in", backup));

        Assert.Contains("does not match its MANIFEST", refused.Message, StringComparison.Ordinal);
        Assert.Equal("0", await ScalarAsync(empty, "SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public'"));
    }

    [Theory]
    [InlineData("lab-backup.sh", "--out", "host=127.0.0.1 user=lab password=hunter2 dbname=redox_lab")]
    [InlineData("lab-restore.sh", "--in", "postgresql://lab:hunter2@127.0.0.1:5432/redox_lab")]
    public async Task Script_PasswordInConnectionString_RefusedBeforeAnythingIsWritten(string script, string dirOption, string conninfo)
    {
        var dir = Path.Combine(lab.TempDir, "refused-" + Guid.NewGuid().ToString("N")[..8]);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Script(script, "--db", conninfo, dirOption, dir));

        Assert.Contains("--db holds a password", refused.Message, StringComparison.Ordinal);
        Assert.False(Path.Exists(dir));
    }

    /// <summary>A run whose jobs each have 2,500 console lines, a boot with stages, metrics, tests and a finding, and an artifact.</summary>
    private async Task<Guid> SeedRunAsync()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("backup-" + tag, ["x86_64", tag]);
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        for (var i = 0; i < Repo.ReferenceVariants.Count; i++)
        {
            var job = (await LabFixture.NextJobAsync(agent, 10))!;
            var lines = Lines(job.JobId);
            for (var offset = 0; offset < lines.Count; offset += 1000)
            {
                var chunk = new ConsoleChunk(offset, lines.Skip(offset).Take(1000).Select((t, k) => new ConsoleLine(0, T0.AddMilliseconds(offset + k), t)).ToList());
                Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", chunk, LabFixture.Json)).StatusCode);
            }
            Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0",
                AgentJobsApiTests.Boot(0, Outcome.Passed, "entry", "long-mode", "kmain-done"), LabFixture.Json)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await ArtifactsApiTests.PutAsync(agent, job.JobId, "initfs.img", Blob(job.JobId))).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, "1 boot passed"), LabFixture.Json)).StatusCode);
        }
        return pushed.RunId;
    }

    private static List<string> Lines(Guid job) => [.. Enumerable.Range(0, 2500).Select(i => $"[{job.ToString()[..8]}] line {i}: mm: zone DMA32 pages {i * 7919 % 65536}")];

    private static byte[] Blob(Guid job) => [.. Enumerable.Range(0, 200_000).Select(i => (byte)(i * 31 + job.GetHashCode()))];

    /// <summary>One digest per table of what a lab must not lose, over the rows made before <paramref name="before"/>.</summary>
    private static IEnumerable<string> Digests(DateTimeOffset before)
    {
        var cutoff = before.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture);
        var runs = $"SELECT id FROM runs WHERE created_at < '{cutoff}+00'";
        yield return $"SELECT count(*) || ' ' || md5(coalesce(string_agg(id::text || commit || pipeline_path, ',' ORDER BY id), '')) FROM runs WHERE id IN ({runs})";
        yield return $"SELECT count(*) || ' ' || md5(coalesce(string_agg(b.id::text || b.outcome || b.started_at::text, ',' ORDER BY b.id), '')) FROM boots b JOIN jobs j ON j.id = b.job_id WHERE j.run_id IN ({runs})";
        yield return $"SELECT count(*) || ' ' || md5(coalesce(string_agg(s.name || s.kernel_ns::text, ',' ORDER BY s.id), '')) FROM boot_stages s JOIN boots b ON b.id = s.boot_id JOIN jobs j ON j.id = b.job_id WHERE j.run_id IN ({runs})";
        yield return $"SELECT count(*) || ' ' || md5(coalesce(string_agg(a.job_id::text || a.name || a.sha256 || md5(a.content), ',' ORDER BY a.job_id, a.name), '')) FROM artifacts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id IN ({runs})";
        yield return $"SELECT sum(console_count)::text FROM jobs WHERE run_id IN ({runs})";
        // Raw rows and compressed chunks together: compaction may move lines between them while the test runs.
        yield return $"SELECT ((SELECT count(*) FROM console_lines c JOIN jobs j ON j.id = c.job_id WHERE j.run_id IN ({runs}))"
            + $" + (SELECT coalesce(sum(k.line_count), 0) FROM console_chunks k JOIN jobs j ON j.id = k.job_id WHERE j.run_id IN ({runs})))::text";
        yield return "SELECT count(*)::text FROM users";
    }

    private async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(lab.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(lab.ConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<string?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    /// <summary>The libpq form of an Npgsql connection string, as an operator passes it to the scripts.</summary>
    private static string Conninfo(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        // The password stays in its password file (pg-local.sh writes one); the scripts read it through libpq.
        return $"host={b.Host} port={b.Port} user={b.Username} dbname={b.Database}" + (b.Passfile is { Length: > 0 } f ? $" passfile={f}" : "");
    }

    private static Task<string> Script(string name, params string[] args) =>
        Repo.RunAsync("bash", null, [Path.Combine(Repo.Root, "scripts", name), .. args]);
}
