using System.Net;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Dashboard;

[Collection(LabCollection.Name)]
public sealed class DashboardPagesTests(LabFixture lab)
{
    [Fact]
    public async Task Pages_RunWithBootAndConsole_RenderCommitStagesAndEscapedConsole()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("dash-" + tag, ["x86_64", tag]);
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var job = (await LabFixture.NextJobAsync(agent, 10))!;
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console",
            new ConsoleChunk(0, [new ConsoleLine(0, DateTimeOffset.UtcNow, "<script>alert(1)</script> & done")]), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0",
            AgentJobsApiTests.Boot(0, Outcome.Passed, "entry", "long-mode", "kmain-done"), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);
        using var client = lab.Client();

        var list = await client.GetAsync("/");
        var runPage = await client.GetStringAsync($"/runs/{pushed.RunId}");
        var console = await client.GetStringAsync($"/jobs/{job.JobId}/console");
        var chart = await client.GetAsync("/charts/boot-time");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("text/html", list.Content.Headers.ContentType?.MediaType);
        Assert.Contains(pushed.Commit[..12], await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(pushed.Commit, runPage, StringComparison.Ordinal);
        foreach (var stage in new[] { "entry", "long-mode", "kmain-done" })
            Assert.Contains($"<td>{stage}</td>", runPage, StringComparison.Ordinal);
        Assert.Contains("double-free", runPage, StringComparison.Ordinal);
        Assert.Contains("corrupt markers: 1", runPage, StringComparison.Ordinal);
        foreach (var page in new[] { runPage, console })
        {
            Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; done", page, StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.OK, chart.StatusCode);
        var svg = await chart.Content.ReadAsStringAsync();
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.Contains(pushed.Commit[..8], svg, StringComparison.Ordinal);
        Assert.Contains($"dash-{tag}/qemu-0", svg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BootTimeChart_FailedBootAndOtherPipeline_OnlyPassedBootsOfThatPipelinePlotted()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("chart-" + tag, ["x86_64", tag]);
        await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var passed = (await LabFixture.NextJobAsync(agent, 10))!;
        var panicked = (await LabFixture.NextJobAsync(agent, 10))!;
        await agent.PostAsJsonAsync($"/api/agent/jobs/{passed.JobId}/boots/0", AgentJobsApiTests.Boot(0, Outcome.Passed, "entry", "kmain-done"), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{panicked.JobId}/boots/0", AgentJobsApiTests.Boot(0, Outcome.KernelPanic, "entry"), LabFixture.Json);
        using var client = lab.Client();

        var chart = await client.GetStringAsync($"/charts/boot-time?pipeline={Uri.EscapeDataString("pipelines/redox-reference.yaml")}");
        var other = await client.GetStringAsync("/charts/boot-time?pipeline=pipelines%2Fnone.yaml");

        Assert.Contains($"chart-{tag}/qemu-0 ({passed.Variant})", chart, StringComparison.Ordinal);
        Assert.DoesNotContain($"chart-{tag}/qemu-0 ({panicked.Variant})", chart, StringComparison.Ordinal);
        Assert.DoesNotContain($"chart-{tag}", other, StringComparison.Ordinal);
        Assert.Contains("No passed boots of this pipeline yet.", other, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunPage_UnknownRun_Returns404()
    {
        using var client = lab.Client();

        var response = await client.GetAsync($"/runs/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
