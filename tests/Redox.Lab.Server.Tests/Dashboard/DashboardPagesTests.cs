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
        // Two boots (the server takes boot reports only below the pipeline's boot.count).
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag).Replace("  count: 1\n", "  count: 2\n", StringComparison.Ordinal)));
        var job = (await LabFixture.NextJobAsync(agent, 10))!;
        // Boot 0 passes (the chart plots it); boot 1 panics, so the run page shows its console inline.
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console",
            new ConsoleChunk(0, [new ConsoleLine(0, DateTimeOffset.UtcNow, "boot zero"), new ConsoleLine(1, DateTimeOffset.UtcNow, "<script>alert(1)</script> & done")]), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0",
            AgentJobsApiTests.Boot(0, Outcome.Passed, "entry", "long-mode", "kmain-done"), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/1",
            AgentJobsApiTests.Boot(1, Outcome.KernelPanic, "entry"), LabFixture.Json);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.KernelPanic, "boot 0: kernel-panic"), LabFixture.Json);
        using var client = lab.Client();

        var list = await client.GetAsync("/runs");
        var runPage = await client.GetStringAsync($"/runs/{pushed.RunId}");
        var console = await client.GetStringAsync($"/jobs/{job.JobId}/console");
        // Pipeline and branch named: the defaults follow the newest passed run of any test.
        var chart = await client.GetAsync("/charts/boot-time?commits=500&pipeline=pipelines%2Fredox-reference.yaml&branch=main");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("text/html", list.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"href=\"/runs/{pushed.RunId}\"", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(pushed.Commit!, runPage, StringComparison.Ordinal);
        foreach (var stage in new[] { "entry", "long-mode", "kmain-done" })
            Assert.Contains($"<code>{stage}</code>", runPage, StringComparison.Ordinal);
        Assert.Contains("double-free", runPage, StringComparison.Ordinal);
        Assert.Contains("corrupt markers: 1", runPage, StringComparison.Ordinal);
        foreach (var page in new[] { runPage, console })
        {
            Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; done", page, StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.OK, chart.StatusCode);
        var html = await chart.Content.ReadAsStringAsync();
        Assert.Contains("data-chart=", html, StringComparison.Ordinal);
        Assert.Contains(pushed.Commit!, html, StringComparison.Ordinal);
        Assert.Contains($"data-series=\"dash-{tag}/qemu-0 {job.Variant}\"", html, StringComparison.Ordinal);
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

        var chart = await client.GetStringAsync($"/charts/boot-time?commits=500&pipeline={Uri.EscapeDataString("pipelines/redox-reference.yaml")}&branch=main");
        var other = await client.GetStringAsync("/charts/boot-time?pipeline=pipelines%2Fnone.yaml");

        Assert.Contains($"data-series=\"chart-{tag}/qemu-0 {passed.Variant}\"", chart, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-series=\"chart-{tag}/qemu-0 {panicked.Variant}\"", chart, StringComparison.Ordinal);
        Assert.DoesNotContain($"chart-{tag}", other, StringComparison.Ordinal);
        Assert.Contains("No passed boots of this pipeline and branch yet.", other, StringComparison.Ordinal);
    }


    [Fact]
    public async Task RunsPage_FilterByLocationInsteadOfName_MatchesNothing()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag), register: false);
        var registered = await lab.RegisterRepoAsync(repo.Path, name: "named-" + tag);
        var pushed = await lab.PushAsync(repo);
        using var client = lab.Client();

        var byName = await client.GetStringAsync($"/runs?repository={Uri.EscapeDataString(registered.Name)}");
        var byLocation = await client.GetStringAsync($"/runs?repository={Uri.EscapeDataString(repo.Path)}");

        Assert.Contains($"href=\"/runs/{pushed.RunId}\"", byName, StringComparison.Ordinal);
        Assert.DoesNotContain($"href=\"/runs/{pushed.RunId}\"", byLocation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsPage_TwoPagesByKeyset_OlderLinkReachesTheOlderRunOnce()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag), register: false);
        var registered = await lab.RegisterRepoAsync(repo.Path, name: "keyset-" + tag);
        var older = await lab.PushAsync(repo);
        var newer = await lab.PushAsync(repo);
        using var client = lab.Client();
        var filter = $"/runs?repository={Uri.EscapeDataString(registered.Name)}&limit=1";

        var first = await client.GetStringAsync(filter);
        var next = System.Text.RegularExpressions.Regex.Match(first, "href=\"([^\"]*before=[^\"]*)\" rel=\"next\"").Groups[1].Value;
        var second = await client.GetStringAsync(System.Net.WebUtility.HtmlDecode(next));

        Assert.Contains($"/runs/{newer.RunId}", first, StringComparison.Ordinal);
        Assert.DoesNotContain($"/runs/{older.RunId}", first, StringComparison.Ordinal);
        Assert.Contains($"/runs/{older.RunId}", second, StringComparison.Ordinal);
        Assert.DoesNotContain($"/runs/{newer.RunId}", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RawConsole_JobWithHostileLines_DownloadsTheTextUnchanged()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("raw-" + tag, ["x86_64", tag]);
        await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var job = (await LabFixture.NextJobAsync(agent, 10))!;
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/console",
            new ConsoleChunk(0, [new ConsoleLine(0, DateTimeOffset.UtcNow, "<b>one</b>"), new ConsoleLine(0, DateTimeOffset.UtcNow, "two \u001b[31m")]), LabFixture.Json);
        using var client = lab.Client();

        var response = await client.GetAsync($"/jobs/{job.JobId}/console.txt");
        var missing = await client.GetAsync($"/jobs/{Guid.NewGuid()}/console.txt");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("<b>one</b>\ntwo \u001b[31m\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("/jobs/{0}/console")]
    [InlineData("/runs/{0}")]
    public async Task Page_UnknownId_Returns404Page(string route)
    {
        using var client = lab.Client();

        var response = await client.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, route, Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Not found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticAssets_DashboardCssAndUplot_ServedFromTheLibrary()
    {
        using var client = lab.Client();

        var css = await client.GetAsync("/_content/Redox.Lab.Dashboard/dashboard.css");
        var uplot = await client.GetAsync("/_content/Redox.Lab.Dashboard/lib/uplot/uPlot.iife.min.js");

        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Contains("prefers-color-scheme: dark", await css.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, uplot.StatusCode);
        Assert.Contains("uPlot", await uplot.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
