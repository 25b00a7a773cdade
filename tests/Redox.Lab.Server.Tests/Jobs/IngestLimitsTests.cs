using System.Net;
using System.Net.Http.Json;
using System.Text;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

/// <summary>
/// The server never takes an agent's or a kernel's word beyond what it can check: console and boot-report limits
/// at ingest, nothing after the end, boots only below boot.count, the job's outcome from the stored boots.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class IngestLimitsTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private async Task<(HttpClient Agent, JobAssignment Job)> ClaimedJobAsync()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("limits-" + tag, ["x86_64", tag]);
        await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        return (agent, (await LabFixture.NextJobAsync(agent, 10))!);
    }

    private static ConsoleChunk Chunk(long offset, params string[] lines) =>
        new(offset, lines.Select(l => new ConsoleLine(0, T0, l)).ToList());

    private async Task<List<ConsoleLine>> ConsoleAsync(Guid jobId)
    {
        using var client = lab.Client();
        return (await client.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{jobId}/console", LabFixture.Json))!;
    }

    private async Task<JobView> JobAsync(JobAssignment job) => (await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId);

    [Fact]
    public async Task AppendConsole_TenMiBLine_StoredCutAt4096BytesSayingSo()
    {
        var (agent, job) = await ClaimedJobAsync();
        var huge = new string('A', 10 * 1024 * 1024);

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", Chunk(0, huge, "next"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = await ConsoleAsync(job.JobId);
        Assert.Equal(2, lines.Count);
        Assert.Equal(new string('A', 4096) + " [lab: line cut at 4096 of 10485760 bytes]", lines[0].Text);
        Assert.Equal("next", lines[1].Text);
    }

    [Fact]
    public async Task AppendConsole_PastLinesPerJob_MarkerStoredLaterLinesCountedAndAcknowledged()
    {
        var (agent, job) = await ClaimedJobAsync();
        using var limits = lab.Configure(("Lab:Limits:ConsoleLinesPerJob", "3"));
        var url = $"/api/agent/jobs/{job.JobId}/console";

        var first = await agent.PostAsJsonAsync(url, Chunk(0, "a", "b"), LabFixture.Json);
        var flood = await agent.PostAsJsonAsync(url, Chunk(2, "c", "d", "e", "f"), LabFixture.Json);
        var more = await agent.PostAsJsonAsync(url, Chunk(6, "g"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        // Acknowledged up to the end: the agent is not made to retry a flood (no infra-error, no retry).
        Assert.Equal(6, (await flood.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        Assert.Equal(7, (await more.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        var lines = await ConsoleAsync(job.JobId);
        Assert.Equal(["a", "b", "c", "[lab: console limit reached (3 lines); this and later lines of the job are counted, not stored]"], lines.Select(l => l.Text));
        await AgentJobsApiTests.EndAsync(agent, job.JobId, Outcome.Passed);
        Assert.EndsWith("console: 4 lines past the lab's limit counted, not stored", (await JobAsync(job)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendConsole_PastBytesPerJob_MarkerStored()
    {
        var (agent, job) = await ClaimedJobAsync();
        using var limits = lab.Configure(("Lab:Limits:ConsoleBytesPerJob", "10"));

        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", Chunk(0, "12345", "67890", "abcde"), LabFixture.Json);

        var lines = await ConsoleAsync(job.JobId);
        Assert.Equal(["12345", "67890", "[lab: console limit reached (10 bytes); this and later lines of the job are counted, not stored]"], lines.Select(l => l.Text));
    }

    [Fact]
    public async Task AppendConsole_BuildFloodsPastLinesPerBoot_MarkerStoredAndTheBootKeepsItsConsole()
    {
        var (agent, job) = await ClaimedJobAsync();
        using var limits = lab.Configure(("Lab:Limits:ConsoleLinesPerBoot", "2"));
        var url = $"/api/agent/jobs/{job.JobId}/console";
        ConsoleLine Line(int boot, string text) => new(boot, T0, text);

        var build = await agent.PostAsJsonAsync(url, new ConsoleChunk(0, [Line(-1, "cc a"), Line(-1, "cc b"), Line(-1, "cc c")]), LabFixture.Json);
        var more = await agent.PostAsJsonAsync(url, new ConsoleChunk(3, [Line(-1, "cc d"), Line(0, "boot 0 starts"), Line(0, "boot 0 ends"), Line(0, "boot 0 flood")]), LabFixture.Json);

        Assert.Equal(3, (await build.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        Assert.Equal(7, (await more.Content.ReadFromJsonAsync<ConsoleAck>(LabFixture.Json))!.NextOffset);
        var lines = await ConsoleAsync(job.JobId);
        Assert.Equal(
            [
                "cc a", "cc b",
                "[lab: console limit of the build reached (2 lines); this and later lines of the build are counted, not stored]",
                "boot 0 starts", "boot 0 ends",
                "[lab: console limit of boot 0 reached (2 lines); this and later lines of the boot are counted, not stored]",
            ],
            lines.Select(l => l.Text));
        await AgentJobsApiTests.EndAsync(agent, job.JobId, Outcome.Passed);
        Assert.EndsWith("console: 3 lines past the lab's limit counted, not stored (build: 2 past its own limit, boot 0: 1 past its own limit)", (await JobAsync(job)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendConsole_PastBytesPerBootThenPastTheJob_BothMarkersAndTheJobLimitStillHolds()
    {
        var (agent, job) = await ClaimedJobAsync();
        using var limits = lab.Configure(("Lab:Limits:ConsoleBytesPerBoot", "10"), ("Lab:Limits:ConsoleBytesPerJob", "15"));
        ConsoleLine Line(int boot, string text) => new(boot, T0, text);

        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console",
            new ConsoleChunk(0, [Line(0, "12345"), Line(0, "67890"), Line(0, "abcde"), Line(1, "fghij"), Line(1, "klmno")]), LabFixture.Json);

        var lines = await ConsoleAsync(job.JobId);
        Assert.Equal(
            [
                "12345", "67890",
                "[lab: console limit of boot 0 reached (10 bytes); this and later lines of the boot are counted, not stored]",
                "fghij",
                "[lab: console limit reached (15 bytes); this and later lines of the job are counted, not stored]",
            ],
            lines.Select(l => l.Text));
    }

    [Fact]
    public async Task Complete_HugeDetail_StoredCutAt4096Characters()
    {
        var (agent, job) = await ClaimedJobAsync();

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.InfraError, new string('e', 500_000)), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var detail = (await JobAsync(job)).Detail!;
        Assert.StartsWith(new string('e', 4096) + " [lab: cut at 4096 of 500000 characters]", detail, StringComparison.Ordinal);
        Assert.True(detail.Length < 5000);
    }

    [Fact]
    public async Task AppendConsole_AfterTheEnd_NewLines410ARetriedStoredChunkStillOk()
    {
        var (agent, job) = await ClaimedJobAsync();
        var url = $"/api/agent/jobs/{job.JobId}/console";
        await agent.PostAsJsonAsync(url, Chunk(0, "booted"), LabFixture.Json);
        await AgentJobsApiTests.EndAsync(agent, job.JobId, Outcome.Passed);

        var retried = await agent.PostAsJsonAsync(url, Chunk(0, "booted"), LabFixture.Json);
        var late = await agent.PostAsJsonAsync(url, Chunk(1, "forged after the end"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Equal(["booted"], (await ConsoleAsync(job.JobId)).Select(l => l.Text));
    }

    [Fact]
    public async Task ReportBoot_AfterTheEnd_410AndTheStoredBootStays()
    {
        var (agent, job) = await ClaimedJobAsync();
        await AgentJobsApiTests.EndAsync(agent, job.JobId, Outcome.KernelPanic, "panic");

        var replaced = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", AgentJobsApiTests.Boot(0, Outcome.Passed), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Gone, replaced.StatusCode);
        var stored = await JobAsync(job);
        Assert.Equal(Outcome.KernelPanic, Assert.Single(stored.Boots).Outcome);
        Assert.Equal(Outcome.KernelPanic, stored.Outcome);
    }

    [Fact]
    public async Task ReportBoot_IndexAtBootCount_Returns400AndStoresNothing()
    {
        var (agent, job) = await ClaimedJobAsync();

        // The reference pipeline boots once: index 1 is past it.
        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/1", AgentJobsApiTests.Boot(1, Outcome.Passed), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty((await JobAsync(job)).Boots);
    }

    [Fact]
    public async Task ReportBoot_FloodOfTests_CappedCountedAndJudgedTheKernelsFault()
    {
        var (agent, job) = await ClaimedJobAsync();
        using var limits = lab.Configure(("Lab:Limits:TestsPerBoot", "100"));
        var flood = AgentJobsApiTests.Boot(0, Outcome.Passed) with
        {
            Tests = Enumerable.Range(0, 20_000).Select(i => new TestReport($"t{i}", "pass", null)).ToList(),
        };

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", flood, LabFixture.Json);
        var complete = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, complete.StatusCode);
        var stored = await JobAsync(job);
        var boot = Assert.Single(stored.Boots);
        Assert.Equal(100, boot.Tests.Count);
        Assert.Equal(Outcome.TestFailed, boot.Outcome);
        Assert.Equal("lab limit: 19900 of 20000 tests not stored (limit 100 per boot)", boot.Detail);
        // The kernel's fault, not the lab's: no infra-error, no retry.
        Assert.Equal(Outcome.TestFailed, stored.Outcome);
        Assert.DoesNotContain((await lab.RunAsync(job.RunId)).Jobs, j => j.Attempt > 1);
    }

    [Fact]
    public async Task Complete_PassedButTheBootFailed_OutcomeFromTheStoredBoot()
    {
        var (agent, job) = await ClaimedJobAsync();
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", AgentJobsApiTests.Boot(0, Outcome.KernelPanic), LabFixture.Json);

        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, "all good"), LabFixture.Json);

        var stored = await JobAsync(job);
        Assert.Equal(Outcome.KernelPanic, stored.Outcome);
        Assert.Equal("boot 0: kernel-panic (from the stored boots; the agent said passed)", stored.Detail);
    }

    [Fact]
    public async Task Complete_PassedWithoutABootReport_InfraErrorNotPassed()
    {
        var (agent, job) = await ClaimedJobAsync();

        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);

        var run = await lab.RunAsync(job.RunId);
        var stored = run.Jobs.Single(j => j.Id == job.JobId);
        Assert.Equal(Outcome.InfraError, stored.Outcome);
        Assert.Equal("the agent reported passed but no boot report was stored", stored.Detail);
        Assert.NotEqual(Outcome.Passed, run.Outcome);
    }

    [Fact]
    public async Task Complete_CancelledThatNobodyAskedFor_InfraError()
    {
        var (agent, job) = await ClaimedJobAsync();

        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Cancelled, null), LabFixture.Json);

        Assert.Equal(Outcome.InfraError, (await JobAsync(job)).Outcome);
    }

    [Fact]
    public async Task Enrol_MoreMachinesThanTheLimit_Returns400AndRegistersNone()
    {
        using var limits = lab.Configure(("Lab:Limits:MachinesPerAgent", "3"));
        var name = "many-" + Guid.NewGuid().ToString("N")[..8];
        var machines = Enumerable.Range(0, 4).Select(i => new MachineInfo($"m{i}", "qemu", ["x86_64"], 1, 64)).ToList();
        using var anonymous = lab.AnonymousClient();

        var response = await anonymous.PostAsJsonAsync("/api/agents/enrol", new EnrolRequest(name, LabFixture.EnrolmentSecret, machines), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 3 machines", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var admin = lab.Client();
        var all = await admin.GetStringAsync("/api/machines");
        Assert.DoesNotContain(name, all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutMachines_MoreThanTheLimit_Returns400()
    {
        var (_, agent) = await lab.EnrolAsync("grow-" + Guid.NewGuid().ToString("N")[..8], ["x86_64"]);
        using var limits = lab.Configure(("Lab:Limits:MachinesPerAgent", "2"));
        var machines = Enumerable.Range(0, 5).Select(i => new MachineInfo($"m{i}", "qemu", ["x86_64"], 1, 64)).ToList();

        var response = await agent.PutAsJsonAsync("/api/agent/machines", new MachinesUpdate(machines), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task NextJob_Assignment_PublishesTheReportLimits()
    {
        using var limits = lab.Configure(("Lab:Limits:TestsPerBoot", "123"));

        var (_, job) = await ClaimedJobAsync();

        Assert.Equal(new ReportLimits(32L * 1024 * 1024, 1_000, 123, 10_000, 1_000, 4096), job.Limits);
    }

    [Fact]
    public async Task ReportBoot_OverTheRequestLimit_Returns413ProblemAndStoresNothing()
    {
        var (agent, job) = await ClaimedJobAsync();
        // One byte past the published limit: the problem answer comes before the body is read.
        var limit = job.Limits!.ReportBytes;
        var prefix = "{\"index\":0,\"outcome\":\"passed\",\"detail\":\"";
        var suffix = "\",\"startedAt\":\"2026-01-02T03:04:05Z\",\"endedAt\":\"2026-01-02T03:04:06Z\",\"stages\":[],\"metrics\":[],\"tests\":[],\"findings\":[],\"corruptMarkers\":0}";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/boots/0")
        {
            Content = new StringContent(prefix + new string('x', (int)limit + 1 - prefix.Length - suffix.Length) + suffix, Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;

        var response = await agent.SendAsync(request);

        // A clear, final answer: the agent's spool does not retry a 4xx other than 408/429 (JobSpool, SPOOL.md).
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await JobAsync(job)).Boots);
    }

    [Fact]
    public async Task ReportBoot_CutByTheAgent_RecordedInTheDetailAndJudgedTheKernelsFault()
    {
        var (agent, job) = await ClaimedJobAsync();
        var cut = AgentJobsApiTests.Boot(0, Outcome.Passed) with { Cut = new ReportCut(Tests: 790_000, ProfileChars: 5_000) };

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", cut, LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var stored = await JobAsync(job);
        var boot = Assert.Single(stored.Boots);
        Assert.Equal(Outcome.TestFailed, boot.Outcome);
        Assert.Equal("lab limit: 790000 tests and 5000 profile characters not sent by the agent (over the lab's report limits)", boot.Detail);
        Assert.Equal(Outcome.TestFailed, stored.Outcome);
        Assert.DoesNotContain((await lab.RunAsync(job.RunId)).Jobs, j => j.Attempt > 1);
    }

    [Fact]
    public async Task ReportBoot_NegativeCut_Returns400()
    {
        var (agent, job) = await ClaimedJobAsync();

        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", AgentJobsApiTests.Boot(0, Outcome.Passed) with { Cut = new ReportCut(Tests: -1) }, LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty((await JobAsync(job)).Boots);
    }

    [Fact]
    public async Task Push_HugeRepositoryString_Returns413BeforeReadingIt()
    {
        using var admin = lab.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs")
        {
            Content = new StringContent($"{{\"repository\":\"{new string('x', 29 * 1024 * 1024)}\",\"branch\":\"main\"}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;

        var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
