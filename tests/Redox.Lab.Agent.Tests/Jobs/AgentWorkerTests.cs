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

    [Fact]
    public async Task ExecuteAsync_SecondJobForBusyMachine_WaitsHeartbeatingThenRuns()
    {
        // Two machines: capacity for two jobs, but both jobs are for fake-0 (a retry sent to a busy machine).
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = new ScriptedMachine(async s =>
        {
            await release.Task;
            await s.WriteLinesAsync(Markers.PassingBoot);
            await s.ExitAsync(1, "exit");
        });
        var pool = new MachinePool([busy, new ScriptedMachine(_ => Task.CompletedTask, "fake-1")]);
        var first = Pipelines.Job(_repo, Pipelines.Yaml(), leaseSeconds: 3);
        var second = Pipelines.Job(_repo, Pipelines.Yaml(), leaseSeconds: 3);
        _agent.Server.Enqueue(first);
        _agent.Server.Enqueue(second);
        using var worker = NewWorker(pool);
        await worker.StartAsync(CancellationToken.None);

        // The second job's lease is renewed while the first one holds the machine (powered on, its boot held).
        await busy.PoweredOn.Task.WaitAsync(Wait);
        await WaitUntil(() => Requests().Count(r => r == $"POST /api/agent/jobs/{second.JobId:D}/heartbeat") >= 2);
        Assert.Single(busy.Sessions);
        release.SetResult();
        await WaitUntil(() => Completions().Count == 2);
        await worker.StopAsync(CancellationToken.None);

        Assert.All(Completions(), c => Assert.Equal(Outcome.Passed, c.Outcome));
        Assert.Equal(2, busy.Sessions.Count);
    }

    // The fake server appends from the agent's threads: copies, taken again when a write raced the copy.
    private List<string> Requests() => [.. _agent.Server.Requests.ToArray().Where(r => r is not null)];

    private List<JobCompletion> Completions()
    {
        while (true)
        {
            try
            {
                return [.. _agent.Server.Completions.Values];
            }
            catch (InvalidOperationException)
            {
                // Modified while copied.
            }
        }
    }

    private AgentWorker NewWorker(MachinePool? pool = null) => new(
        _agent.Client, pool ?? _agent.Get<MachinePool>(), _agent.Jobs, _agent.Get<IOptions<AgentOptions>>(), TimeProvider.System, NullLogger<AgentWorker>.Instance);

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
