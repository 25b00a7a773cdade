using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.ConsoleStorage;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Tests.Artifacts;
using Redox.Lab.Server.Tests.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.ConsoleStorage;

[Collection(LabCollection.Name)]
public sealed class ConsoleStorageTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task Compact_EndedJob_PagesSearchRawDownloadAndApiUnchanged()
    {
        var (agent, job, runId) = await EndedJobAsync(lines: 9000);
        using var client = lab.Client();
        var urls = new[]
        {
            $"/api/jobs/{job}/console?from=0&limit=100000",
            $"/api/jobs/{job}/console?from=4095&limit=3",
            $"/jobs/{job}/console",
            $"/jobs/{job}/console?from=5000",
            $"/jobs/{job}/console?q=PANIC",
            $"/jobs/{job}/console?q=no%20such%20text",
            $"/jobs/{job}/console.txt",
            $"/runs/{runId}",
        };
        var before = new List<string>();
        foreach (var url in urls)
            before.Add(await client.GetStringAsync(url));

        var packed = await CompactAsync(job);

        Assert.Equal(9000, packed);
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM console_lines WHERE job_id = '{job}'"));
        Assert.Equal(3L, await ScalarAsync<long>($"SELECT count(*) FROM console_chunks WHERE job_id = '{job}'"));
        // The run page's cancel form (the run's other job still runs) carries a fresh antiforgery token each time.
        static string Stable(string page) => System.Text.RegularExpressions.Regex.Replace(page, "<input type=\"hidden\" name=\"__RequestVerificationToken\" value=\"[^\"]*\"", "");
        for (var i = 0; i < urls.Length; i++)
            Assert.Equal(Stable(before[i]), Stable(await client.GetStringAsync(urls[i])));
        Assert.Contains("kernel PANIC at mm/buddy.c:42", before[4], StringComparison.Ordinal);
        Assert.Equal(Texts(9000), (await client.GetStringAsync($"/jobs/{job}/console.txt")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        GC.KeepAlive(agent);
    }

    [Fact]
    public async Task Compact_LinesArriveAfterCompaction_ReadInOrderAndPackedLater()
    {
        var (agent, job, _) = await EndedJobAsync(lines: 100);
        await CompactAsync(job);

        // The job's holder uploads late lines (its spool drained after the job ended as agent-lost: the server takes
        // no console after a completion, only a lost job's holder's late results).
        await ScalarAsync<long>($"UPDATE jobs SET outcome = 'agent-lost' WHERE id = '{job}' RETURNING 1::bigint");
        var late = new ConsoleChunk(100, [new ConsoleLine(0, T0, "late line 100"), new ConsoleLine(0, T0, "late line 101")]);
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job}/console", late, LabFixture.Json)).StatusCode);
        using var client = lab.Client();
        var all = (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job}/console?from=0&limit=1000", LabFixture.Json))!;
        Assert.Equal([.. Texts(100), "late line 100", "late line 101"], all.Select(l => l.Text));

        Assert.Equal(2, await CompactAsync(job));
        var again = (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job}/console?from=99&limit=10", LabFixture.Json))!;
        Assert.Equal([Texts(100)[99], "late line 100", "late line 101"], again.Select(l => l.Text));
    }

    [Fact]
    public async Task Compact_Recurring_PacksOnlyJobsEndedLongEnoughAgo()
    {
        var (_, job, _) = await EndedJobAsync(lines: 10);
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var ended = await sp.GetRequiredService<LabDbContext>().Jobs.Where(j => j.Id == job).Select(j => j.EndedAt).SingleAsync();
        var options = Options.Create(new RetentionOptions { CompactAfterMinutes = 10 });
        var clock = new FakeTimeProvider(ended!.Value.AddMinutes(9));
        var compaction = new CompactConsoleJob(sp.GetRequiredService<NpgsqlDataSource>(), clock, options, sp.GetRequiredService<ILogger<CompactConsoleJob>>());

        await compaction.RunAsync(CancellationToken.None);
        Assert.Equal(10L, await ScalarAsync<long>($"SELECT count(*) FROM console_lines WHERE job_id = '{job}'"));

        clock.Advance(TimeSpan.FromMinutes(2));
        await compaction.RunAsync(CancellationToken.None);
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM console_lines WHERE job_id = '{job}'"));
        Assert.Equal(10L, await ScalarAsync<long>($"SELECT sum(line_count) FROM console_chunks WHERE job_id = '{job}'"));
    }

    [Fact]
    public async Task Prune_PerPipelineRetention_DeletesOldConsolesAndArtifactsKeepsBoots()
    {
        var (agent, job, runId) = await EndedJobAsync(lines: 50);
        // An artifact after the end: only from a lost job's holder (its spool drained late).
        await ScalarAsync<long>($"UPDATE jobs SET outcome = 'agent-lost' WHERE id = '{job}' RETURNING 1::bigint");
        var content = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
        Assert.Equal(HttpStatusCode.OK, (await ArtifactsApiTests.PutAsync(agent, job, "initfs.img", content)).StatusCode);
        var file = lab.Services.GetRequiredService<Server.Artifacts.ArtifactFiles>().PathOf(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)));
        Assert.True(File.Exists(file));
        await CompactAsync(job);
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LabDbContext>();
        var ended = await db.Jobs.Where(j => j.Id == job).Select(j => j.EndedAt).SingleAsync();
        // The reference pipeline keeps consoles a year and artifacts 30 days; the default (unused here) a week.
        var options = Options.Create(new RetentionOptions
        {
            ConsoleDays = 7, ArtifactDays = 7,
            Pipelines = [new RetentionRule { Pipeline = "pipelines/redox-*.yaml", ConsoleDays = 365, ArtifactDays = 30 }],
        });
        var clock = new FakeTimeProvider(ended!.Value.AddDays(31));
        PruneRetentionJob Prune() => new(db, sp.GetRequiredService<NpgsqlDataSource>(), clock, options, sp.GetRequiredService<Server.Artifacts.ArtifactSweep>(), sp.GetRequiredService<ILogger<PruneRetentionJob>>());

        await Prune().RunAsync(CancellationToken.None);
        using var client = lab.Client();
        Assert.Empty((await client.GetFromJsonAsync<List<ArtifactInfo>>($"/api/jobs/{job}/artifacts", LabFixture.Json))!);
        // Its file too, as no other row names that content.
        Assert.False(File.Exists(file));
        Assert.Equal(50, (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job}/console", LabFixture.Json))!.Count);
        var kept = (await lab.RunAsync(runId)).Jobs.Single(j => j.Id == job);
        Assert.Null(kept.ConsolePrunedAt);
        Assert.Equal(clock.GetUtcNow(), kept.ArtifactsPrunedAt);

        clock.SetUtcNow(ended.Value.AddDays(366));
        await Prune().RunAsync(CancellationToken.None);
        Assert.Empty((await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job}/console", LabFixture.Json))!);
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM console_chunks WHERE job_id = '{job}'"));
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM retention_prunes WHERE job_id = '{job}' AND console_pruned_at IS NOT NULL AND artifacts_pruned_at IS NOT NULL"));
        var run = await lab.RunAsync(runId);
        Assert.Equal([0, 1], run.Jobs.Single(j => j.Id == job).Boots.Select(b => b.Index));
        // The run says the console is gone, and since when; so does its page.
        Assert.Equal(clock.GetUtcNow(), run.Jobs.Single(j => j.Id == job).ConsolePrunedAt);
        Assert.Contains("console pruned by retention", await client.GetStringAsync($"/runs/{runId}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Partitions_JobOfThisMonth_LinesAndChunksInThatMonthsPartition()
    {
        var (_, job, _) = await EndedJobAsync(lines: 5);
        var created = DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(job.ToString("N")[..12], 16));
        var month = Partitions.MonthStart(created);

        Assert.Equal(Partitions.Name("console_lines", month), await ScalarAsync<string>($"SELECT DISTINCT tableoid::regclass::text FROM console_lines WHERE job_id = '{job}'"));
        await CompactAsync(job);
        Assert.Equal(Partitions.Name("console_chunks", month), await ScalarAsync<string>($"SELECT DISTINCT tableoid::regclass::text FROM console_chunks WHERE job_id = '{job}'"));
    }

    /// <summary>A run whose first job has <paramref name="lines"/> console lines over two boots (a panic in boot 1) and has ended.</summary>
    private async Task<(HttpClient Agent, Guid Job, Guid RunId)> EndedJobAsync(int lines)
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("storage-" + tag, ["x86_64", tag]);
        // Two boots (the server takes boot reports only below boot.count).
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag).Replace("  count: 1\n", "  count: 2\n", StringComparison.Ordinal)));
        var job = (await LabFixture.NextJobAsync(agent, 10))!;
        var texts = Texts(lines);
        for (var offset = 0; offset < lines; offset += 2000)
        {
            var chunk = new ConsoleChunk(offset, texts.Skip(offset).Take(2000)
                .Select((t, k) => new ConsoleLine(offset + k < lines / 2 ? 0 : 1, T0.AddMilliseconds((offset + k) * 3.7), t)).ToList());
            Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", chunk, LabFixture.Json)).StatusCode);
        }
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", AgentJobsApiTests.Boot(0, Outcome.Passed, "entry", "kmain-done"), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/1", AgentJobsApiTests.Boot(1, Outcome.KernelPanic, "entry"), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.KernelPanic, "boot 1: kernel-panic"), LabFixture.Json);
        return (agent, job.JobId, pushed.RunId);
    }

    private static List<string> Texts(int lines) => [.. Enumerable.Range(0, lines).Select(i => i == lines * 3 / 4
        ? "kernel PANIC at mm/buddy.c:42 <b>&amp;</b> ünïcode ✓"
        : $"[{i * 0.0037:F6}] mm: zone DMA32 pfn {i * 7919 % 65536:x} order {i % 11}")];

    private async Task<long> CompactAsync(Guid job)
    {
        await using var scope = lab.Scope();
        return await scope.ServiceProvider.GetRequiredService<CompactConsoleJob>().CompactAsync(job, CancellationToken.None);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(lab.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
