using Microsoft.Extensions.Logging;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

[Collection(LabCollection.Name)]
public sealed class AgentJobsApiTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>Pushes a run for a new agent's machines and claims all its jobs (one per variant and machine).</summary>
    private async Task<(HttpClient Agent, JobAssignment Job, Guid RunId, List<JobAssignment> All)> ClaimedJobAsync(int machines = 1)
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("jobs-" + tag, Enumerable.Repeat(new[] { "x86_64", tag }, machines).ToArray());
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var all = new List<JobAssignment>();
        for (var i = 0; i < machines * Repo.ReferenceVariants.Count; i++)
            all.Add((await LabFixture.NextJobAsync(agent, 10))!);
        Assert.All(all, j => Assert.Equal(pushed.RunId, j.RunId));
        return (agent, all[0], pushed.RunId, all);
    }

    private static ConsoleChunk Chunk(long offset, params string[] lines) =>
        new(offset, lines.Select(l => new ConsoleLine(0, T0, l)).ToList());

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NextJob_Repository_AssignmentCarriesItsTrustForTheBuildsNetwork(bool trusted)
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("trust-" + tag, ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag), register: false);
        await lab.RegisterRepoAsync(repo.Path, trusted: trusted);
        await lab.PushAsync(repo);

        var job = await LabFixture.NextJobAsync(agent, 10);

        Assert.NotNull(job);
        Assert.Equal(trusted, job.Trusted);
    }

    [Fact]
    public async Task AppendConsole_RetriedAndOverlappingChunks_StoresEachLineOnce()
    {
        var (agent, job, _, _) = await ClaimedJobAsync();
        var url = $"/api/agent/jobs/{job.JobId}/console";

        var first = await agent.PostAsJsonAsync(url, Chunk(0, "a", "b", "c"), LabFixture.Json);
        var retry = await agent.PostAsJsonAsync(url, Chunk(0, "a", "b", "c"), LabFixture.Json);
        var overlap = await agent.PostAsJsonAsync(url, Chunk(2, "c", "d", "e"), LabFixture.Json);

        Assert.Equal(3, (await first.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        Assert.Equal(3, (await retry.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        Assert.Equal(5, (await overlap.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        using var client = lab.Client();
        var lines = (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job.JobId}/console", LabFixture.Json))!;
        Assert.Equal(["a", "b", "c", "d", "e"], lines.Select(l => l.Text));
        Assert.Equal(T0, lines[0].HostTime);
        var page = (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job.JobId}/console?from=3&limit=1", LabFixture.Json))!;
        Assert.Equal("d", Assert.Single(page).Text);
    }

    [Fact]
    public async Task AppendConsole_OffsetPastStored_Returns409WithNextOffset()
    {
        var (agent, job, _, _) = await ClaimedJobAsync();
        var url = $"/api/agent/jobs/{job.JobId}/console";
        await agent.PostAsJsonAsync(url, Chunk(0, "a", "b"), LabFixture.Json);

        var gap = await agent.PostAsJsonAsync(url, Chunk(5, "f"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Conflict, gap.StatusCode);
        Assert.Equal(2, (await gap.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
    }

    [Fact]
    public async Task AppendConsole_NulAndMarkup_StoredReadable()
    {
        var (agent, job, _, _) = await ClaimedJobAsync();

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", Chunk(0, "x\0y", "<b>&"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var client = lab.Client();
        var lines = (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job.JobId}/console", LabFixture.Json))!;
        Assert.Equal(["x\uFFFDy", "<b>&"], lines.Select(l => l.Text));
    }

    [Fact]
    public async Task AppendConsole_OtherAgentsJob_Returns409Problem()
    {
        var (_, job, _, _) = await ClaimedJobAsync();
        var (_, stranger) = await lab.EnrolAsync("stranger-" + Guid.NewGuid().ToString("N")[..8], ["none"]);

        var response = await stranger.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", Chunk(0, "a"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    internal static BootReport Boot(int index, Outcome outcome, params string[] stages) => new(
        index, outcome, null, T0, T0.AddSeconds(2), 2_000_000_000,
        stages.Select((s, i) => new StageReport(s, "marker", (i + 1) * 1_000_000L, (i + 1) * 1_500_000L)).ToList(),
        [new MetricReport("alloc.ns", 42.5, "ns", 1000, "p50")],
        [new TestReport("mm.buddy", "pass", null)],
        [new FindingReport("double-free", new Dictionary<string, string> { ["addr"] = "0xdead", ["bt"] = "0x1,0x2" }, 7)],
        1);

    /// <summary>Ends the job as an agent would: a boot outcome comes with its boot report (the server derives the job's outcome from its boots).</summary>
    internal static async Task<HttpResponseMessage> EndAsync(HttpClient agent, Guid jobId, Outcome outcome, string? detail = null)
    {
        if (outcome.Kind() is OutcomeKind.Success or OutcomeKind.Kernel && outcome is not (Outcome.BuildFailed or Outcome.JobTimeout))
            Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync($"/api/agent/jobs/{jobId}/boots/0", Boot(0, outcome) with { Detail = detail }, LabFixture.Json)).StatusCode);
        return await agent.PostAsJsonAsync($"/api/agent/jobs/{jobId}/complete", new JobCompletion(outcome, detail), LabFixture.Json);
    }

    [Fact]
    public async Task ReportBoot_SameIndexTwice_ReplacesTheBoot()
    {
        var (agent, job, runId, _) = await ClaimedJobAsync();
        var url = $"/api/agent/jobs/{job.JobId}/boots/0";

        Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync(url, Boot(0, Outcome.KernelPanic, "entry"), LabFixture.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync(url, Boot(0, Outcome.Passed, "entry", "long-mode", "kmain-done"), LabFixture.Json)).StatusCode);

        var run = await lab.RunAsync(runId);
        var boot = Assert.Single(run.Jobs.Single(j => j.Id == job.JobId).Boots);
        Assert.Equal(Outcome.Passed, boot.Outcome);
        Assert.Equal(["entry", "long-mode", "kmain-done"], boot.Stages.Select(s => s.Name));
        Assert.Equal(4_500_000L, boot.Stages[^1].HostNs);
        Assert.Single(boot.Metrics);
        Assert.Single(boot.Tests);
        var finding = Assert.Single(boot.Findings);
        Assert.Equal("0xdead", finding.Fields["addr"]);
        Assert.Equal(1, boot.CorruptMarkers);
        Assert.Equal(2_000_000_000, boot.TscHz);
    }

    [Fact]
    public async Task ReportBootAndComplete_KernelTextWithNul_StoredWithReplacementCharacter()
    {
        var (agent, job, runId, _) = await ClaimedJobAsync();
        var garbled = Boot(0, Outcome.Garbage, "entry") with
        {
            Detail = "no readable line: \0\u0001",
            Tests = [new TestReport("t", "fail", "got \0")],
            Findings = [new FindingReport("panic", new Dictionary<string, string> { ["msg"] = "bad\0byte" }, 3)],
            Profile = null,
        };

        var boot = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", garbled, LabFixture.Json);
        var complete = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Garbage, "last line: \0"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, boot.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, complete.StatusCode);
        var stored = (await lab.RunAsync(runId)).Jobs.Single(j => j.Id == job.JobId);
        Assert.Equal("last line: \uFFFD", stored.Detail);
        Assert.Equal("no readable line: \uFFFD\u0001", stored.Boots[0].Detail);
        Assert.Equal("got \uFFFD", stored.Boots[0].Tests[0].Detail);
        Assert.Equal("bad\uFFFDbyte", stored.Boots[0].Findings[0].Fields["msg"]);
    }

    [Fact]
    public async Task ReportBoot_IndexMismatch_Returns400()
    {
        var (agent, job, _, _) = await ClaimedJobAsync();

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/1", Boot(0, Outcome.Passed), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Complete_AllJobsEnded_RollsRunUpToWorstOutcome()
    {
        var (agent, _, runId, all) = await ClaimedJobAsync(machines: 2);
        var second = all[^1];

        foreach (var job in all.Take(all.Count - 1))
        {
            var done = await EndAsync(agent, job.JobId, Outcome.Passed);
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }
        var midway = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Pending, midway.Outcome);
        Assert.Null(midway.EndedAt);

        await EndAsync(agent, second.JobId, Outcome.KernelPanic, "panic at mm/buddy.c:42");
        var again = await agent.PostAsJsonAsync($"/api/agent/jobs/{second.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.KernelPanic, run.Outcome);
        Assert.NotNull(run.EndedAt);
        var panicked = run.Jobs.Single(j => j.Id == second.JobId);
        Assert.Equal(Outcome.KernelPanic, panicked.Outcome);
        Assert.Equal("panic at mm/buddy.c:42", panicked.Detail);
        var heartbeat = await agent.PostAsync($"/api/agent/jobs/{second.JobId}/heartbeat", null);
        Assert.False((await heartbeat.Content.ReadFromJsonAsync<HeartbeatResponse>(LabFixture.Json))!.Continue);
    }

    [Fact]
    public async Task Complete_AllJobsAtOnce_RunRolledUpOnce()
    {
        var (agent, _, runId, all) = await ClaimedJobAsync(machines: 2);

        foreach (var job in all)
            await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", Boot(0, Outcome.TestFailed), LabFixture.Json);
        var responses = await Task.WhenAll(all.Select(job =>
            agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.TestFailed, null), LabFixture.Json)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.TestFailed, run.Outcome);
        Assert.NotNull(run.EndedAt);
    }

    [Fact]
    public async Task Complete_PendingOutcome_Returns400()
    {
        var (agent, job, _, _) = await ClaimedJobAsync();

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Pending, null), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>Runs FailLostJobsJob at one second past the latest lease of the run's running jobs.</summary>
    private async Task<int> ExpireLeasesAsync(Guid runId)
    {
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LabDbContext>();
        var lease = await db.Jobs.AsNoTracking()
            .Where(j => j.RunId == runId && j.State == JobStates.Running)
            .MaxAsync(j => j.LeaseExpiresAt);
        // The lab was watching: a sweep one lease before (when the lease was renewed) saw nothing to fail.
        var clock = new FakeTimeProvider(lease!.Value - TimeSpan.FromSeconds(LabFixture.LeaseSeconds));
        FailLostJobsJob Job() => new(db, new JobRetries(db, sp.GetRequiredService<ILogger<JobRetries>>()), new RunRollup(db), clock,
            sp.GetRequiredService<IOptions<LabOptions>>(), sp.GetRequiredService<ILogger<FailLostJobsJob>>());
        // (It may fail other tests' abandoned jobs; this run's leases are still good then.)
        await Job().RunAsync(CancellationToken.None);
        clock.SetUtcNow(lease.Value.AddSeconds(1));
        var failed = await Job().RunAsync(CancellationToken.None);
        // Safe to run twice: the second run finds nothing left to fail, and queues no second retry.
        Assert.Equal(0, await Job().RunAsync(CancellationToken.None));
        return failed;
    }

    [Fact]
    public async Task FailLostJobs_LeaseExpired_MarksAgentLostKeepsConsoleQueuesRetry()
    {
        var (agent, job, runId, all) = await ClaimedJobAsync();
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", Chunk(0, "booting", "silence"), LabFixture.Json);

        Assert.True(await ExpireLeasesAsync(runId) >= all.Count);

        var run = await lab.RunAsync(runId);
        var lost = run.Jobs.Single(j => j.Id == job.JobId);
        Assert.Equal(Outcome.AgentLost, lost.Outcome);
        Assert.Equal(1, lost.Attempt);
        Assert.StartsWith("no heartbeat since ", lost.Detail, StringComparison.Ordinal);
        // The run waits for the retries: one new job per lost one, same variant and machine, attempt 2.
        Assert.Equal(Outcome.Pending, run.Outcome);
        Assert.Null(run.EndedAt);
        var retries = run.Jobs.Where(j => j.Attempt == 2).ToList();
        Assert.Equal(all.Count, retries.Count);
        Assert.All(retries, r => Assert.Equal(Outcome.Pending, r.Outcome));
        Assert.Equal(
            run.Jobs.Where(j => j.Attempt == 1).Select(j => (j.Machine, j.Variant)).Order(),
            retries.Select(j => (j.Machine, j.Variant)).Order());
        using var client = lab.Client();
        Assert.Equal(2, (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job.JobId}/console", LabFixture.Json))!.Count);
        var heartbeat = await agent.PostAsync($"/api/agent/jobs/{job.JobId}/heartbeat", null);
        Assert.False((await heartbeat.Content.ReadFromJsonAsync<HeartbeatResponse>(LabFixture.Json))!.Continue);
        var claimed = await LabFixture.NextJobAsync(agent, 10);
        Assert.Contains(claimed!.JobId, retries.Select(r => r.Id));
    }

    [Fact]
    public async Task Complete_HolderReturnsAfterAgentLost_TakesItsOutcomeAndWithdrawsRetries()
    {
        var (agent, job, runId, all) = await ClaimedJobAsync();
        Assert.True(await ExpireLeasesAsync(runId) >= all.Count);
        Assert.Equal(all.Count, (await lab.RunAsync(runId)).Jobs.Count(j => j.Attempt == 2));

        // The agent spooled through the outage: console and boot by offset and index, then the completion.
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", Chunk(0, "booted", "@@LAB end pass"), LabFixture.Json)).StatusCode);
        foreach (var j in all)
        {
            // Every job's boot (the server derives a job's outcome from its stored boots).
            Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync($"/api/agent/jobs/{j.JobId}/boots/0", Boot(0, Outcome.Passed), LabFixture.Json)).StatusCode);
            var late = await agent.PostAsJsonAsync($"/api/agent/jobs/{j.JobId}/complete", new JobCompletion(Outcome.Passed, "1 boot passed"), LabFixture.Json);
            Assert.Equal(HttpStatusCode.NoContent, late.StatusCode);
        }

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Passed, run.Outcome);
        Assert.NotNull(run.EndedAt);
        Assert.All(run.Jobs, j => Assert.Equal((1, Outcome.Passed, "1 boot passed"), (j.Attempt, j.Outcome, j.Detail)));
        Assert.Single(run.Jobs.Single(j => j.Id == job.JobId).Boots);
        Assert.Null(await LabFixture.NextJobAsync(agent, 0));
    }

    [Fact]
    public async Task Complete_AnotherAgentAfterAgentLost_RefusedAndRetryKept()
    {
        var (_, job, runId, all) = await ClaimedJobAsync();
        var (_, other) = await lab.EnrolAsync("jobs-intruder-" + Guid.NewGuid().ToString("N")[..8], ["x86_64"]);
        Assert.True(await ExpireLeasesAsync(runId) >= all.Count);

        var late = await other.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);
        var boot = await other.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", Boot(0, Outcome.Passed), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, boot.StatusCode);
        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.AgentLost, run.Jobs.Single(j => j.Id == job.JobId).Outcome);
        Assert.Equal(all.Count, run.Jobs.Count(j => j.Attempt == 2));
    }

    [Fact]
    public async Task Complete_LateInfraErrorAfterAgentLost_StaysAgentLostRetryKept()
    {
        var (agent, job, runId, all) = await ClaimedJobAsync();
        Assert.True(await ExpireLeasesAsync(runId) >= all.Count);

        var late = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Cancelled, "the server stopped the job during boot 0"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, late.StatusCode);
        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.AgentLost, run.Jobs.Single(j => j.Id == job.JobId).Outcome);
        Assert.Equal(Outcome.Pending, run.Outcome);
        Assert.Equal(all.Count, run.Jobs.Count(j => j.Attempt == 2));
    }

    [Fact]
    public async Task FailLostJobs_LabAwayLongerThanGap_RestartsLeasesInsteadOfFailing()
    {
        var (_, job, runId, _) = await ClaimedJobAsync();
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LabDbContext>();
        var options = sp.GetRequiredService<IOptions<LabOptions>>();
        // A day after the lease ran out, far past every earlier sweep: the whole lab (servers, database) was down.
        var back = (await db.Jobs.AsNoTracking().Where(j => j.Id == job.JobId).Select(j => j.LeaseExpiresAt).SingleAsync())!.Value.AddDays(1);
        var clock = new FakeTimeProvider(back);
        var sweep = new FailLostJobsJob(db, new JobRetries(db, sp.GetRequiredService<ILogger<JobRetries>>()), new RunRollup(db), clock,
            options, sp.GetRequiredService<ILogger<FailLostJobsJob>>());

        Assert.Equal(0, await sweep.RunAsync(CancellationToken.None));

        var row = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.JobId);
        Assert.Equal((JobStates.Running, Outcome.Pending), (row.State, row.Outcome));
        Assert.Equal(back + options.Value.Lease, row.LeaseExpiresAt);
        Assert.DoesNotContain((await lab.RunAsync(runId)).Jobs, j => j.Attempt == 2);
    }

    [Fact]
    public async Task FailLostJobs_EveryAttemptLost_RunEndsAgentLostAfterTwoRetries()
    {
        var (agent, _, runId, all) = await ClaimedJobAsync();

        for (var attempt = 1; attempt <= 1 + JobRetries.MaxRetries; attempt++)
        {
            Assert.True(await ExpireLeasesAsync(runId) >= all.Count);
            if (attempt <= JobRetries.MaxRetries)
            {
                for (var i = 0; i < all.Count; i++)
                    Assert.NotNull(await LabFixture.NextJobAsync(agent, 10));
            }
        }

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.AgentLost, run.Outcome);
        Assert.NotNull(run.EndedAt);
        Assert.Equal((1 + JobRetries.MaxRetries) * all.Count, run.Jobs.Count);
        Assert.All(run.Jobs, j => Assert.Equal(Outcome.AgentLost, j.Outcome));
        Assert.Equal([1, 2, 3], run.Jobs.Select(j => j.Attempt).Distinct().Order());
        Assert.Null(await LabFixture.NextJobAsync(agent, 0));
    }

    [Fact]
    public async Task Complete_InfraErrorThenRetryPasses_RunPassedFailedAttemptKept()
    {
        var (agent, job, runId, all) = await ClaimedJobAsync();
        foreach (var other in all.Where(j => j.JobId != job.JobId))
            await EndAsync(agent, other.JobId, Outcome.Passed);

        var failed = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.InfraError, "checkout: disk full"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, failed.StatusCode);
        Assert.Equal(Outcome.Pending, (await lab.RunAsync(runId)).Outcome);
        var retry = (await LabFixture.NextJobAsync(agent, 10))!;
        Assert.NotEqual(job.JobId, retry.JobId);
        Assert.Equal((job.Variant, job.MachineName), (retry.Variant, retry.MachineName));

        await EndAsync(agent, retry.JobId, Outcome.Passed);

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Passed, run.Outcome);
        Assert.NotNull(run.EndedAt);
        var first = run.Jobs.Single(j => j.Id == job.JobId);
        Assert.Equal((Outcome.InfraError, "checkout: disk full", 1), (first.Outcome, first.Detail, first.Attempt));
        var second = run.Jobs.Single(j => j.Id == retry.JobId);
        Assert.Equal((Outcome.Passed, 2), (second.Outcome, second.Attempt));
    }

    [Fact]
    public async Task Complete_KernelFault_NotRetried()
    {
        var (agent, _, runId, all) = await ClaimedJobAsync();

        foreach (var job in all)
            await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.BuildFailed, "make: error"), LabFixture.Json);

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.BuildFailed, run.Outcome);
        Assert.Equal(all.Count, run.Jobs.Count);
        Assert.Null(await LabFixture.NextJobAsync(agent, 0));
    }
}
