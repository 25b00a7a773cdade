using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Runs;

[Collection(LabCollection.Name)]
public sealed class RunEventsApiTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Events_RunToTheEnd_StreamsJobsLiveStagesBootsThenEnd()
    {
        var tag = "sse" + Guid.NewGuid().ToString("N")[..8];
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        var (_, agent) = await lab.EnrolAsync("sse-" + tag, ["x86_64", tag]);
        var pushed = await lab.PushAsync(repo);
        using var client = lab.Client();
        using var response = await client.GetAsync($"/api/runs/{pushed.RunId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reading = ReadEventsAsync(await response.Content.ReadAsStreamAsync());

        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count == Repo.ReferenceVariants.Count);
        foreach (var _ in run.Jobs)
        {
            var job = (await LabFixture.NextJobAsync(agent, 10))!;
            var lines = new[] { "booting", "@@LAB stage name=entry tsc=8123311 *9f9cb701", "hello \u001b]0;evil\u0007", "@@LAB stage name=kmain-done tsc=9123311 *65078c56" }
                .Select(t => new ConsoleLine(0, T0, t)).ToList();
            Assert.True((await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console", new ConsoleChunk(0, lines), LabFixture.Json)).IsSuccessStatusCode);
            var boot = new BootReport(0, Outcome.Passed, null, T0, T0.AddSeconds(2), null,
                [new StageReport("entry", "marker", null, 1_000_000), new StageReport("kmain-done", "marker", null, 2_000_000)], [], [], [], 0);
            Assert.True((await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", boot, LabFixture.Json)).IsSuccessStatusCode);
            Assert.True((await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json)).IsSuccessStatusCode);
        }

        var events = await reading.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal("run", events[0].Type);
        Assert.Equal("end", events[^1].Type);
        Assert.Contains("\"outcome\":\"passed\"", events[^1].Data, StringComparison.Ordinal);
        Assert.True(events.Count(e => e.Type == "job") >= run.Jobs.Count * 2, string.Join('\n', events));
        Assert.Equal(run.Jobs.Count * 2, events.Count(e => e.Type == "stage"));
        Assert.Equal(run.Jobs.Count, events.Count(e => e.Type == "boot"));
        foreach (var job in run.Jobs)
        {
            // Each job's boot before the job's end, as the agent reported them (often read in the same poll).
            var bootAt = events.FindIndex(e => e.Type == "boot" && e.Data.Contains(job.Id.ToString(), StringComparison.Ordinal));
            var endedAt = events.FindIndex(e => e.Type == "job" && e.Data.Contains(job.Id.ToString(), StringComparison.Ordinal)
                && e.Data.Contains("\"state\":\"ended\"", StringComparison.Ordinal));
            Assert.True(bootAt >= 0 && bootAt < endedAt, string.Join('\n', events));
        }
    }

    [Fact]
    public async Task Events_UnknownRun_NotFound()
    {
        using var client = lab.Client();
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{Guid.NewGuid()}/events")).StatusCode);
    }

    private static async Task<List<(string Type, string Data)>> ReadEventsAsync(Stream stream)
    {
        var events = new List<(string, string)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(stream).EnumerateAsync())
            events.Add((item.EventType, item.Data));
        return events;
    }
}
