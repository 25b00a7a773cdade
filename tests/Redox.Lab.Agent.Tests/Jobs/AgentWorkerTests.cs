using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Jobs;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Server;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Jobs;

public sealed class AgentWorkerTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TestRepo _repo = TestRepo.Create(new Dictionary<string, string> { ["README"] = "x\n" });
    private readonly ScriptedMachine _machine = new(async s =>
    {
        await s.WriteLinesAsync(Markers.PassingBoot);
        await s.ExitAsync(1, "exit");
    });

    private readonly AgentHarness _agent;

    public AgentWorkerTests() => _agent = new AgentHarness(TimeProvider.System, _machine);

    public void Dispose()
    {
        _agent.Dispose();
        _repo.Dispose();
    }

    [Fact]
    public async Task ExecuteAsync_JobQueuedAfterEmptyPolls_AnnouncesMachinesRunsJobAndCompletes()
    {
        using var worker = NewWorker();
        await worker.StartAsync(CancellationToken.None);
        await WaitUntil(() => _agent.Server.Requests.Count(r => r.EndsWith("/jobs/next", StringComparison.Ordinal)) >= 2);

        var job = Pipelines.Job(_repo, Pipelines.Yaml());
        _agent.Server.Enqueue(job);
        var completion = await _agent.Server.Completed.Task.WaitAsync(Wait);
        await worker.StopAsync(CancellationToken.None);

        Assert.Equal(Outcome.Passed, completion.Outcome);
        Assert.Contains(_agent.Server.MachineUpdates, m => m.Count == 1 && m[0].Name == "fake-0");
        Assert.Contains("PUT /api/agent/machines", _agent.Server.Requests);
    }

    [Fact]
    public async Task ExecuteAsync_JobForUnknownMachine_CompletedAsInfraError()
    {
        using var worker = NewWorker();
        var job = Pipelines.Job(_repo, Pipelines.Yaml(), machine: "pxe-7");
        _agent.Server.Enqueue(job);

        await worker.StartAsync(CancellationToken.None);
        var completion = await _agent.Server.Completed.Task.WaitAsync(Wait);
        await worker.StopAsync(CancellationToken.None);

        Assert.Equal(Outcome.InfraError, completion.Outcome);
        Assert.Contains("pxe-7", completion.Detail, StringComparison.Ordinal);
    }

    private AgentWorker NewWorker() => new(
        _agent.Client, _agent.Get<MachinePool>(), _agent.Jobs, _agent.Get<IOptions<AgentOptions>>(), TimeProvider.System, NullLogger<AgentWorker>.Instance);

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException();
            await Task.Delay(10);
        }
    }
}
