using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Resilience;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Machines.Pc;

/// <summary>
/// Faults of the lab, each ending as the right outcome with the configured retries and breaker moves:
/// a PC that never fetches its boot, a PDU answering 503, a console that drops mid-boot (and comes back,
/// or not). The PC here is the test fetching its script and files the way iPXE does.
/// </summary>
public sealed partial class PcFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(2);

    private static readonly MachinePipelineSettings Fast = new()
    {
        PowerRetries = 2,
        PowerDelay = TimeSpan.Zero,
        ConsoleRetries = 2,
        ConsoleDelay = TimeSpan.Zero,
        ConsoleAttempt = TimeSpan.FromSeconds(10),
        DeliveryDelay = TimeSpan.Zero,
        BreakerFailures = 2,
        BreakerBreak = TimeSpan.FromHours(1),
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("agent-faults-").FullName;
    private readonly AgentHarness _agent = new(TimeProvider.System);
    private readonly HttpClient _http = new();
    private readonly TcpListener _serial = new(IPAddress.Loopback, 0);
    private readonly List<string> _events = [];
    private readonly TaskCompletionSource _testEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _pdu;
    private int _pduRequests;
    private BenchHost? _bench;
    private int _httpPort;

    public async Task InitializeAsync()
    {
        _serial.Start();
        _httpPort = Peers.FreeTcpPort();
        var pduPort = Peers.FreeTcpPort();
        // A PDU that is always busy: the fault pdudaemon's users see when its PDU does not answer.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{pduPort}");
        _pdu = builder.Build();
        _pdu.MapGet("/power/control/{action}", () =>
        {
            Interlocked.Increment(ref _pduRequests);
            return Results.StatusCode(503);
        });
        await _pdu.StartAsync();

        var serialPort = ((IPEndPoint)_serial.LocalEndpoint).Port;
        var powerLog = Path.Combine(_dir, "power.log");
        _bench = await BenchHost.StartAsync(Path.Combine(_dir, "state"), $"""
            machines:
              - name: pc-silent
                mac: 52:54:00:13:01:01
                boot: {"{"} method: ipxe, delivery_timeout: 1s, attempts: 2 {"}"}
                console: {"{"} type: tcp, host: 127.0.0.1, port: {serialPort} {"}"}
                power: {"{"} type: command, on: "echo on >> {powerLog}", off: "echo off >> {powerLog}" {"}"}
              - name: pc-busy-pdu
                mac: 52:54:00:13:01:02
                boot: {"{"} method: ipxe {"}"}
                console: {"{"} type: tcp, host: 127.0.0.1, port: {serialPort} {"}"}
                power: {"{"} type: pdu, url: "http://127.0.0.1:{pduPort}", pdu: bench, outlet: 1 {"}"}
              - name: pc-manual
                mac: 52:54:00:13:01:03
                boot: {"{"} method: ipxe, delivery_timeout: 60s {"}"}
                console: {"{"} type: tcp, host: 127.0.0.1, port: {serialPort} {"}"}
                power: {"{"} type: manual {"}"}
            """, new Dictionary<string, string?> { ["Agent:Boot:HttpListen"] = $"http://127.0.0.1:{_httpPort}" }, Fast);
    }

    public async Task DisposeAsync()
    {
        _testEnded.TrySetResult();
        await _bench!.DisposeAsync();
        await _pdu!.DisposeAsync();
        _serial.Stop();
        _http.Dispose();
        _agent.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task PowerOn_PcNeverFetches_InfraErrorAfterEachAttemptAndPoweredOff()
    {
        _ = AcceptSilently();
        var machine = Machine("pc-silent");

        var e = await Assert.ThrowsAsync<LabInfraException>(() => machine.PowerOnAsync(Media(), Requirements, CancellationToken.None)).WaitAsync(Wait);

        Assert.Contains("boot not delivered: the PC did not fetch its boot script, kernel within 1s", e.Message, StringComparison.Ordinal);
        // Two attempts (command power: off then on each), then off.
        Assert.Equal(["off", "on", "off", "on", "off"], File.ReadAllLines(Path.Combine(_dir, "power.log")));
        Assert.Contains(_events, m => m.StartsWith("boot-delivery: attempt 1 failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PowerOn_RepeatedInfraFailures_BreakerOpensAndNextFailsWithoutPower()
    {
        _ = AcceptSilently();
        var machine = Machine("pc-silent");
        for (var i = 0; i < Fast.BreakerFailures; i++)
            await Assert.ThrowsAsync<LabInfraException>(() => machine.PowerOnAsync(Media(), Requirements, CancellationToken.None)).WaitAsync(Wait);
        var powered = File.ReadAllLines(Path.Combine(_dir, "power.log")).Length;

        var e = await Assert.ThrowsAsync<LabInfraException>(() => machine.PowerOnAsync(Media(), Requirements, CancellationToken.None)).WaitAsync(Wait);

        Assert.Contains("circuit breaker is open", e.Message, StringComparison.Ordinal);
        Assert.Equal(powered, File.ReadAllLines(Path.Combine(_dir, "power.log")).Length);
        Assert.Contains(_events, m => m.StartsWith("breaker of pc-silent opened after 2 infrastructure failures", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PowerOn_PduAnswers503_RetriedAsConfiguredThenInfraError()
    {
        _ = AcceptSilently();
        var machine = Machine("pc-busy-pdu");

        var e = await Assert.ThrowsAsync<LabInfraException>(() => machine.PowerOnAsync(Media(), Requirements, CancellationToken.None)).WaitAsync(Wait);

        Assert.Contains("503", e.Message, StringComparison.Ordinal);
        // power-on: 1 + PowerRetries requests; then power off on the way out: 1 + PowerRetries more.
        Assert.Equal(2 * (1 + Fast.PowerRetries), _pduRequests);
        Assert.Equal(Fast.PowerRetries * 2, _events.Count(m => m.StartsWith("power: attempt", StringComparison.Ordinal)));
        Assert.Contains(_events, m => m.StartsWith("power off failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Boot_ConsoleDropsMidBootAndReturns_PassedWithTheGapRecorded()
    {
        var serial = Task.Run(async () =>
        {
            using (var first = await _serial.AcceptTcpClientAsync())
            {
                await WaitForAsync(() => _events.Any(m => m.StartsWith("boot delivered", StringComparison.Ordinal)));
                await first.GetStream().WriteAsync(Encoding.ASCII.GetBytes(Markers.Stage("entry") + "\n"));
                await Task.Delay(200);
            }

            using var second = await _serial.AcceptTcpClientAsync();
            await second.GetStream().WriteAsync(Encoding.ASCII.GetBytes(string.Join('\n', Markers.PassingBoot[1..]) + "\n"));
            // Hold the console open until the test ends: the boot must end on the kernel's end marker, not on a drop.
            await _testEnded.Task;
        });

        var (report, log) = await BootWithFetchAsync("pc-manual");

        Assert.True(report.Outcome == Outcome.Passed, $"{report.Outcome}: {report.Detail}\n{string.Join('\n', log.Select(l => l.Text))}");
        Assert.Contains(log, l => l.Text.StartsWith("lab: console tcp raw 127.0.0.1:", StringComparison.Ordinal) && l.Text.Contains("lost at", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Text.Contains("attached again; gap of", StringComparison.Ordinal));
        Assert.Equal(Markers.PassingBoot, log.Where(l => !l.Text.StartsWith("lab: ", StringComparison.Ordinal)).Select(l => l.Text));
        Assert.False(serial.IsFaulted);
    }

    [Fact]
    public async Task Boot_ConsoleDropsForGood_InfraFailureNotAKernelOutcome()
    {
        _ = Task.Run(async () =>
        {
            using var only = await _serial.AcceptTcpClientAsync();
            await WaitForAsync(() => _events.Any(m => m.StartsWith("boot delivered", StringComparison.Ordinal)));
            await only.GetStream().WriteAsync(Encoding.ASCII.GetBytes(Markers.Stage("entry") + "\n"));
            await Task.Delay(200);
            _serial.Stop(); // pulled: nothing answers on the console's port any more
        });

        var e = await Assert.ThrowsAsync<LabInfraException>(() => BootWithFetchAsync("pc-manual")).WaitAsync(Wait);

        Assert.Contains("lost mid-boot and could not be attached again", e.Message, StringComparison.Ordinal);
        Assert.Equal(1 + Fast.ConsoleRetries, 1 + _events.Count(m => m.StartsWith("console-attach: attempt", StringComparison.Ordinal)));
    }

    private async Task<(BootReport Report, List<ConsoleLine> Log)> BootWithFetchAsync(string name)
    {
        var machine = Machine(name);
        var image = TestKernel.Build(Path.Combine(_dir, "k"), "", exitValue: 0);
        var spec = _bench!.Services.GetService(typeof(Redox.Lab.Agent.Machines.Pc.PcBench)) as Redox.Lab.Agent.Machines.Pc.PcBench;
        var mac = spec!.Find(name)!.MacText;
        // The PC: once powered, it fetches its script and what the script names, as iPXE would.
        var pc = Task.Run(async () =>
        {
            await WaitForAsync(() => _events.Any(m => m.StartsWith("powered on", StringComparison.Ordinal)));
            var script = await _http.GetStringAsync($"http://127.0.0.1:{_httpPort}/boot/{mac}.ipxe");
            foreach (Match m in FileUrl().Matches(script))
                await _http.GetByteArrayAsync(m.Value);
        });
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "60s"));
        var job = Guid.NewGuid();
        await using var console = new ConsoleUploader(_agent.Client, job, TimeProvider.System, NullLogger.Instance);
        var report = await _agent.Boots.RunAsync(0, pipeline, pipeline.Boot.Machine, new BootMedia(image, [], ""), machine, console, CancellationToken.None).WaitAsync(Wait);
        await console.FlushAsync(CancellationToken.None).WaitAsync(Wait);
        await pc.WaitAsync(Wait);
        return (report, _agent.Server.ConsoleOf(job));
    }

    private Redox.Lab.Agent.Machines.Pc.PcMachine Machine(string name)
    {
        var machine = _bench!.Machine(name);
        machine.LabEvent += m =>
        {
            lock (_events)
                _events.Add(m);
        };
        return machine;
    }

    private BootMedia Media()
    {
        var path = Path.Combine(_dir, "kernel");
        File.WriteAllText(path, "kernel");
        return new BootMedia(path, [], "");
    }

    private static readonly MachineRequirements Requirements = new([], 1, 128);

    private async Task AcceptSilently()
    {
        try
        {
            while (true)
                _ = await _serial.AcceptTcpClientAsync();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped.
        }
    }

    private async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            lock (_events)
            {
                if (condition())
                    return;
            }

            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not met");
            await Task.Delay(20);
        }
    }

    [GeneratedRegex(@"http://\S+/files/\S+")]
    private static partial Regex FileUrl();
}
