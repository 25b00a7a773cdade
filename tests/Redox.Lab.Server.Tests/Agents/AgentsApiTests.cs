using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Agents;

[Collection(LabCollection.Name)]
public sealed class AgentsApiTests(LabFixture lab)
{
    private static string NewTag() => "t" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Enrol_WrongSecret_Returns401()
    {
        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/agents/enrol", new EnrolRequest("intruder", "guess", []), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Enrol_StoresOnlyTokenHash()
    {
        var name = "hash-" + NewTag();
        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/agents/enrol",
            new EnrolRequest(name, LabFixture.EnrolmentSecret, [new MachineInfo("qemu-0", "qemu", ["x86_64"], 2, 512)], "1.2.3"), LabFixture.Json);
        var enrolled = (await response.Content.ReadFromJsonAsync<EnrolResponse>(LabFixture.Json))!;

        await using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
        var agent = await db.Agents.Include(a => a.Machines).SingleAsync(a => a.Name == name);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(enrolled.Token)), agent.TokenHash);
        Assert.Equal("1.2.3", agent.Version);
        var machine = Assert.Single(agent.Machines);
        Assert.Equal(["x86_64"], machine.Tags);
        Assert.Equal(512, machine.MemoryMiB);
    }

    [Fact]
    public async Task Enrol_SameNameAgain_SameAgentNewTokenOldTokenVoid()
    {
        var name = "re-" + NewTag();
        var (firstId, first) = await lab.EnrolAsync(name, ["x86_64"]);
        var (secondId, second) = await lab.EnrolAsync(name, ["x86_64"]);

        Assert.Equal(firstId, secondId);
        var update = new MachinesUpdate([new MachineInfo("qemu-0", "qemu", ["x86_64"], 1, 256)]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await first.PutAsJsonAsync("/api/agent/machines", update, LabFixture.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await second.PutAsJsonAsync("/api/agent/machines", update, LabFixture.Json)).StatusCode);
    }

    [Fact]
    public async Task AgentRoutes_NoToken_Return401()
    {
        using var client = lab.Client();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/agent/jobs/next?wait=0")).StatusCode);
        using var bogus = lab.Client("not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await bogus.GetAsync("/api/agent/jobs/next?wait=0")).StatusCode);
    }

    [Fact]
    public async Task PutMachines_DropsMachine_ItNoLongerGetsJobs()
    {
        var tag = NewTag();
        var (_, agent) = await lab.EnrolAsync("drop-" + tag, ["x86_64", tag]);
        var update = new MachinesUpdate([new MachineInfo("other", "qemu", ["x86_64"], 1, 256)]);
        Assert.Equal(HttpStatusCode.NoContent, (await agent.PutAsJsonAsync("/api/agent/machines", update, LabFixture.Json)).StatusCode);

        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));

        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.EndedAt is not null);
        Assert.Equal(Outcome.InfraError, run.Outcome);
    }

    /// <summary>How the job reaches a parked long poll (NOTIFY, not the clock) is JobClaimsTests' business.</summary>
    [Fact]
    public async Task NextJob_IdleAgentThenPush_ReceivesTheJobWithItsAssignment()
    {
        var tag = NewTag();
        var (_, agent) = await lab.EnrolAsync("fast-" + tag, ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));

        var waiting = LabFixture.NextJobAsync(agent, 30);
        var pushed = await lab.PushAsync(repo);
        var job = await waiting;

        Assert.NotNull(job);
        Assert.Equal(pushed.RunId, job.RunId);
        Assert.Equal(pushed.Commit, job.Commit);
        Assert.Contains(job.Variant, Repo.ReferenceVariants);
        Assert.Equal("qemu-0", job.MachineName);
        Assert.Equal(LabFixture.LeaseSeconds, job.LeaseSeconds);
        Assert.Contains("name: redox-reference", job.PipelineYaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NextJob_NothingQueued_Returns204AfterWait()
    {
        var (_, agent) = await lab.EnrolAsync("idle-" + NewTag(), ["x86_64", NewTag()]);
        // Jobs of other tests' runs may be queued for earlier agents; this one's machine has a tag nobody asks for,
        // yet runs of the reference pipeline ask only for x86_64 + their own tag, so it gets none.
        // How long it waits is JobClaimsTests' business (on a fake clock).
        var response = await agent.GetAsync("/api/agent/jobs/next?wait=1");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task NextJob_TwoAgentsPolling_NeverGetTheSameJob()
    {
        var tag = NewTag();
        var (_, a) = await lab.EnrolAsync("race-a-" + tag, ["x86_64", tag], ["x86_64", tag]);
        var (_, b) = await lab.EnrolAsync("race-b-" + tag, ["x86_64", tag], ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        var pushes = new List<Guid>();
        for (var i = 0; i < 3; i++) pushes.Add((await lab.PushAsync(repo)).RunId);
        var perRun = 4 * Repo.ReferenceVariants.Count;
        foreach (var run in pushes) await lab.WaitForRunAsync(run, r => r.Jobs.Count == perRun);

        // Each agent may take only its own machines' jobs (half of them); both claim concurrently, a few times too often.
        var perAgent = 3 * perRun / 2;
        var claims = await Task.WhenAll(
            Enumerable.Range(0, perAgent + 2).Select(_ => LabFixture.NextJobAsync(a, 1))
                .Concat(Enumerable.Range(0, perAgent + 2).Select(_ => LabFixture.NextJobAsync(b, 1))));

        var got = claims.Where(c => c is not null).Select(c => c!.JobId).ToList();
        Assert.Equal(3 * perRun, got.Count);
        Assert.Equal(got.Count, got.Distinct().Count());
    }

    [Fact]
    public async Task Heartbeat_OwnRunningJob_ContinuesAndOtherAgentIsToldToStop()
    {
        var tag = NewTag();
        var (_, agent) = await lab.EnrolAsync("hb-" + tag, ["x86_64", tag]);
        var (_, other) = await lab.EnrolAsync("hb-other-" + tag, ["x86_64"]);
        await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var job = (await LabFixture.NextJobAsync(agent, 10))!;

        var mine = await agent.PostAsync($"/api/agent/jobs/{job.JobId}/heartbeat", null);
        var theirs = await other.PostAsync($"/api/agent/jobs/{job.JobId}/heartbeat", null);
        var unknown = await agent.PostAsync($"/api/agent/jobs/{Guid.NewGuid()}/heartbeat", null);

        Assert.True((await mine.Content.ReadFromJsonAsync<HeartbeatResponse>(LabFixture.Json))!.Continue);
        Assert.False((await theirs.Content.ReadFromJsonAsync<HeartbeatResponse>(LabFixture.Json))!.Continue);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
