using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Timeout;
using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Machines.Consoles;
using Redox.Lab.Agent.Machines.Power;
using Redox.Lab.Agent.Machines.Resilience;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Machines.Pc;

/// <summary>
/// A real PC (Machines/README.md "PCs"): one power-on is (1) the delivery prepared for its MAC,
/// (2) the console attached (before power, so no byte is lost), (3) power on with PXE as the boot
/// device, (4) the wait until the PC fetched its script and files — (3) and (4) retried by
/// <c>boot-delivery</c> — all inside the machine's circuit breaker. Every failure of the lab ends as
/// <see cref="LabInfraException"/>, so the job is an infrastructure failure, never the kernel's.
/// </summary>
public sealed class PcMachine : IMachine, ILabEventSource, IAsyncDisposable
{
    private readonly PcSpec _spec;
    private readonly IPowerControl _power;
    private readonly IConsoleLink _console;
    private readonly BootDeliveries _deliveries;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ResiliencePipeline _powerPipeline;
    private readonly ResiliencePipeline _consolePipeline;
    private readonly ResiliencePipeline _deliveryPipeline;
    private readonly ResiliencePipeline _breaker;
    private PcSession? _session;

    public PcMachine(PcSpec spec, IPowerControl power, IConsoleLink console, BootDeliveries deliveries, ResiliencePipelineProvider<MachinePipelineKey> pipelines, TimeProvider time, ILogger log)
    {
        _spec = spec;
        _power = power;
        _console = console;
        _deliveries = deliveries;
        _time = time;
        _log = log;
        _powerPipeline = pipelines.GetPipeline(new MachinePipelineKey(MachinePipelines.Power, spec.Name));
        _consolePipeline = pipelines.GetPipeline(new MachinePipelineKey(MachinePipelines.ConsoleAttach, spec.Name));
        _deliveryPipeline = pipelines.GetPipeline(new MachinePipelineKey(MachinePipelines.BootDelivery, spec.Name));
        _breaker = pipelines.GetPipeline(new MachinePipelineKey(MachinePipelines.Breaker, spec.Name));
        Info = new MachineInfo(spec.Name, "pc", spec.Tags, spec.Cpus, spec.MemoryMiB);
    }

    public MachineInfo Info { get; }

    public PcSpec Spec => _spec;

    public IPowerControl Power => _power;

    public IConsoleLink ConsoleLink => _console;

    public event Action<string>? LabEvent;

    /// <summary>The machine's breaker opened (true) or closed (false).</summary>
    public event Action<bool>? BreakerChanged;

    public async Task<IMachineSession> PowerOnAsync(BootMedia media, MachineRequirements requirements, CancellationToken cancellationToken)
    {
        var context = NewContext(cancellationToken);
        try
        {
            var session = await _breaker.ExecuteAsync(static (ctx, s) => s.Self.PowerOnOnceAsync(ctx, s.Media), context, (Self: this, Media: media));
            _session = session;
            return session;
        }
        catch (BrokenCircuitException e)
        {
            throw new LabInfraException($"{_spec.Name}: its circuit breaker is open after repeated infrastructure failures ({e.Message}); the machine needs a health check", e);
        }
        catch (Exception e) when (e is PowerException or ConsoleException or BootNotDeliveredException or TimeoutRejectedException)
        {
            throw new LabInfraException($"{_spec.Name}: {e.Message}", e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<PcSession> PowerOnOnceAsync(ResilienceContext ctx, BootMedia media)
    {
        // (1) The delivery: from now the PC's MAC gets this boot's script and files, and only them.
        var delivery = _deliveries.Prepare(_spec, media, $"boot on {_spec.Name}");
        ReconnectingConsole? console = null;
        try
        {
            // (2) Console first: what the PC prints from its first instruction is kept.
            console = new ReconnectingConsole(_console, _consolePipeline, _time, Emit, _log);
            await console.StartAsync(ctx.CancellationToken);

            // (3)+(4) Power on and wait for the fetches; a PC that fetches nothing in time is powered on again.
            await _deliveryPipeline.ExecuteAsync(async (c, state) =>
            {
                await _powerPipeline.ExecuteAsync(static async (pc, power) => await power.PowerOnAsync(pc.CancellationToken), c, _power);
                Emit($"powered on through {_power.Describe}; waiting up to {_spec.Boot.DeliveryTimeout.TotalSeconds:0}s for the PC to fetch its boot files");
                try
                {
                    var first = await Task.WhenAny(state.Delivered, state.Failed).WaitAsync(_spec.Boot.DeliveryTimeout, _time, c.CancellationToken);
                    if (first == state.Failed)
                        throw new BootNotDeliveredException($"boot not delivered: the PC's iPXE reported that step '{await state.Failed}' failed");
                }
                catch (TimeoutException)
                {
                    throw new BootNotDeliveredException($"boot not delivered: the PC did not fetch {string.Join(", ", state.Missing)} within {_spec.Boot.DeliveryTimeout.TotalSeconds:0}s of power-on");
                }
            }, ctx, delivery);
            Emit("boot delivered: the PC fetched its script and files");
            return new PcSession(this, _deliveries, delivery, console);
        }
        catch
        {
            _deliveries.Clear(delivery);
            if (console is not null)
                await console.DisposeAsync();
            await PowerOffQuietlyAsync();
            throw;
        }
    }

    /// <summary>Power off through the <c>power</c> pipeline; a failure is reported, never thrown (the machine may be off already).</summary>
    internal async Task PowerOffQuietlyAsync()
    {
        var context = NewContext(CancellationToken.None);
        try
        {
            await _powerPipeline.ExecuteAsync(static async (c, power) => await power.PowerOffAsync(c.CancellationToken), context, _power);
        }
        catch (Exception e) when (e is PowerException or TimeoutRejectedException or LabInfraException)
        {
            Emit($"power off failed: {e.Message}");
            _log.LogError("{Machine}: power off failed: {Error}", _spec.Name, e.Message);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Counts an infrastructure failure after power-on (a console lost for good) against the machine's breaker.</summary>
    internal async Task RecordInfraFailureAsync(Exception failure)
    {
        var context = NewContext(CancellationToken.None);
        try
        {
            await _breaker.ExecuteAsync<int, Exception>(static (_, e) => ValueTask.FromException<int>(e), context, failure);
        }
        catch (Exception)
        {
            // Recorded: that is all this call is for.
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    internal void Emit(string message)
    {
        _log.LogInformation("{Machine}: {Event}", _spec.Name, message);
        LabEvent?.Invoke(message);
    }

    private ResilienceContext NewContext(CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(MachinePipelines.LabEvents, Emit);
        context.Properties.Set(MachinePipelines.BreakerEvents, open => BreakerChanged?.Invoke(open));
        return context;
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is { } s)
            await s.DisposeAsync();
    }
}
