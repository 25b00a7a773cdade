using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Machines.Qemu;

/// <summary>Integration tests: the real qemu-system-x86_64 boots a multiboot image assembled by the test.</summary>
public sealed class QemuMachineTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly MachineRequirements Small = new(["qemu"], 1, 32);
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-qemu-").FullName;
    private readonly QemuMachine _machine = new(new MachineOptions { Name = "qemu-test" }, NullLogger<QemuMachine>.Instance);

    public void Dispose()
    {
        _machine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task PowerOnAsync_MultibootImage_ConsoleLinesArriveAndDebugExitEndsIt()
    {
        var image = TestKernel.Build(_dir, "hello from the test kernel\nsecond line\n", exitValue: 0);

        await using var session = await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        var text = await ReadToEndAsync(session.Console).WaitAsync(Wait);
        var exit = await session.Exited.WaitAsync(Wait);

        Assert.Equal("hello from the test kernel\nsecond line\n", text);
        Assert.Equal(1, exit.Code);
        Assert.Contains("isa-debug-exit wrote 0", exit.Description, StringComparison.Ordinal);
        Assert.Empty(_machine.RunningProcessIds);
    }

    [Fact]
    public async Task PowerOnAsync_DebugExitWithFailValue_Status3()
    {
        var image = TestKernel.Build(_dir, "failing\n", exitValue: 1);

        await using var session = await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        await ReadToEndAsync(session.Console).WaitAsync(Wait);
        var exit = await session.Exited.WaitAsync(Wait);

        Assert.Equal(3, exit.Code);
    }

    [Fact]
    public async Task PowerOnAsync_QemuRefusesTheImage_SessionEndsWithItsStderrNotALabError()
    {
        var image = Path.Combine(_dir, "zero.bin");
        File.WriteAllBytes(image, new byte[100]);

        await using var session = await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        var text = await ReadToEndAsync(session.Console).WaitAsync(Wait);
        var exit = await session.Exited.WaitAsync(Wait);

        Assert.Equal("", text);
        Assert.Equal(1, exit.Code);
        Assert.Equal(Redox.Lab.Contracts.Console.BootStop.Exited, exit.Stop);
    }

    /// <summary>
    /// Real QEMU opens its QMP socket before it loads the kernel, so when it refuses the image the socket's close can
    /// reach the agent before the process's exit does. A stand-in QEMU (unit test) makes that order certain: it
    /// accepts the QMP connection, closes it, and exits with status 1 a moment later.
    /// </summary>
    [Fact]
    public async Task PowerOnAsync_QmpClosesBeforeQemuExits_SessionEndsWithItsStderrNotALabError()
    {
        var standIn = Path.Combine(_dir, "qemu-stand-in");
        File.WriteAllText(standIn, """
            #!/usr/bin/env python3
            import socket, sys, time
            path = next(a for a in sys.argv if a.startswith("unix:"))[5:].split(",")[0]
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(path)
            server.listen(1)
            connection, _ = server.accept()
            connection.close()
            time.sleep(0.3)
            sys.stderr.write("qemu: invalid kernel header\n")
            sys.exit(1)
            """);
        File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var machine = new QemuMachine(new MachineOptions { Name = "qemu-stand-in", QemuPath = standIn }, NullLogger<QemuMachine>.Instance);

        await using var session = await machine.PowerOnAsync(new BootMedia(standIn, [], ""), Small, CancellationToken.None);
        var exit = await session.Exited.WaitAsync(Wait);

        Assert.Equal(1, exit.Code);
        Assert.Equal(Redox.Lab.Contracts.Console.BootStop.Exited, exit.Stop);
        Assert.Contains("invalid kernel header", exit.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PowerOnAsync_GuestPowersOff_QmpSaysPoweredOff()
    {
        var image = TestKernel.Build(_dir, "bye\n", exitValue: null, TestKernel.Ending.PowerOff);

        await using var session = await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        await ReadToEndAsync(session.Console).WaitAsync(Wait);
        var exit = await session.Exited.WaitAsync(Wait);

        Assert.Equal(Redox.Lab.Contracts.Console.BootStop.PoweredOff, exit.Stop);
        Assert.Contains("powered the machine off", exit.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PowerOnAsync_GuestTripleFaults_QmpSaysReset()
    {
        var image = TestKernel.Build(_dir, "faulting\n", exitValue: null, TestKernel.Ending.TripleFault);

        await using var session = await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        await ReadToEndAsync(session.Console).WaitAsync(Wait);
        var exit = await session.Exited.WaitAsync(Wait);

        Assert.Equal(Redox.Lab.Contracts.Console.BootStop.Reset, exit.Stop);
    }

    [Fact]
    public async Task PowerOffAsync_KernelHalted_QemuProcessKilled()
    {
        var image = TestKernel.Build(_dir, "ready\n", exitValue: null);
        var session = (QemuSession)await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        var pid = session.ProcessId;
        await ReadUntilAsync(session.Console, "ready\n").WaitAsync(Wait);
        Assert.Contains(pid, _machine.RunningProcessIds);

        await session.PowerOffAsync();

        var exit = await session.Exited.WaitAsync(Wait);
        Assert.Equal("powered off by the agent", exit.Description);
        Assert.False(IsRunning(pid));
        Assert.Empty(_machine.RunningProcessIds);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task DisposeAsync_Machine_KillsEverythingStillRunning()
    {
        var image = TestKernel.Build(_dir, "ready\n", exitValue: null);
        var session = (QemuSession)await _machine.PowerOnAsync(new BootMedia(image, [], ""), Small, CancellationToken.None);
        await ReadUntilAsync(session.Console, "ready\n").WaitAsync(Wait);

        await _machine.DisposeAsync();

        Assert.False(IsRunning(session.ProcessId));
    }

    internal static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<string> ReadToEndAsync(Stream console)
    {
        var all = new MemoryStream();
        await console.CopyToAsync(all);
        return Encoding.UTF8.GetString(all.ToArray());
    }

    private static async Task ReadUntilAsync(Stream console, string expected)
    {
        var seen = new StringBuilder();
        var buffer = new byte[256];
        while (!seen.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var n = await console.ReadAsync(buffer);
            if (n == 0)
                throw new EndOfStreamException($"console ended after '{seen}'");
            seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
    }
}
