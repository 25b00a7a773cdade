using System.Net;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Boot.ProxyDhcp;
using Redox.Lab.Agent.Boot.Tftp;

namespace Redox.Lab.Agent.Boot;

/// <summary>
/// Starts the network-boot services in order, for agents with PCs: the HTTP boot server (its public
/// URL goes into the GRUB image and the proxyDHCP configuration), the GRUB image, the TFTP server and
/// proxyDHCP; stops them in reverse. A service that cannot start stops the agent with the reason.
/// </summary>
public sealed class BootNetwork(
    BootHttpServer http,
    BootFirmware firmware,
    IOptions<BootOptions> options,
    IOptions<AgentOptions> agent,
    Machines.Pc.PcBench bench,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedService
{
    private TftpServer? _tftp;
    private DnsmasqProxyDhcp? _proxy;

    public TftpServer? Tftp => _tftp;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await http.StartAsync(cancellationToken);
        await firmware.BuildGrubAsync(http.PublicUrl, cancellationToken);

        if (!string.IsNullOrWhiteSpace(options.Value.TftpListen))
        {
            if (!IPEndPoint.TryParse(options.Value.TftpListen, out var endpoint))
                throw new InvalidOperationException($"Agent:Boot:TftpListen '{options.Value.TftpListen}' is not address:port, e.g. 0.0.0.0:69");
            if (endpoint.Port == 0 && !options.Value.TftpListen.EndsWith(":0", StringComparison.Ordinal))
                endpoint.Port = 69;
            _tftp = new TftpServer(endpoint, firmware.Find, time, loggers.CreateLogger<TftpServer>());
            _tftp.Start();
        }

        var proxy = options.Value.ProxyDhcp;
        if (!string.IsNullOrWhiteSpace(proxy.Interface))
        {
            if (string.IsNullOrWhiteSpace(proxy.Subnet) || !IPAddress.TryParse(proxy.Subnet, out _) || string.IsNullOrWhiteSpace(proxy.ServerAddress) || !IPAddress.TryParse(proxy.ServerAddress, out _))
                throw new InvalidOperationException("Agent:Boot:ProxyDhcp needs Subnet and ServerAddress (IP addresses) when Interface is set");
            _proxy = new DnsmasqProxyDhcp(proxy, Path.Combine(agent.Value.StatePath, "boot"), loggers.CreateLogger<DnsmasqProxyDhcp>());
            var grubMacs = bench.Machines.Where(m => m.Boot.Method == Machines.PcBootMethod.GrubEfi).Select(m => m.MacText);
            await _proxy.StartAsync($"{http.PublicUrl}/boot.ipxe", grubMacs, cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_proxy is not null)
            await _proxy.DisposeAsync();
        if (_tftp is not null)
            await _tftp.DisposeAsync();
        await http.StopAsync(cancellationToken);
    }
}
