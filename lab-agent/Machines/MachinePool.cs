using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Machines;

/// <summary>
/// The agent's machines and which of them are busy. One job runs on a machine at a time; the job loop
/// asks for work only while some machine is idle, so N machines run up to N jobs at once.
/// </summary>
public sealed class MachinePool : IAsyncDisposable, IDisposable
{
    private readonly Dictionary<string, (IMachine Machine, SemaphoreSlim Lock)> _machines;
    private readonly SemaphoreSlim _idle;

    public MachinePool(IOptions<AgentOptions> options, IEnumerable<IMachineDriver> drivers)
        : this(Create(options.Value, drivers.ToDictionary(d => d.Kind, StringComparer.OrdinalIgnoreCase)))
    {
    }

    public MachinePool(IEnumerable<IMachine> machines)
    {
        _machines = machines.ToDictionary(m => m.Info.Name, m => (m, new SemaphoreSlim(1, 1)), StringComparer.Ordinal);
        if (_machines.Count == 0)
            throw new InvalidOperationException("the agent has no machines");
        _idle = new SemaphoreSlim(_machines.Count, _machines.Count);
    }

    public IReadOnlyList<MachineInfo> Infos => [.. _machines.Values.Select(m => m.Machine.Info)];

    public IReadOnlyList<IMachine> All => [.. _machines.Values.Select(m => m.Machine)];

    public IMachine? Find(string name) => _machines.TryGetValue(name, out var m) ? m.Machine : null;

    /// <summary>Waits until some machine is idle and holds that capacity; dispose the result to give it back.</summary>
    public async Task<IDisposable> ReserveCapacityAsync(CancellationToken cancellationToken)
    {
        await _idle.WaitAsync(cancellationToken);
        return new Releaser(_idle);
    }

    /// <summary>
    /// Takes the named machine for one job; waits if a job still runs on it. The server can hand out such a job:
    /// it prefers jobs for the agent's idle machines, but when only a busy machine's jobs are queued (a run has one
    /// job per variant and machine, and a retry goes to the same machine) it hands one of those out.
    /// </summary>
    public async Task<IDisposable> AcquireAsync(IMachine machine, CancellationToken cancellationToken)
    {
        var gate = _machines[machine.Info.Name].Lock;
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    /// <summary>Takes the named machine if it is idle now; null when a job runs on it.</summary>
    public IDisposable? TryAcquire(IMachine machine)
    {
        var gate = _machines[machine.Info.Name].Lock;
        return gate.Wait(0) ? new Releaser(gate) : null;
    }

    /// <summary>At host shutdown: power off whatever a driver still has running.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var (machine, _) in _machines.Values)
        {
            if (machine is IAsyncDisposable d)
                await d.DisposeAsync();
        }
    }

    /// <summary>For containers disposed synchronously; the host disposes asynchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The simulated machines of <c>Agent:Machines</c>, each made by its driver.</summary>
    public static IReadOnlyList<IMachine> Create(AgentOptions options, IEnumerable<IMachineDriver> drivers) =>
        [.. Create(options, drivers.ToDictionary(d => d.Kind, StringComparer.OrdinalIgnoreCase))];

    private static IEnumerable<IMachine> Create(AgentOptions options, Dictionary<string, IMachineDriver> drivers)
    {
        foreach (var m in options.EffectiveMachines())
        {
            if (string.IsNullOrWhiteSpace(m.Name))
                throw new InvalidOperationException("Agent:Machines: every machine needs a Name");
            if (!drivers.TryGetValue(m.Driver, out var driver))
                throw new InvalidOperationException($"Agent:Machines:{m.Name}: unknown driver '{m.Driver}' (known: {string.Join(", ", drivers.Keys)})");
            yield return driver.Create(m);
        }
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                gate.Release();
        }
    }
}
