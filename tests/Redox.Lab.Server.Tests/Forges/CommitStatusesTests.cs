using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Forges;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Forges;

[Collection(LabCollection.Name)]
public sealed class CommitStatusesTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task GitHubStatuses_RunToTheEnd_PendingRunningSuccessInOrderWithSummaryAndLink()
    {
        await using var forge = new RecordingForge();
        var repo = await HookedRepo.CreateAsync(lab, "github", statusApi: forge.Url, statusToken: "gh-status-token");
        var runId = await PushAndBootAsync(repo, "github");

        var requests = await WaitForAsync(forge, runId, perJob: 3);

        foreach (var context in requests.GroupBy(r => r.Body.GetProperty("context").GetString()))
        {
            var states = context.Select(r => (r.Body.GetProperty("state").GetString(), r.Body.GetProperty("description").GetString()![..7])).ToList();
            Assert.Equal([("pending", "queued:"), ("pending", "running"), ("success", "passed,")], states);
            var final = context.Last();
            Assert.Matches(@"^passed, boot 3 ms", final.Body.GetProperty("description").GetString());
            Assert.Equal($"http://127.0.0.1:5080/runs/{runId}", final.Body.GetProperty("target_url").GetString());
            Assert.All(context, r => Assert.Equal("Bearer gh-status-token", r.Headers["Authorization"]));
            Assert.All(context, r => Assert.StartsWith($"/repos/{repo.Project}/statuses/", r.Path, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GitLabStatuses_ForgeDownThenUp_RetriedUntilPostedInOrder()
    {
        await using var forge = new RecordingForge(failFirst: 2);
        var repo = await HookedRepo.CreateAsync(lab, "gitlab", statusApi: forge.Url + "/api/v4", statusToken: "gl-status-token");
        var runId = await PushAndBootAsync(repo, "gitlab");

        var accepted = await WaitForAsync(forge, runId, perJob: 3);

        Assert.Equal(2, forge.Requests.Count(r => r.Status == 503));
        foreach (var context in accepted.GroupBy(r => r.Body.GetProperty("name").GetString()))
            Assert.Equal(["pending", "running", "success"], context.Select(r => r.Body.GetProperty("state").GetString()));
        Assert.All(accepted, r => Assert.Equal("gl-status-token", r.Headers["PRIVATE-TOKEN"]));
        Assert.All(accepted, r => Assert.StartsWith($"/api/v4/projects/{Uri.EscapeDataString(repo.Project)}/statuses/", r.Path, StringComparison.Ordinal));
        var statuses = await WaitForPostedAsync(runId);
        Assert.All(statuses, s => Assert.NotNull(s.PostedAt));
        Assert.Contains(statuses, s => s.Attempts > 1);
    }

    /// <summary>
    /// The run's statuses once each is recorded as posted: the server records it after the forge's answer, so the forge
    /// can hold the last status a moment before the server's row says so. Returns the last reading after three minutes.
    /// </summary>
    private async Task<List<CommitStatusView>> WaitForPostedAsync(Guid runId)
    {
        using var client = lab.Client();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            var statuses = (await client.GetFromJsonAsync<List<CommitStatusView>>($"/api/runs/{runId}/statuses", LabFixture.Json))!;
            if (statuses.All(s => s.PostedAt is not null) || DateTime.UtcNow > deadline) return statuses;
            await Task.Delay(200);
        }
    }

    /// <summary>Pushes through the repository's webhook, then plays the agent: claims each job, reports a passing boot, completes it.</summary>
    private async Task<Guid> PushAndBootAsync(HookedRepo repo, string forgeKind)
    {
        var (_, agent) = await lab.EnrolAsync("status-" + repo.Tag, ["x86_64", repo.Tag]);
        var head = await repo.Git.GitAsync("rev-parse", "HEAD");
        byte[] body;
        Dictionary<string, string> headers;
        if (forgeKind == "github")
        {
            body = HookedRepo.GitHubPush(repo.Project, "refs/heads/main", HookEvent.ZeroCommit, head, [head]);
            headers = repo.GitHubHeaders(body, Guid.NewGuid().ToString());
        }
        else
        {
            body = HookedRepo.GitLabPush(repo.Project, "refs/heads/main", HookEvent.ZeroCommit, head);
            headers = repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString());
        }
        var (_, result) = await HookedRepo.SendAsync(lab, $"/hooks/{forgeKind}/{repo.Name}", body, headers);
        var runId = Assert.Single(result!.Runs);
        var run = await lab.WaitForRunAsync(runId, r => r.Jobs.Count == Repo.ReferenceVariants.Count);
        foreach (var _ in run.Jobs)
        {
            var job = await LabFixture.NextJobAsync(agent, 10);
            Assert.NotNull(job);
            var boot = new BootReport(0, Outcome.Passed, null, T0, T0.AddSeconds(2), 2_000_000_000,
                [new StageReport("entry", "marker", 1_000_000, 1_500_000), new StageReport("kmain-done", "marker", 3_000_000, 4_000_000)],
                [], [new TestReport("mm.buddy", "pass", null)], [], 0);
            Assert.True((await agent.PostAsJsonAsync($"/api/agent/jobs/{job!.JobId}/boots/0", boot, LabFixture.Json)).IsSuccessStatusCode);
            Assert.True((await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json)).IsSuccessStatusCode);
        }
        return runId;
    }

    /// <summary>Waits until the forge accepted <paramref name="perJob"/> statuses for each of the run's jobs.</summary>
    private async Task<IReadOnlyList<RecordingForge.Request>> WaitForAsync(RecordingForge forge, Guid runId, int perJob)
    {
        var jobs = (await lab.RunAsync(runId)).Jobs.Count;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (forge.Accepted.Count < jobs * perJob)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the forge has {forge.Accepted.Count} of {jobs * perJob} statuses: " +
                    string.Join("; ", forge.Requests.Select(r => $"{r.Status} {r.Body}")));
            await Task.Delay(200);
        }
        return forge.Accepted;
    }
}
