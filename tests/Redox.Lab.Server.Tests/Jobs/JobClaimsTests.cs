using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

/// <summary>The long poll's wait, on a fake clock that never moves unless the test moves it.</summary>
[Collection(LabCollection.Name)]
public sealed class JobClaimsTests(LabFixture lab)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static string NewTag() => "t" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task NextAsync_ParkedThenPush_WokenByNotifyWhileItsClockStandsStill()
    {
        var tag = NewTag();
        var (agentId, _) = await lab.EnrolAsync("notify-" + tag, ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        var clock = new WaitingClock();
        var started = clock.GetUtcNow();
        await using var scope = lab.Scope();
        var claims = ActivatorUtilities.CreateInstance<JobClaims>(scope.ServiceProvider, (TimeProvider)clock);

        var waiting = claims.NextAsync(agentId, TimeSpan.FromSeconds(30), CancellationToken.None);
        await clock.NextTimerAsync(Wait); // nothing queued: the claim waits for a wake-up or its clock
        var pushed = await lab.PushAsync(repo);
        var job = await waiting.WaitAsync(Wait);

        Assert.NotNull(job);
        Assert.Equal(pushed.RunId, job.RunId);
        // Neither the safety-net re-check nor the end of the wait can have delivered it: no fake time passed.
        Assert.Equal(started, clock.GetUtcNow());
    }

    [Fact]
    public async Task NextAsync_NothingQueued_NullOnlyOnceTheWholeWaitHasPassed()
    {
        var (agentId, _) = await lab.EnrolAsync("idle-" + NewTag(), ["x86_64", NewTag()]);
        var clock = new WaitingClock();
        await using var scope = lab.Scope();
        var claims = ActivatorUtilities.CreateInstance<JobClaims>(scope.ServiceProvider, (TimeProvider)clock);

        var waiting = claims.NextAsync(agentId, TimeSpan.FromSeconds(30), CancellationToken.None);
        await clock.NextTimerAsync(Wait);
        clock.Advance(TimeSpan.FromSeconds(29)); // past the 5 s re-check: it looks again and waits on
        await clock.NextTimerAsync(Wait);
        var earlyAnswer = waiting.IsCompleted;
        clock.Advance(TimeSpan.FromSeconds(1));
        var job = await waiting.WaitAsync(Wait);

        Assert.False(earlyAnswer);
        Assert.Null(job);
    }

    [Fact]
    public async Task NextAsync_OneMachineBusyOtherIdle_JobForTheIdleMachineFirst()
    {
        var tag = NewTag();
        var (_, agent) = await lab.EnrolAsync("idle-first-" + tag, ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        await lab.PushAsync(repo); // older jobs, all for qemu-0
        var both = new MachinesUpdate([new MachineInfo("qemu-0", "qemu", ["x86_64", tag], 1, 256), new MachineInfo("qemu-1", "qemu", ["x86_64", tag], 1, 256)]);
        Assert.Equal(HttpStatusCode.NoContent, (await agent.PutAsJsonAsync("/api/agent/machines", both, LabFixture.Json)).StatusCode);
        await lab.PushAsync(repo); // newer jobs for qemu-0 and qemu-1

        var first = await LabFixture.NextJobAsync(agent, 10);
        var second = await LabFixture.NextJobAsync(agent, 10);
        var third = await LabFixture.NextJobAsync(agent, 10);

        Assert.Equal("qemu-0", first?.MachineName);
        // qemu-0 is busy now; its older queued jobs wait for it, and qemu-1's newer one goes out.
        Assert.Equal("qemu-1", second?.MachineName);
        // Both busy: the oldest job still goes out (the agent holds it until its machine is free).
        Assert.Equal("qemu-0", third?.MachineName);
    }
}
