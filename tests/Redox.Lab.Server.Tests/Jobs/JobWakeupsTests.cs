using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Redox.Lab.Server.Jobs;

namespace Redox.Lab.Server.Tests.Jobs;

public sealed class JobWakeupsTests : IDisposable
{
    // Never opened: these tests drive the notification handler directly.
    private readonly NpgsqlDataSource _unused = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");

    [Fact]
    public async Task OnNotification_AgentsPayload_WakesOnlyThoseAgents()
    {
        var wakeups = new JobWakeups(_unused, NullLogger<JobWakeups>.Instance);
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var waitA = wakeups.NextWakeupFor(a);
        var waitB = wakeups.NextWakeupFor(b);

        wakeups.OnNotification(JobWakeups.AgentPayloads([a]).Single());

        await waitA.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(waitB.IsCompleted);
        Assert.False(wakeups.NextWakeup.IsCompleted);
    }

    [Fact]
    public async Task OnNotification_RunIdPayload_WakesEveryAgent()
    {
        var wakeups = new JobWakeups(_unused, NullLogger<JobWakeups>.Instance);
        var waits = Enumerable.Range(0, 3).Select(_ => wakeups.NextWakeupFor(Guid.NewGuid())).ToList();

        wakeups.OnNotification(Guid.NewGuid().ToString());

        await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void AgentPayloads_FiveHundredAgents_EachWithinPostgresLimitAndAllNamed()
    {
        var agents = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()).ToList();

        var payloads = JobWakeups.AgentPayloads(agents.Concat(agents)).ToList();

        Assert.All(payloads, p => Assert.True(Encoding.UTF8.GetByteCount(p) < 8000, $"{p.Length} bytes"));
        var named = payloads.SelectMany(p => p[JobWakeups.AgentsPrefix.Length..].Split(',')).Select(Guid.Parse).ToList();
        Assert.Equal(agents.Order(), named.Order());
    }

    public void Dispose() => _unused.Dispose();
}
