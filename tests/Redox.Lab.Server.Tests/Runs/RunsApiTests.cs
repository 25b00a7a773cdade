using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Runs;

[Collection(LabCollection.Name)]
public sealed class RunsApiTests(LabFixture lab)
{
    [Fact]
    public async Task Push_ValidPipeline_Returns201ThenResolvesFullCommitAndStoresRun()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag("t" + Guid.NewGuid().ToString("N")[..8]));
        var head = await repo.GitAsync("rev-parse", "HEAD");

        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, "main"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        Assert.Null(pushed.Commit); // a branch: resolved in the background
        Assert.EndsWith($"/runs/{pushed.RunId}", pushed.Url, StringComparison.Ordinal);
        var run = await lab.WaitForRunAsync(pushed.RunId, r => !r.Resolving);
        Assert.Equal(head, run.Commit);
        Assert.Equal("main", run.Branch);
        Assert.Equal("pipelines/redox-reference.yaml", run.Pipeline);
        Assert.NotEqual(Outcome.Error, run.Outcome);
    }

    [Fact]
    public async Task Push_FullCommit_AnsweredWithThatCommit()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag("t" + Guid.NewGuid().ToString("N")[..8]));
        var head = await repo.GitAsync("rev-parse", "HEAD");

        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, Commit: head.ToUpperInvariant()), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        Assert.Equal(head, pushed.Commit);
        Assert.Equal(head, (await lab.WaitForRunAsync(pushed.RunId, r => !r.Resolving)).Commit);
    }

    [Fact]
    public async Task Push_ByAbbreviatedCommit_ResolvesFullCommit()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag("t" + Guid.NewGuid().ToString("N")[..8]));
        var first = await repo.GitAsync("rev-parse", "HEAD");
        await repo.CommitAsync(new Dictionary<string, string> { ["README.md"] = "changed\n" }, "second");

        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, Commit: first[..10]), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        Assert.Equal(first, (await lab.WaitForRunAsync(pushed.RunId, r => !r.Resolving)).Commit);
    }

    [Fact]
    public async Task Push_NewCommitOnBranch_FetchesIntoExistingMirror()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag("t" + Guid.NewGuid().ToString("N")[..8]));
        await lab.PushAsync(repo);
        var second = await repo.CommitAsync(new Dictionary<string, string> { ["README.md"] = "v2\n" }, "second");

        var pushed = await lab.PushAsync(repo);

        Assert.Equal(second, pushed.Commit);
    }

    [Fact]
    public async Task Push_MalformedPipeline_RunEndsAsErrorNamingLineAndField()
    {
        var yaml = Repo.ReferencePipeline.Replace("timeout: 90s", "timeout: 90 parsecs", StringComparison.Ordinal);
        var repo = await lab.RepoWithPipelineAsync(yaml);

        var run = await PushExpectingErrorAsync(new PushRequest(repo.Path, "main"));

        // The line is found, not hard-coded: the reference pipeline changes with the kernel.
        var line = Array.FindIndex(yaml.Split('\n'), l => l.Contains("90 parsecs", StringComparison.Ordinal)) + 1;
        Assert.Contains($"pipelines/redox-reference.yaml:{line}:", run.Detail, StringComparison.Ordinal);
        Assert.Contains("boot.timeout", run.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_UnknownBranch_RunEndsAsErrorNamingBranch()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipeline);

        var run = await PushExpectingErrorAsync(new PushRequest(repo.Path, "no-such-branch"));

        Assert.Contains("unknown branch 'no-such-branch'", run.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_MissingPipelineFile_RunEndsAsErrorNamingFile()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipeline);

        var run = await PushExpectingErrorAsync(new PushRequest(repo.Path, "main", Pipeline: "pipelines/nope.yaml"));

        Assert.Contains("pipelines/nope.yaml", run.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_UnreachableRepository_RunEndsAsErrorWithoutLocation()
    {
        var missing = Path.Combine(lab.TempDir, "does-not-exist-" + Guid.NewGuid().ToString("N")[..8]);
        var registered = await lab.RegisterRepoAsync(missing);

        var run = await PushExpectingErrorAsync(new PushRequest(missing, "main"));

        Assert.Contains($"cannot read repository {registered.Name}", run.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(missing, run.Detail, StringComparison.Ordinal);
    }

    /// <summary>The push is answered 201 with no commit yet; the background resolution ends the run as error.</summary>
    private async Task<RunView> PushExpectingErrorAsync(PushRequest request)
    {
        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/runs", request, LabFixture.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.EndedAt is not null);
        Assert.Equal(Outcome.Error, run.Outcome);
        Assert.False(run.Resolving);
        Assert.Empty(run.Jobs);
        Assert.NotNull(run.Detail);
        return run;
    }

    [Fact]
    public async Task Push_MalformedJson_Returns400Problem()
    {
        using var client = lab.Client();
        using var body = new StringContent("{\"repository\": ", System.Text.Encoding.UTF8, "application/json");
        var response = await client.PostAsync("/api/runs", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Push_MissingRepository_Returns400Problem()
    {
        using var client = lab.Client();
        using var body = new StringContent("{\"branch\": \"main\"}", System.Text.Encoding.UTF8, "application/json");
        var response = await client.PostAsync("/api/runs", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        Assert.Contains("repository", problem.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CreateJobsForRun_NoMachineHasTags_RunEndsAsInfraError()
    {
        var tag = "nobody-has-" + Guid.NewGuid().ToString("N")[..8];
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));

        var pushed = await lab.PushAsync(repo);

        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.EndedAt is not null);
        Assert.Equal(Outcome.InfraError, run.Outcome);
        Assert.Empty(run.Jobs);
        using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<Data.LabDbContext>();
        var detail = db.Runs.Single(r => r.Id == pushed.RunId).Detail;
        Assert.Equal($"no machine has tags [x86_64, {tag}]", detail);
        Assert.Equal(detail, run.Detail);
        using var client = lab.Client();
        var summaries = (await client.GetFromJsonAsync<List<RunSummary>>("/api/runs?limit=1000", LabFixture.Json))!;
        Assert.Equal(detail, summaries.Single(r => r.Id == pushed.RunId).Detail);
        var page = System.Net.WebUtility.HtmlDecode(await client.GetStringAsync($"/runs/{pushed.RunId}"));
        Assert.Contains($"<p class=\"reason\">{detail}</p>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateJobsForRun_RunTwice_CreatesNoDuplicates()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        await lab.EnrolAsync("dup-" + tag, ["x86_64", tag], ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        var pushed = await lab.PushAsync(repo);
        var expected = 2 * Repo.ReferenceVariants.Count;
        await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count == expected);

        await using (var scope = lab.Scope())
        {
            var job = scope.ServiceProvider.GetRequiredService<Redox.Lab.Server.Jobs.CreateJobsForRunJob>();
            await job.RunAsync(pushed.RunId, CancellationToken.None);
            await job.RunAsync(pushed.RunId, CancellationToken.None);
        }

        var run = await lab.RunAsync(pushed.RunId);
        Assert.Equal(expected, run.Jobs.Count);
        Assert.Equal(expected, run.Jobs.Select(j => (j.Machine, j.Variant)).Distinct().Count());
    }

    [Fact]
    public async Task ListRuns_AfterPush_NewestFirst()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag("t" + Guid.NewGuid().ToString("N")[..8]));
        await lab.PushAsync(repo);
        var latest = await lab.PushAsync(repo);

        using var client = lab.Client();
        var runs = (await client.GetFromJsonAsync<List<RunSummary>>("/api/runs?limit=5", LabFixture.Json))!;

        Assert.Equal(latest.RunId, runs[0].Id);
        Assert.True(runs.Count <= 5);
    }

    [Fact]
    public async Task GetRun_UnknownId_Returns404Problem()
    {
        using var client = lab.Client();
        var response = await client.GetAsync($"/api/runs/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task GetConsole_UnknownJob_Returns404()
    {
        using var client = lab.Client();
        var response = await client.GetAsync($"/api/jobs/{Guid.NewGuid()}/console");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_DatabaseUp_Returns200()
    {
        using var client = lab.Client();
        var response = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
