using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Tests.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Runs;

/// <summary>The cancel contract (API.md): queued jobs end at once, a running job's agent learns it from its heartbeat.</summary>
[Collection(LabCollection.Name)]
public sealed partial class CancelApiTests(LabFixture lab)
{
    /// <summary>A run pushed by <paramref name="pusher"/> for a new agent's machine (one job per variant).</summary>
    private async Task<(HttpClient Agent, Guid RunId)> PushedAsync(string pusherToken)
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("cancel-" + tag, ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        using var pusher = lab.Client(pusherToken);
        var response = await pusher.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, "main"), LabFixture.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        await lab.WaitForRunAsync(pushed.RunId, r => r.Jobs.Count == Repo.ReferenceVariants.Count, timeoutMs: 60_000);
        return (agent, pushed.RunId);
    }

    [Fact]
    public async Task CancelRun_QueuedJobs_EndCancelledAtOnceAndNoAgentGetsThem()
    {
        var (agent, runId) = await PushedAsync(lab.AdminToken);
        using var admin = lab.Client();

        var response = await admin.PostAsync($"/api/runs/{runId}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = (await response.Content.ReadFromJsonAsync<RunView>(LabFixture.Json))!;
        Assert.Equal(Outcome.Cancelled, run.Outcome);
        Assert.NotNull(run.EndedAt);
        Assert.Equal("cancelled by admin", run.Detail);
        Assert.All(run.Jobs, j => Assert.Equal((Outcome.Cancelled, "cancelled by admin"), (j.Outcome, j.Detail)));
        Assert.Null(await LabFixture.NextJobAsync(agent, 0));
        // Idempotent: a second cancel answers the same.
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/runs/{runId}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task CancelRun_RunningJob_HeartbeatSaysCancelAndTheCompletionIsRecordedCancelled()
    {
        var (agent, runId) = await PushedAsync(lab.AdminToken);
        var jobs = new List<JobAssignment>();
        for (var i = 0; i < Repo.ReferenceVariants.Count; i++) jobs.Add((await LabFixture.NextJobAsync(agent, 10))!);
        using var admin = lab.Client();

        var response = await admin.PostAsync($"/api/runs/{runId}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Null((await response.Content.ReadFromJsonAsync<RunView>(LabFixture.Json))!.EndedAt);
        foreach (var job in jobs)
        {
            var beat = await agent.PostAsync($"/api/agent/jobs/{job.JobId}/heartbeat", null);
            Assert.Equal(new HeartbeatResponse(false, true), await beat.Content.ReadFromJsonAsync<HeartbeatResponse>(LabFixture.Json));
            // Whatever the agent says (it had just finished a passing boot), the job was cancelled.
            Assert.Equal(HttpStatusCode.NoContent, (await AgentJobsApiTests.EndAsync(agent, job.JobId, Outcome.Passed)).StatusCode);
        }
        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Cancelled, run.Outcome);
        Assert.NotNull(run.EndedAt);
        Assert.All(run.Jobs, j => Assert.Equal(Outcome.Cancelled, j.Outcome));
        Assert.Equal(jobs.Count, run.Jobs.Count);
    }

    [Fact]
    public async Task CancelRun_AgentNeverConfirms_LeaseExpiryEndsItCancelledNotAgentLostAndNoRetry()
    {
        var (agent, runId) = await PushedAsync(lab.AdminToken);
        for (var i = 0; i < Repo.ReferenceVariants.Count; i++) Assert.NotNull(await LabFixture.NextJobAsync(agent, 10));
        using var admin = lab.Client();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/runs/{runId}/cancel", null)).StatusCode);

        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LabDbContext>();
        var lease = await db.Jobs.AsNoTracking().Where(j => j.RunId == runId).MaxAsync(j => j.LeaseExpiresAt);
        var job = new FailLostJobsJob(db, new JobRetries(db, sp.GetRequiredService<ILogger<JobRetries>>()), new RunRollup(db),
            new FakeTimeProvider(lease!.Value.AddSeconds(1)), sp.GetRequiredService<IOptions<LabOptions>>(), sp.GetRequiredService<ILogger<FailLostJobsJob>>());
        // At least this run's jobs (other tests' jobs with leases past that time end too).
        Assert.True(await job.RunAsync(CancellationToken.None) >= Repo.ReferenceVariants.Count);

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Cancelled, run.Outcome);
        Assert.All(run.Jobs, j => Assert.Equal(Outcome.Cancelled, j.Outcome));
        Assert.All(run.Jobs, j => Assert.StartsWith("cancelled; the agent did not confirm", j.Detail, StringComparison.Ordinal));
        Assert.Equal(Repo.ReferenceVariants.Count, run.Jobs.Count);
    }

    [Fact]
    public async Task CancelRun_DeveloperOnOthersRun_Returns403AndViewer403AndOwnRun202()
    {
        var alice = await lab.UserTokenAsync("alice-" + Guid.NewGuid().ToString("N")[..6], "developer");
        var bob = await lab.UserTokenAsync("bob-" + Guid.NewGuid().ToString("N")[..6], "developer");
        var viewer = await lab.UserTokenAsync("vera-" + Guid.NewGuid().ToString("N")[..6], "viewer");
        var (_, runId) = await PushedAsync(alice);

        using var asBob = lab.Client(bob);
        using var asViewer = lab.Client(viewer);
        using var asAlice = lab.Client(alice);
        var byBob = await asBob.PostAsync($"/api/runs/{runId}/cancel", null);
        var byViewer = await asViewer.PostAsync($"/api/runs/{runId}/cancel", null);
        Assert.Equal(Outcome.Pending, (await lab.RunAsync(runId)).Outcome);
        var byAlice = await asAlice.PostAsync($"/api/runs/{runId}/cancel", null);

        Assert.Equal(HttpStatusCode.Forbidden, byBob.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, byAlice.StatusCode);
        Assert.Equal(Outcome.Cancelled, (await lab.RunAsync(runId)).Outcome);
    }

    [Fact]
    public async Task CancelRun_EndedRun_Returns409AndUnknownRun404()
    {
        var (agent, runId) = await PushedAsync(lab.AdminToken);
        for (var i = 0; i < Repo.ReferenceVariants.Count; i++)
            await AgentJobsApiTests.EndAsync(agent, (await LabFixture.NextJobAsync(agent, 10))!.JobId, Outcome.Passed);
        Assert.Equal(Outcome.Passed, (await lab.RunAsync(runId)).Outcome);
        using var admin = lab.Client();

        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/runs/{runId}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/runs/{Guid.NewGuid()}/cancel", null)).StatusCode);
        Assert.Equal(Outcome.Passed, (await lab.RunAsync(runId)).Outcome);
    }

    [Fact]
    public async Task CancelJob_OneOfTwo_OtherJobGoesOn()
    {
        var (agent, runId) = await PushedAsync(lab.AdminToken);
        var run = await lab.RunAsync(runId);
        if (run.Jobs.Count < 2) return; // the reference pipeline has one variant: nothing to keep going
        using var admin = lab.Client();

        var response = await admin.PostAsync($"/api/jobs/{run.Jobs[0].Id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var after = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Cancelled, after.Jobs.Single(j => j.Id == run.Jobs[0].Id).Outcome);
        Assert.Equal(Outcome.Pending, after.Jobs.Single(j => j.Id == run.Jobs[1].Id).Outcome);
        Assert.Equal(run.Jobs[1].Id, (await LabFixture.NextJobAsync(agent, 10))!.JobId);
    }

    [Fact]
    public async Task CancelButton_SignedInDeveloper_FormWithAntiforgeryCancelsAndAFormWithoutTokenIs400()
    {
        var name = "dora-" + Guid.NewGuid().ToString("N")[..6];
        var token = await lab.UserTokenAsync(name, "developer");
        var (_, runId) = await PushedAsync(token);
        using var browser = lab.BrowserClient();
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");
        await LogInAsync(browser, token);

        var page = await browser.GetStringAsync($"/runs/{runId}");
        var field = AntiforgeryField().Match(page[page.IndexOf("cancel-run", StringComparison.Ordinal)..]);
        Assert.True(field.Success, "the run page has no cancel form with an antiforgery token");
        var forged = await browser.PostAsync($"/runs/{runId}/cancel", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(Outcome.Pending, (await lab.RunAsync(runId)).Outcome);

        var cancel = await browser.PostAsync($"/runs/{runId}/cancel",
            new FormUrlEncodedContent([new(field.Groups["name"].Value, WebUtility.HtmlDecode(field.Groups["value"].Value))]));

        Assert.Equal(HttpStatusCode.Redirect, cancel.StatusCode);
        Assert.Equal($"/runs/{runId}", cancel.Headers.Location?.OriginalString);
        Assert.Equal(Outcome.Cancelled, (await lab.RunAsync(runId)).Outcome);
        var ended = await browser.GetStringAsync($"/runs/{runId}");
        Assert.DoesNotContain("cancel-run", ended, StringComparison.Ordinal);
    }

    /// <summary>Opens a session at /login with the token, as a browser does.</summary>
    private static async Task LogInAsync(HttpClient browser, string token)
    {
        var form = await browser.GetStringAsync("/login");
        var field = AntiforgeryField().Match(form);
        var response = await browser.PostAsync("/login", new FormUrlEncodedContent(
        [
            new(field.Groups["name"].Value, WebUtility.HtmlDecode(field.Groups["value"].Value)),
            new("token", token),
            new("returnUrl", "/"),
        ]));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
