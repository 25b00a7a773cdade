using Redox.Lab.Agent.Build;

namespace Redox.Lab.Agent.Machines.Power;

/// <summary>
/// Any power switch with a command line (a relay board, a smart plug's CLI): the configured argv for on,
/// off and, if given, cycle (else off then on). Exit 0 is success. LAVA's <c>power_on_command</c>.
/// </summary>
public sealed class CommandPower(CommandPowerSpec spec) : IPowerControl
{
    public string Describe => $"command {spec.On[0]}";

    public async Task PowerOnAsync(CancellationToken cancellationToken)
    {
        if (spec.Cycle is { } cycle)
        {
            await RunAsync(cycle, "cycle", spec.Timeout, cancellationToken);
            return;
        }

        await RunAsync(spec.Off, "off", spec.Timeout, cancellationToken);
        await RunAsync(spec.On, "on", spec.Timeout, cancellationToken);
    }

    public Task PowerOffAsync(CancellationToken cancellationToken) => RunAsync(spec.Off, "off", spec.Timeout, cancellationToken);

    public Task<PowerState> StatusAsync(CancellationToken cancellationToken) => Task.FromResult(PowerState.Unknown);

    internal static async Task RunAsync(IReadOnlyList<string> argv, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(argv[0], argv.Skip(1), Environment.CurrentDirectory, null, null, cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PowerException($"power {what} command '{argv[0]}' timed out after {timeout.TotalSeconds:0}s");
        }
        catch (LabInfraException e)
        {
            throw new PowerException($"power {what}: {e.Message}", e);
        }

        if (result.ExitCode != 0)
            throw new PowerException($"power {what} command '{argv[0]}' failed (exit {result.ExitCode}): {string.Join(" | ", result.Tail)}");
    }
}

/// <summary>No switch: a person powers the PC; the agent waits for the boot delivery as with any other control.</summary>
public sealed class ManualPower : IPowerControl
{
    public string Describe => "manual";

    public Task PowerOnAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task PowerOffAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<PowerState> StatusAsync(CancellationToken cancellationToken) => Task.FromResult(PowerState.Unknown);
}
