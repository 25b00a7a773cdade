using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Machines.Pc;

/// <summary>
/// Integration: a QEMU PC with no <c>-kernel</c> network-boots through the agent's HTTP boot server (QEMU user
/// networking, whose DHCP boot file is the agent's entry script), its console read through Debian's ser2net
/// (telnet) in front of a serial cable, powered by commands. The boot runs through the real BootRunner.
/// Under TCG a network boot takes tens of seconds: the timeouts are generous, nothing is timed.
/// </summary>
[Collection(NetbootCollection.Name)]
public sealed class PcNetbootTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(8);
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-pc-").FullName;
    private readonly AgentHarness _agent = new(TimeProvider.System);
    private NullModem? _cable;
    private Ser2Net? _ser2net;
    private BenchHost? _bench;
    private QemuPc? _pc;

    public async Task InitializeAsync()
    {
        _cable = new NullModem(_dir);
        _ser2net = new Ser2Net(_dir, _cable.HostEnd, "telnet");
        var http = Peers.FreeTcpPort();
        _pc = new QemuPc(_dir, "pc-http", QemuPc.MacOf(1), QemuPc.UserNet($"http://10.0.2.2:{http}/boot.ipxe"), QemuPc.SerialCable(_cable.PcEnd));
        _bench = await BenchHost.StartAsync(Path.Combine(_dir, "state"), $"""
            machines:
              - name: pc-http
                tags: [pc, x86_64]
                mac: {_pc.Mac}
                boot: {"{"} method: ipxe, delivery_timeout: 300s, attempts: 1 {"}"}
                console: {"{"} type: tcp, host: 127.0.0.1, port: {_ser2net.Port}, protocol: telnet {"}"}
                power:
                  type: command
                  on: [sh, {_pc.OnScript}]
                  off: [sh, {_pc.OffScript}]
            """, new Dictionary<string, string?>
        {
            ["Agent:Boot:HttpListen"] = $"http://127.0.0.1:{http}",
            ["Agent:Boot:PublicUrl"] = $"http://10.0.2.2:{http}",
        });
    }

    public async Task DisposeAsync()
    {
        _pc?.Off();
        if (_bench is not null)
            await _bench.DisposeAsync();
        _ser2net?.Dispose();
        _cable?.Dispose();
        _agent.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Boot_MultibootKernelOverHttp_PassedWithDeliveryRecorded()
    {
        var image = TestKernel.Build(Path.Combine(_dir, "k"), string.Join('\n', Markers.PassingBoot) + "\n", exitValue: 0);
        var fetched = new List<string>();
        _bench!.Deliveries.Fetched += (_, mac, what) => { lock (fetched) fetched.Add($"{mac} {what}"); };

        var (report, log) = await Boot(new BootMedia(image, [], "console=ttyS0"));

        Assert.True(report.Outcome == Outcome.Passed, Describe(report, log));
        Assert.Equal(["entry", "kmain-done"], report.Stages.Select(s => s.Name));
        Assert.Contains(log, l => l.Text.StartsWith("lab: boot delivered", StringComparison.Ordinal));
        Assert.Contains($"{_pc!.Mac} script", fetched);
        Assert.Contains($"{_pc.Mac} kernel", fetched);
        Assert.Equal(["off", "on", "off"], _pc.PowerEvents); // command power without a cycle command: off, on; then off after the boot
        Assert.False(_pc.IsRunning);
    }

    [Fact]
    public async Task Boot_DiskImageBySanbootWithRangeRequests_Passed()
    {
        var disk = TestDisk.Build(Path.Combine(_dir, "d"), string.Join('\n', Markers.PassingBoot) + "\n", exitValue: 0);

        var (report, log) = await Boot(new BootMedia(disk, [], "", BootMethod.Disk));

        Assert.True(report.Outcome == Outcome.Passed, Describe(report, log));
        Assert.Equal(["entry", "kmain-done"], report.Stages.Select(s => s.Name));
    }

    [Fact]
    public async Task Boot_LinuxBzImageWithInitrdOverHttp_Passed()
    {
        // Debian's stock kernel (linux-image-amd64) and a busybox-static initramfs whose /init prints the markers.
        var (vmlinuz, initramfs) = LinuxInitramfs.Build(Path.Combine(_dir, "linux"), string.Join('\n', Markers.PassingBoot));
        var fetched = new List<string>();
        _bench!.Deliveries.Fetched += (_, _, what) => { lock (fetched) fetched.Add(what); };

        var (report, log) = await Boot(new BootMedia(vmlinuz, [initramfs], "console=ttyS0 quiet"));

        Assert.True(report.Outcome == Outcome.Passed, Describe(report, log));
        Assert.Equal(["entry", "kmain-done"], report.Stages.Select(s => s.Name));
        Assert.Contains("kernel", fetched);
        Assert.Contains("module0", fetched);
    }

    private async Task<(BootReport Report, List<ConsoleLine> Log)> Boot(BootMedia media)
    {
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "400s"));
        var job = Guid.NewGuid();
        var machine = _bench!.Machine("pc-http");
        await using var console = new ConsoleUploader(_agent.Client, job, TimeProvider.System, NullLogger.Instance);
        var report = await _agent.Boots.RunAsync(0, pipeline, pipeline.Boot.Machine, media, machine, console, CancellationToken.None).WaitAsync(Wait);
        await console.FlushAsync(CancellationToken.None).WaitAsync(Wait);
        return (report, _agent.Server.ConsoleOf(job));
    }

    private string Describe(BootReport report, List<ConsoleLine> log) =>
        $"{report.Outcome}: {report.Detail}\n--- console\n{string.Join('\n', log.Select(l => l.Text))}\n--- qemu\n{(File.Exists(_pc!.LogFile) ? File.ReadAllText(_pc.LogFile) : "")}\n--- ser2net\n{_ser2net!.Output}";
}

/// <summary>QEMU network boots are heavy under TCG: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetbootCollection
{
    public const string Name = "netboot";
}
