using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Machines.Pc;

/// <summary>
/// Integration: a UEFI PC on a network of its own, with the site's DHCP server unchanged beside the agent.
/// A network namespace <c>h1113</c> holds the "site": a bridge, Debian's dnsmasq as the ordinary DHCP
/// server (addresses only, no boot options) and the PC's tap device; a veth pair links the agent (this
/// process, 10.113.0.1) to the bridge. The agent runs its proxyDHCP (the real dnsmasq, in proxy mode, from
/// the configuration it generates), its TFTP server on port 69 and its HTTP boot server. The PC is QEMU with
/// OVMF: the firmware's own PXE client gets its address from the site's server and its boot file from the
/// proxy, fetches GRUB's network image (<c>grubx64.efi</c>, built by the agent) from the agent's TFTP server,
/// and GRUB fetches <c>/grub/&lt;mac&gt;.cfg</c> and the multiboot kernel over HTTP. Console: ser2net (raw).
/// Needs root (namespaces, port 69); everything it creates is named h1113 and removed after.
/// </summary>
[Collection(NetbootCollection.Name)]
public sealed class PcProxyDhcpTests : IAsyncLifetime
{
    private const string Ns = "h1113";
    private const string AgentAddress = "10.113.0.1";
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(12);
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-proxydhcp-").FullName;
    private readonly AgentHarness _agent = new(TimeProvider.System);
    private PeerProcess? _siteDhcp;
    private NullModem? _cable;
    private Ser2Net? _ser2net;
    private BenchHost? _bench;
    private QemuPc? _pc;

    public async Task InitializeAsync()
    {
        RemoveNetwork();
        Peers.Sh($"""
            set -e
            ip netns add {Ns}
            ip link add {Ns}a type veth peer name {Ns}b
            ip link set {Ns}b netns {Ns}
            ip addr add {AgentAddress}/24 dev {Ns}a
            ip link set {Ns}a up
            ip netns exec {Ns} sh -ec '
              ip link set lo up
              ip link add {Ns}br type bridge
              ip link set {Ns}b master {Ns}br
              ip link set {Ns}b up
              ip tuntap add dev {Ns}tap mode tap
              ip link set {Ns}tap master {Ns}br
              ip link set {Ns}tap up
              ip addr add 10.113.0.2/24 dev {Ns}br
              ip link set {Ns}br up'
            """);
        // The site's DHCP server: addresses only, it knows nothing of network boot.
        _siteDhcp = new PeerProcess("ip", "netns", "exec", Ns, "dnsmasq", "--keep-in-foreground", "--no-daemon", "--log-facility=-", "--log-dhcp",
            "--port=0", "--conf-file=/dev/null", $"--interface={Ns}br", "--bind-interfaces", "--dhcp-range=10.113.0.100,10.113.0.150,255.255.255.0,10m",
            $"--dhcp-leasefile={Path.Combine(_dir, "site.leases")}", $"--pid-file={Path.Combine(_dir, "site-dhcp.pid")}");

        _cable = new NullModem(_dir);
        _ser2net = new Ser2Net(_dir, _cable.HostEnd, "raw");
        var http = Peers.FreeTcpPort();
        _pc = new QemuPc(_dir, "pc-uefi-pxe", QemuPc.MacOf(0x41), $"tap,id=n0,ifname={Ns}tap,script=no,downscript=no",
            QemuPc.SerialCable(_cable.PcEnd), QemuPc.Ovmf(Path.Combine(_dir, "ovmf")), launcher: $"ip netns exec {Ns} ");
        _bench = await BenchHost.StartAsync(Path.Combine(_dir, "state"), $"""
            machines:
              - name: pc-uefi-pxe
                tags: [pc, x86_64]
                mac: {_pc.Mac}
                boot: {"{"} method: grub-efi, delivery_timeout: 600s, attempts: 1 {"}"}
                console: {"{"} type: tcp, host: 127.0.0.1, port: {_ser2net.Port}, protocol: raw {"}"}
                power:
                  type: command
                  on: [sh, {_pc.OnScript}]
                  off: [sh, {_pc.OffScript}]
            """, new Dictionary<string, string?>
        {
            ["Agent:Boot:HttpListen"] = $"http://{AgentAddress}:{http}",
            ["Agent:Boot:PublicUrl"] = $"http://{AgentAddress}:{http}",
            ["Agent:Boot:TftpListen"] = $"{AgentAddress}:69",
            ["Agent:Boot:ProxyDhcp:Interface"] = $"{Ns}a",
            ["Agent:Boot:ProxyDhcp:Subnet"] = "10.113.0.0",
            ["Agent:Boot:ProxyDhcp:ServerAddress"] = AgentAddress,
        });
    }

    public async Task DisposeAsync()
    {
        _pc?.Off();
        if (_bench is not null)
            await _bench.DisposeAsync();
        _siteDhcp?.Dispose();
        _ser2net?.Dispose();
        _cable?.Dispose();
        RemoveNetwork();
        _agent.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Boot_UefiPxeWithProxyDhcpBesideSiteDhcp_GrubFromOurTftpThenKernelOverHttpPassed()
    {
        var served = new List<string>();
        _bench!.Network.Tftp!.Served += (_, file, _, _) => { lock (served) served.Add(file); };
        var fetched = new List<string>();
        _bench.Deliveries.Fetched += (_, _, what) => { lock (fetched) fetched.Add(what); };
        var image = TestKernel.Build(Path.Combine(_dir, "k"), string.Join('\n', Markers.PassingBoot) + "\n", exitValue: 0);

        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "600s"));
        var job = Guid.NewGuid();
        await using var console = new ConsoleUploader(_agent.Client, job, TimeProvider.System, NullLogger.Instance);
        var report = await _agent.Boots.RunAsync(0, pipeline, pipeline.Boot.Machine, new BootMedia(image, [], "console=ttyS0"), _bench.Machine("pc-uefi-pxe"), console, CancellationToken.None).WaitAsync(Wait);
        await console.FlushAsync(CancellationToken.None).WaitAsync(Wait);
        var log = _agent.Server.ConsoleOf(job);

        var why = $"{report.Outcome}: {report.Detail}\n--- console\n{string.Join('\n', log.Select(l => l.Text))}\n--- site dhcp\n{_siteDhcp!.Output}"
            + $"\n--- qemu\n{(File.Exists(_pc!.LogFile) ? File.ReadAllText(_pc.LogFile) : "")}";
        Assert.True(report.Outcome == Outcome.Passed, why);
        Assert.Equal(["entry", "kmain-done"], report.Stages.Select(s => s.Name));
        Assert.Contains("grubx64.efi", served);
        Assert.Contains("kernel", fetched);
        // The address came from the site's server, which knows nothing of network boot.
        Assert.Contains(_pc.Mac, File.ReadAllText(Path.Combine(_dir, "site.leases")), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("DHCPACK", _siteDhcp.Output, StringComparison.Ordinal);
    }

    private static void RemoveNetwork()
    {
        Peers.Sh($"ip netns del {Ns} 2>/dev/null; ip link del {Ns}a 2>/dev/null; true");
    }
}
