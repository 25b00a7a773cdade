using System.ComponentModel;
using System.Diagnostics;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Machines.Power;

namespace Redox.Lab.Agent.Machines.Consoles;

/// <summary>
/// IPMI Serial-over-LAN: <c>ipmitool sol deactivate</c> (a stale session from a crashed agent would
/// block ours), then <c>ipmitool sol activate</c>, whose stdout is the console. Closing kills ipmitool.
/// </summary>
public sealed class IpmiSolConsole(BmcSpec bmc, string ipmitool = "ipmitool") : IConsoleLink
{
    public string Describe => $"ipmi-sol {bmc.Host}:{bmc.Port}";

    /// <summary>One shell word per argument, single-quoted, for <c>script -c</c>.</summary>
    public static string ShellCommand(IEnumerable<string> argv) =>
        string.Join(' ', argv.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));

    public async Task<ConsoleConnection> OpenAsync(CancellationToken cancellationToken)
    {
        // Failing is normal here (no session was active): only the activation below must work.
        using (var deactivate = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deactivate.CancelAfter(bmc.Timeout);
            try
            {
                await ProcessRunner.RunAsync(ipmitool, [.. IpmiPower.ConnectionArgs(bmc), "sol", "deactivate"], Environment.CurrentDirectory, null, null, deactivate.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ConsoleException($"{Describe}: the BMC did not answer within {bmc.Timeout.TotalSeconds:0}s");
            }
            catch (LabInfraException e)
            {
                throw new ConsoleException($"{Describe}: {e.Message}", e);
            }
        }

        // ipmitool's SoL insists on a terminal (tcgetattr on stdin), so it runs under util-linux's script,
        // which gives it a pty and copies the pty's output to our pipe.
        var start = new ProcessStartInfo("script")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-q", "-f", "-e", "-c", ShellCommand([ipmitool, .. IpmiPower.ConnectionArgs(bmc), "sol", "activate"]), "/dev/null" })
            start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ConsoleException($"{Describe}: cannot start {ipmitool}");
        }
        catch (Win32Exception e)
        {
            throw new ConsoleException($"{Describe}: cannot start {ipmitool}: {e.Message}", e);
        }

        // stderr carries ipmitool's own messages ("[SOL Session operational...]", errors): drain it.
        _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
        return new ConsoleConnection(process.StandardOutput.BaseStream, async () =>
        {
            try
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                // Exited already, or stuck in the kernel: nothing more to do.
            }

            process.Dispose();
        });
    }
}
