using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Power;
using Redox.Lab.Agent.Tests.Fakes;

namespace Redox.Lab.Agent.Tests.Machines.Power;

/// <summary>Each power control against its real peer: ipmitool against ipmi_sim, pdudaemon, a captured Wake-on-LAN packet.</summary>
public sealed class PowerControlTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(2);
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-power-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Ipmi_AgainstIpmiSim_OnStartsPcStatusOnOffStopsIt()
    {
        var marker = Path.Combine(_dir, "powered");
        var start = Path.Combine(_dir, "start.sh");
        // The "PC": ipmi_sim runs this at power on; a QEMU with no disk that connects to the BMC.
        var vm = Peers.FreeTcpPort();
        var sol = Peers.FreeTcpPort();
        File.WriteAllText(start, $"#!/bin/sh\necho on >> {marker}\nqemu-system-x86_64 -display none -monitor none -m 32 -no-reboot -nic none {IpmiSim.QemuArgs(vm, sol)} >/dev/null 2>&1 </dev/null &\n");
        using var sim = new IpmiSim(Path.Combine(_dir, "bmc"), $"sh {start}", vm, sol);
        var power = new IpmiPower(new BmcSpec("127.0.0.1", sim.LanPort, "admin", sim.PasswordFile, "lanplus", TimeSpan.FromSeconds(30)));
        try
        {
            Assert.Equal(PowerState.Off, await power.StatusAsync(CancellationToken.None).WaitAsync(Wait));

            await power.PowerOnAsync(CancellationToken.None).WaitAsync(Wait);

            // ipmi_sim runs its start command in the background: wait for it, then for the PC to reach its BMC.
            await Eventually(() => Task.FromResult(File.Exists(marker) && File.ReadAllLines(marker).SequenceEqual(["on"])));
            await Eventually(async () => await power.StatusAsync(CancellationToken.None) == PowerState.On);
        }
        finally
        {
            await power.PowerOffAsync(CancellationToken.None).WaitAsync(Wait);
        }

        await Eventually(async () => await power.StatusAsync(CancellationToken.None) == PowerState.Off);
    }

    [Fact]
    public async Task Ipmi_WrongPassword_PowerExceptionNamingTheBmc()
    {
        using var sim = new IpmiSim(Path.Combine(_dir, "bmc"), "true", Peers.FreeTcpPort(), Peers.FreeTcpPort());
        var wrong = Path.Combine(_dir, "wrong");
        File.WriteAllText(wrong, "not-it");
        var power = new IpmiPower(new BmcSpec("127.0.0.1", sim.LanPort, "admin", wrong, "lanplus", TimeSpan.FromSeconds(30)));

        var e = await Assert.ThrowsAsync<PowerException>(() => power.StatusAsync(CancellationToken.None)).WaitAsync(Wait);

        Assert.Contains($"ipmi lanplus 127.0.0.1:{sim.LanPort}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ipmi_BmcNeverAnswers_PowerExceptionAtItsTimeout()
    {
        // A UDP socket that reads and never answers: a BMC that hangs.
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)silent.Client.LocalEndPoint!).Port;
        var power = new IpmiPower(new BmcSpec("127.0.0.1", port, "admin", null, "lanplus", TimeSpan.FromSeconds(3)));

        var e = await Assert.ThrowsAsync<PowerException>(() => power.PowerOnAsync(CancellationToken.None)).WaitAsync(Wait);

        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WakeOnLan_PowerOn_MagicPacketForTheMacOnTheConfiguredPort()
    {
        using var listener = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)listener.Client.LocalEndPoint!).Port;
        var mac = PhysicalAddress.Parse("52-54-00-13-00-03");
        var power = new WakeOnLanPower(mac, new WolPowerSpec(IPAddress.Loopback, port, null), TimeSpan.FromSeconds(10));

        await power.PowerOnAsync(CancellationToken.None);
        var packet = (await listener.ReceiveAsync().WaitAsync(Wait)).Buffer;

        Assert.Equal(102, packet.Length);
        Assert.All(packet[..6], b => Assert.Equal(0xff, b));
        for (var i = 0; i < 16; i++)
            Assert.Equal(mac.GetAddressBytes(), packet[(6 + (6 * i))..(12 + (6 * i))]);
        Assert.Equal(PowerState.Unknown, await power.StatusAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Command_FailingOff_PowerExceptionWithOutput()
    {
        var power = new CommandPower(new CommandPowerSpec(["true"], ["sh", "-c", "echo relay stuck; exit 3"], null, TimeSpan.FromSeconds(30)));

        var e = await Assert.ThrowsAsync<PowerException>(() => power.PowerOffAsync(CancellationToken.None));

        Assert.Contains("exit 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("relay stuck", e.Message, StringComparison.Ordinal);
    }

    internal static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("condition not met in time");
            await Task.Delay(250);
        }
    }
}

/// <summary>pdudaemon from Debian with its local-command driver.</summary>
public sealed class PduPowerTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(2);
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-pdu-").FullName;
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Pdu_PowerOnThenOff_OutletSwitchedOffOnOff()
    {
        var log = Path.Combine(_dir, "outlets");
        using var pdu = new PduDaemon(Path.Combine(_dir, "pdu"), "bench", $"echo 'on %d' >> {log}", $"echo 'off %d' >> {log}");
        var power = new PduPower(new PduPowerSpec(pdu.Url, pdu.Pdu, 3, TimeSpan.FromSeconds(60)), _http);

        await power.PowerOnAsync(CancellationToken.None).WaitAsync(Wait);
        await power.PowerOffAsync(CancellationToken.None).WaitAsync(Wait);

        // pdudaemon queues requests and answers at once: the commands may run a moment later.
        await PowerControlTests.Eventually(() => Task.FromResult(File.Exists(log) && File.ReadAllLines(log).Length == 3));
        Assert.Equal(["off 3", "on 3", "off 3"], File.ReadAllLines(log));
    }

    [Fact]
    public async Task Pdu_UnknownPdu_PowerExceptionWithAnswer()
    {
        using var pdu = new PduDaemon(Path.Combine(_dir, "pdu"), "bench", "true", "true");
        var power = new PduPower(new PduPowerSpec(pdu.Url, "no-such-pdu", 1, TimeSpan.FromSeconds(60)), _http);

        var e = await Assert.ThrowsAsync<PowerException>(() => power.PowerOffAsync(CancellationToken.None)).WaitAsync(Wait);

        Assert.Contains("no-such-pdu", e.Message, StringComparison.Ordinal);
    }
}
