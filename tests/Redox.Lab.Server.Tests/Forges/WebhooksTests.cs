using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Forges;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Forges;

[Collection(LabCollection.Name)]
public sealed class WebhooksTests(LabFixture lab)
{
    [Fact]
    public void SignatureMatches_GitHubDocsExample_True()
    {
        // The example in GitHub's "Validating webhook deliveries".
        var body = Encoding.UTF8.GetBytes("Hello, World!");
        const string header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

        Assert.True(GitHubDeliveries.SignatureMatches(HookedRepo.GitHubExampleSecret, body, header));
        Assert.False(GitHubDeliveries.SignatureMatches("It's a Secret to Everybody!", body, header));
        Assert.False(GitHubDeliveries.SignatureMatches(HookedRepo.GitHubExampleSecret, Encoding.UTF8.GetBytes("Hello, World?"), header));
        Assert.False(GitHubDeliveries.SignatureMatches(HookedRepo.GitHubExampleSecret, body, header.Replace("sha256=", "sha1=", StringComparison.Ordinal)));
        Assert.False(GitHubDeliveries.SignatureMatches(HookedRepo.GitHubExampleSecret, body, "sha256=zz" + header[9..]));
        Assert.False(GitHubDeliveries.SignatureMatches(HookedRepo.GitHubExampleSecret, body, null));
    }

    [Fact]
    public async Task GitHubPush_SeveralCommitsSignedWithExampleSecret_TestsTheHead()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github", HookedRepo.GitHubExampleSecret);
        var before = await repo.Git.GitAsync("rev-parse", "HEAD");
        var c1 = await repo.Git.CommitAsync(new Dictionary<string, string> { ["a.txt"] = "1\n" }, "one");
        var c2 = await repo.Git.CommitAsync(new Dictionary<string, string> { ["a.txt"] = "2\n" }, "two");
        var body = HookedRepo.GitHubPush(repo.Project, "refs/heads/main", before, c2, [c1, c2]);

        var (response, result) = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, repo.GitHubHeaders(body, Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("started", result!.Result);
        var run = await lab.RunAsync(Assert.Single(result.Runs));
        Assert.Equal(c2, run.Commit);
        Assert.Equal("main", run.Branch);
    }

    [Fact]
    public async Task GitHubPush_WrongSecret_RefusedAndNothingStored()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github");
        var head = await repo.Git.GitAsync("rev-parse", "HEAD");
        var body = HookedRepo.GitHubPush(repo.Project, "refs/heads/main", HookEvent.ZeroCommit, head, [head]);
        var delivery = Guid.NewGuid().ToString();

        var (wrong, _) = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, repo.GitHubHeaders(body, delivery, secret: HookedRepo.GitHubExampleSecret));
        var headers = repo.GitHubHeaders(body, delivery);
        headers.Remove("X-Hub-Signature-256");
        var (unsigned, _) = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, headers);
        var tampered = HookedRepo.GitHubPush(repo.Project, "refs/heads/evil", HookEvent.ZeroCommit, head, [head]);
        var (changed, _) = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", tampered, repo.GitHubHeaders(body, delivery));

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, changed.StatusCode);
        Assert.Equal((0, 0), await CountsAsync(repo.Name));
    }

    [Fact]
    public async Task GitHubPush_SameDeliveryTwice_StartsOneRun()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github");
        var head = await repo.Git.GitAsync("rev-parse", "HEAD");
        var body = HookedRepo.GitHubPush(repo.Project, "refs/heads/main", HookEvent.ZeroCommit, head, [head]);
        var headers = repo.GitHubHeaders(body, Guid.NewGuid().ToString());

        var first = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, headers);
        var again = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, headers);

        Assert.Equal(HttpStatusCode.Accepted, first.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.Response.StatusCode);
        Assert.Equal("duplicate", again.Result!.Result);
        Assert.Equal(first.Result!.Runs, again.Result.Runs);
        Assert.Equal((1, 1), await CountsAsync(repo.Name));
    }

    [Fact]
    public async Task GitHubPush_ForcePush_TestsTheNewHead()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github");
        var root = await repo.Git.GitAsync("rev-parse", "HEAD");
        var old = await repo.Git.CommitAsync(new Dictionary<string, string> { ["a.txt"] = "old\n" }, "old");
        await repo.Git.GitAsync("reset", "--hard", root);
        var rewritten = await repo.Git.CommitAsync(new Dictionary<string, string> { ["a.txt"] = "new\n" }, "rewritten");
        var body = HookedRepo.GitHubPush(repo.Project, "refs/heads/main", old, rewritten, [rewritten], forced: true);

        var (response, result) = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, repo.GitHubHeaders(body, Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(rewritten, (await lab.RunAsync(Assert.Single(result!.Runs))).Commit);
    }

    [Fact]
    public async Task GitHubDelivery_UnknownRepositoryMalformedOrForeign_RefusedClearly()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github");
        var head = await repo.Git.GitAsync("rev-parse", "HEAD");
        var body = HookedRepo.GitHubPush(repo.Project, "refs/heads/main", HookEvent.ZeroCommit, head, [head]);
        var garbage = Encoding.UTF8.GetBytes("{\"ref\": [1, 2");
        var foreign = HookedRepo.GitHubPush("someone/else", "refs/heads/main", HookEvent.ZeroCommit, head, [head]);

        var unknown = await HookedRepo.SendAsync(lab, "/hooks/github/no-such-repo", body, repo.GitHubHeaders(body, Guid.NewGuid().ToString()));
        var malformed = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", garbage, repo.GitHubHeaders(garbage, Guid.NewGuid().ToString()));
        var other = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", foreign, repo.GitHubHeaders(foreign, Guid.NewGuid().ToString()));
        var headers = repo.GitHubHeaders(body, "x");
        headers.Remove("X-GitHub-Delivery");
        var noDelivery = await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", body, headers);
        var wrongForge = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", body, repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.NotFound, unknown.Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Response.StatusCode);
        Assert.Contains("not a GitHub push payload", await malformed.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, other.Response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noDelivery.Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, wrongForge.Response.StatusCode);
        Assert.Equal((0, 0), await CountsAsync(repo.Name));
    }

    [Fact]
    public async Task GitHubDelivery_PingTagOrUntestedBranch_IgnoredWithoutRuns()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github", branches: ["main", "feature/*"]);
        var head = await repo.Git.GitAsync("rev-parse", "HEAD");
        var ping = Encoding.UTF8.GetBytes($"{{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1,\"repository\":{{\"id\":1,\"name\":\"x\",\"full_name\":\"{repo.Project}\"}}}}");
        var tag = HookedRepo.GitHubPush(repo.Project, "refs/tags/v1", HookEvent.ZeroCommit, head, [head]);
        var nested = HookedRepo.GitHubPush(repo.Project, "refs/heads/feature/a/b", HookEvent.ZeroCommit, head, [head]);

        var results = new[]
        {
            await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", ping, repo.GitHubHeaders(ping, Guid.NewGuid().ToString(), "ping")),
            await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", tag, repo.GitHubHeaders(tag, Guid.NewGuid().ToString())),
            await HookedRepo.SendAsync(lab, $"/hooks/github/{repo.Name}", nested, repo.GitHubHeaders(nested, Guid.NewGuid().ToString())),
        };

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Response.StatusCode));
        Assert.All(results, r => Assert.Equal("ignored", r.Result!.Result));
        Assert.Contains("not tested", results[2].Result!.Detail, StringComparison.Ordinal);
        Assert.Equal((3, 0), await CountsAsync(repo.Name));
    }

    [Fact]
    public async Task GitLabPushAndMergeRequest_Token_TestOnceAndIgnoreClosed()
    {
        var repo = await HookedRepo.CreateAsync(lab, "gitlab");
        await repo.Git.GitAsync("checkout", "-q", "-b", "topic");
        var head = await repo.Git.CommitAsync(new Dictionary<string, string> { ["t.txt"] = "topic\n" }, "topic");
        var push = HookedRepo.GitLabPush(repo.Project, "refs/heads/topic", HookEvent.ZeroCommit, head);
        var open = HookedRepo.GitLabMergeRequest(repo.Project, 7, "open", "topic", head);
        var close = HookedRepo.GitLabMergeRequest(repo.Project, 7, "close", "topic", head);
        var fork = HookedRepo.GitLabMergeRequest(repo.Project, 8, "open", "topic", head, sourceProject: 99);

        var badToken = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", push, repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString(), "wrong-token-0123456789"));
        var pushed = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", push, repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString()));
        var opened = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", open, repo.GitLabHeaders("Merge Request Hook", Guid.NewGuid().ToString()));
        var closed = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", close, repo.GitLabHeaders("Merge Request Hook", Guid.NewGuid().ToString()));
        var forked = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", fork, repo.GitLabHeaders("Merge Request Hook", Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Unauthorized, badToken.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, pushed.Response.StatusCode);
        var run = await lab.RunAsync(Assert.Single(pushed.Result!.Runs));
        Assert.Equal((head, "topic"), (run.Commit, run.Branch));
        // The merge request's head is the pushed commit: the run already testing it answers, no second run.
        Assert.Equal(pushed.Result.Runs, opened.Result!.Runs);
        Assert.Contains("already tested", opened.Result.Detail, StringComparison.Ordinal);
        Assert.Equal("ignored", closed.Result!.Result);
        Assert.Equal("ignored", forked.Result!.Result);
        Assert.Equal((4, 1), await CountsAsync(repo.Name));
    }

    [Fact]
    public async Task GitLabPush_BranchDeleted_CancelsItsQueuedWork()
    {
        var repo = await HookedRepo.CreateAsync(lab, "gitlab");
        // An agent whose machine matches but never asks for work: the run's jobs stay queued.
        await lab.EnrolAsync("idle-" + repo.Tag, ["x86_64", repo.Tag]);
        await repo.Git.GitAsync("checkout", "-q", "-b", "doomed");
        var head = await repo.Git.CommitAsync(new Dictionary<string, string> { ["d.txt"] = "d\n" }, "doomed");
        var push = HookedRepo.GitLabPush(repo.Project, "refs/heads/doomed", HookEvent.ZeroCommit, head);
        var pushed = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", push, repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString()));
        var runId = Assert.Single(pushed.Result!.Runs);
        await lab.WaitForRunAsync(runId, r => r.Jobs.Count > 0);

        var delete = HookedRepo.GitLabPush(repo.Project, "refs/heads/doomed", head, HookEvent.ZeroCommit);
        var deleted = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}", delete, repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.OK, deleted.Response.StatusCode);
        Assert.Equal("cancelled", deleted.Result!.Result);
        Assert.Equal([runId], deleted.Result.Runs);
        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Cancelled, run.Outcome);
        Assert.All(run.Jobs, j => Assert.Equal(Outcome.Cancelled, j.Outcome));
    }

    [Fact]
    public async Task GitLabPush_BranchDeletedWhileAJobRuns_ItsAgentToldToStopAndTheRunEndsCancelled()
    {
        var repo = await HookedRepo.CreateAsync(lab, "gitlab");
        var (_, agent) = await lab.EnrolAsync("busy-" + repo.Tag, ["x86_64", repo.Tag]);
        await repo.Git.GitAsync("checkout", "-q", "-b", "doomed");
        var head = await repo.Git.CommitAsync(new Dictionary<string, string> { ["d.txt"] = "d\n" }, "doomed");
        var pushed = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}",
            HookedRepo.GitLabPush(repo.Project, "refs/heads/doomed", HookEvent.ZeroCommit, head), repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString()));
        var runId = Assert.Single(pushed.Result!.Runs);
        var job = (await LabFixture.NextJobAsync(agent, 30))!;

        var deleted = await HookedRepo.SendAsync(lab, $"/hooks/gitlab/{repo.Name}",
            HookedRepo.GitLabPush(repo.Project, "refs/heads/doomed", head, HookEvent.ZeroCommit), repo.GitLabHeaders("Push Hook", Guid.NewGuid().ToString()));
        var heartbeat = await agent.PostAsync($"/api/agent/jobs/{job.JobId}/heartbeat", null);
        var answer = (await heartbeat.Content.ReadFromJsonAsync<HeartbeatResponse>(LabFixture.Json))!;

        Assert.Equal([runId], deleted.Result!.Runs);
        // The same cancel as POST /api/runs/{id}/cancel: the running job's agent powers off and completes.
        Assert.Equal(new HeartbeatResponse(false, true), answer);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Cancelled, "powered off"), LabFixture.Json);
        var run = await lab.WaitForRunAsync(runId, r => r.EndedAt != null);
        Assert.Equal(Outcome.Cancelled, run.Outcome);
        Assert.All(run.Jobs, j => Assert.Equal(Outcome.Cancelled, j.Outcome));
        Assert.Equal("cancelled: branch doomed deleted", run.Detail);
    }

    [Fact]
    public async Task PostReceive_TokenAndUpdate_StartsRunAndRepeatIsDuplicate()
    {
        var repo = await HookedRepo.CreateAsync(lab, "git");
        var head = await repo.Git.GitAsync("rev-parse", "HEAD");
        var body = Encoding.UTF8.GetBytes($"{{\"ref\":\"refs/heads/main\",\"before\":\"{HookEvent.ZeroCommit}\",\"after\":\"{head}\"}}");
        Dictionary<string, string> Headers(string token) => new() { ["X-Lab-Token"] = token, ["X-Lab-Delivery"] = "main-" + head };

        var bad = await HookedRepo.SendAsync(lab, $"/hooks/git/{repo.Name}", body, Headers("not-the-secret-at-all"));
        var first = await HookedRepo.SendAsync(lab, $"/hooks/git/{repo.Name}", body, Headers(repo.Secret));
        var again = await HookedRepo.SendAsync(lab, $"/hooks/git/{repo.Name}", body, Headers(repo.Secret));

        Assert.Equal(HttpStatusCode.Unauthorized, bad.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, first.Response.StatusCode);
        Assert.Equal("duplicate", again.Result!.Result);
        Assert.Equal(head, (await lab.RunAsync(Assert.Single(first.Result!.Runs))).Commit);
    }

    [Fact]
    public async Task PutHook_ShowsSecretsOnlyAsSet()
    {
        var repo = await HookedRepo.CreateAsync(lab, "github", statusApi: "http://127.0.0.1:9/api", statusToken: "status-token-value");
        using var admin = lab.Client();

        var text = await admin.GetStringAsync($"/api/repositories/{repo.Name}/hook");

        Assert.DoesNotContain(repo.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("status-token-value", text, StringComparison.Ordinal);
        Assert.Contains("\"secretSet\":true", text, StringComparison.Ordinal);
        Assert.Contains("\"statusTokenSet\":true", text, StringComparison.Ordinal);
    }

    private async Task<(int Deliveries, int Runs)> CountsAsync(string repository)
    {
        await using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
        var id = await db.Repositories.Where(r => r.Name == repository).Select(r => r.Id).SingleAsync();
        return (await db.Set<HookDeliveryRow>().CountAsync(d => d.RepositoryId == id), await db.Runs.CountAsync(r => r.RepositoryId == id));
    }
}
