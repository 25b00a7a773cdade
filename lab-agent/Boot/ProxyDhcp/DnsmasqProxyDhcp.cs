using System.Diagnostics;
using System.Text;

namespace Redox.Lab.Agent.Boot.ProxyDhcp;

/// <summary>
/// proxyDHCP, so the site's DHCP server need not change: the agent writes a dnsmasq configuration
/// (DHCP proxy mode only: no addresses, no DNS, no TFTP) and runs dnsmasq in the foreground for as long
/// as the agent runs. PXE firmware is sent to the agent's TFTP server for <c>undionly.kpxe</c> (BIOS) or
/// <c>ipxe.efi</c> (UEFI); iPXE itself (DHCP user class "iPXE") is sent to the agent's HTTP entry script.
/// Needs CAP_NET_BIND_SERVICE and CAP_NET_RAW/CAP_NET_ADMIN (port 67 and 4011, raw DHCP replies).
/// </summary>
public sealed class DnsmasqProxyDhcp(ProxyDhcpOptions options, string stateDir, ILogger log) : IAsyncDisposable
{
    private Process? _process;

    public string ConfigPath => Path.Combine(stateDir, "dnsmasq-proxydhcp.conf");

    /// <summary>The configuration file (Boot/README.md explains each line).</summary>
    /// <param name="grubMacs">UEFI PCs with boot method <c>grub-efi</c>: their firmware gets GRUB's network image, not iPXE.</param>
    public static string Config(string iface, string subnet, string server, string httpEntryUrl, string pidFile, IEnumerable<string>? grubMacs = null) => new StringBuilder()
        .Append("# Written by lab-agent at start; do not edit (Boot/README.md).\n")
        .Append("port=0\n")                                  // no DNS
        .Append(CultureInfoInvariant($"interface={iface}\n"))
        .Append("bind-interfaces\n")
        .Append(CultureInfoInvariant($"pid-file={pidFile}\n"))
        .Append("log-dhcp\n")
        .Append(CultureInfoInvariant($"dhcp-range={subnet},proxy\n"))
        // iPXE announces itself with DHCP option 77 "iPXE": it gets the HTTP entry script, not iPXE again.
        .Append("dhcp-userclass=set:ipxe,iPXE\n")
        .Append(string.Concat((grubMacs ?? []).Select(mac => CultureInfoInvariant($"dhcp-host={mac},set:grub\n"))))
        // Listed first: dnsmasq offers the first pxe-service whose tags match, and a grub-efi PC matches both.
        .Append(CultureInfoInvariant($"pxe-service=tag:grub,X86-64_EFI,\"Redox Lab: GRUB\",{BootFirmware.GrubImage},{server}\n"))
        .Append(CultureInfoInvariant($"pxe-service=tag:!ipxe,x86PC,\"Redox Lab: iPXE\",undionly.kpxe,{server}\n"))
        .Append(CultureInfoInvariant($"pxe-service=tag:!ipxe,X86-64_EFI,\"Redox Lab: iPXE\",ipxe.efi,{server}\n"))
        .Append(CultureInfoInvariant($"pxe-service=tag:ipxe,x86PC,\"Redox Lab\",{httpEntryUrl}\n"))
        .Append(CultureInfoInvariant($"pxe-service=tag:ipxe,X86-64_EFI,\"Redox Lab\",{httpEntryUrl}\n"))
        .Append("pxe-prompt=\"Redox Lab\",0\n")
        .ToString();

    public async Task StartAsync(string httpEntryUrl, IEnumerable<string> grubMacs, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(stateDir);
        var pidFile = Path.Combine(stateDir, "dnsmasq-proxydhcp.pid");
        await File.WriteAllTextAsync(ConfigPath, Config(options.Interface!, options.Subnet!, options.ServerAddress!, httpEntryUrl, pidFile, grubMacs), cancellationToken);
        var start = new ProcessStartInfo(options.Dnsmasq)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[] { "--keep-in-foreground", "--no-daemon", "--log-facility=-", $"--conf-file={ConfigPath}" })
            start.ArgumentList.Add(a);
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new Machines.LabInfraException($"cannot start dnsmasq for proxyDHCP: {e.Message}", e);
        }

        _ = PumpAsync(_process.StandardError);
        _ = PumpAsync(_process.StandardOutput);
        // dnsmasq exits at once on a bad configuration or a busy port: give it a moment to say so.
        await Task.WhenAny(_process.WaitForExitAsync(cancellationToken), Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken));
        if (_process.HasExited)
            throw new Machines.LabInfraException($"dnsmasq (proxyDHCP on {options.Interface}) exited at start with {_process.ExitCode}; see the agent log");
        log.LogInformation("proxyDHCP: dnsmasq pid {Pid} on {Interface} ({Config})", _process.Id, options.Interface, ConfigPath);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _process?.Dispose();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
                log.LogInformation("dnsmasq: {Line}", line);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // dnsmasq ended.
        }
    }

    private static string CultureInfoInvariant(FormattableString s) => FormattableString.Invariant(s);
}
