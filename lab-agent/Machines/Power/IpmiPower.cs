using Redox.Lab.Agent.Build;

namespace Redox.Lab.Agent.Machines.Power;

/// <summary>
/// IPMI through <c>ipmitool -I lanplus</c>: <c>chassis bootdev pxe</c>, then <c>chassis power on</c> (or
/// <c>cycle</c> when the PC is on), <c>off</c>, <c>status</c>. The password is read by ipmitool from a
/// file (<c>-f</c>), so it is on no command line and in no environment.
/// </summary>
public sealed class IpmiPower(BmcSpec bmc, string ipmitool = "ipmitool") : IPowerControl
{
    public string Describe => $"ipmi {bmc.Interface} {bmc.Host}:{bmc.Port}";

    public async Task PowerOnAsync(CancellationToken cancellationToken)
    {
        await RunAsync(["chassis", "bootdev", "pxe"], cancellationToken);
        var state = await StatusAsync(cancellationToken);
        await RunAsync(["chassis", "power", state == PowerState.On ? "cycle" : "on"], cancellationToken);
    }

    public Task PowerOffAsync(CancellationToken cancellationToken) => RunAsync(["chassis", "power", "off"], cancellationToken);

    public async Task<PowerState> StatusAsync(CancellationToken cancellationToken)
    {
        var output = await RunAsync(["chassis", "power", "status"], cancellationToken);
        // "Chassis Power is on" / "Chassis Power is off"
        return output.Contains("is on", StringComparison.OrdinalIgnoreCase) ? PowerState.On
            : output.Contains("is off", StringComparison.OrdinalIgnoreCase) ? PowerState.Off
            : throw new PowerException($"{Describe}: unexpected answer to power status: {output}");
    }

    /// <summary>ipmitool's arguments before the command, shared with the Serial-over-LAN console.</summary>
    public static IReadOnlyList<string> ConnectionArgs(BmcSpec bmc)
    {
        var args = new List<string> { "-I", bmc.Interface, "-H", bmc.Host, "-p", bmc.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (bmc.Username.Length > 0)
            args.AddRange(["-U", bmc.Username]);
        // ipmitool's own timeout and retries are short; the power pipeline retries the whole command.
        args.AddRange(["-N", "2", "-R", "1"]);
        args.AddRange(bmc.PasswordFile is { } f ? ["-f", f] : ["-P", ""]);
        return args;
    }

    private async Task<string> RunAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bmc.Timeout);
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(ipmitool, [.. ConnectionArgs(bmc), .. command], Environment.CurrentDirectory, null, null, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PowerException($"{Describe}: '{string.Join(' ', command)}' timed out after {bmc.Timeout.TotalSeconds:0}s (BMC not answering)");
        }
        catch (LabInfraException e)
        {
            throw new PowerException($"{Describe}: {e.Message}", e);
        }

        var text = string.Join(" | ", result.Tail);
        if (result.ExitCode != 0)
            throw new PowerException($"{Describe}: '{string.Join(' ', command)}' failed (exit {result.ExitCode}): {text}");
        return text;
    }
}
