using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Machines.Qemu;

public sealed class QemuPidFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-qemu-pids-").FullName;
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        foreach (var p in _started)
        {
            if (!p.HasExited)
                p.Kill(entireProcessTree: true);
            p.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private string PidDir => Path.Combine(_dir, "qemu");

    private Process Sleep()
    {
        var p = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        _started.Add(p);
        return p;
    }

    private QemuPidFiles Files() => new(PidDir, NullLogger.Instance);

    [Fact]
    public void KillLeftovers_RecordedProcessStillRunning_KilledAndForgotten()
    {
        var orphan = Sleep();
        Files().Add(orphan);

        var killed = Files().KillLeftovers();

        Assert.Equal([orphan.Id], killed);
        Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Empty(Directory.EnumerateFiles(PidDir));
    }

    [Fact]
    public void KillLeftovers_PidNowHeldByAnotherProcess_LeftAlone()
    {
        var stranger = Sleep();
        // The recorded QEMU had this pid but started an hour earlier: the pid was reused.
        Directory.CreateDirectory(PidDir);
        var earlier = stranger.StartTime.ToUniversalTime().AddHours(-1).Ticks;
        File.WriteAllText(Path.Combine(PidDir, stranger.Id.ToString(CultureInfo.InvariantCulture)), earlier.ToString(CultureInfo.InvariantCulture));

        var killed = Files().KillLeftovers();

        Assert.Empty(killed);
        Assert.False(stranger.HasExited);
        Assert.Empty(Directory.EnumerateFiles(PidDir));
    }

    [Fact]
    public void KillLeftovers_ProcessGoneOrFileGarbled_FilesRemovedNothingThrown()
    {
        var gone = Sleep();
        Files().Add(gone);
        gone.Kill();
        gone.WaitForExit();
        File.WriteAllText(Path.Combine(PidDir, "not-a-pid"), "x");
        File.WriteAllText(Path.Combine(PidDir, "12345"), "garbage");

        var killed = Files().KillLeftovers();

        Assert.Empty(killed);
        Assert.Empty(Directory.EnumerateFiles(PidDir));
    }

    [Fact]
    public void KillLeftovers_NoDirectory_Nothing()
    {
        Assert.Empty(Files().KillLeftovers());
    }

    [Fact]
    public async Task PowerOnAsync_WithPidFiles_RecordedWhileRunningForgottenAfterPowerOff()
    {
        var files = Files();
        await using var machine = new QemuMachine(new MachineOptions { Name = "qemu-pids" }, NullLogger<QemuMachine>.Instance, files);
        var image = TestKernel.Build(_dir, "ready\n", exitValue: null);

        var session = (QemuSession)await machine.PowerOnAsync(new BootMedia(image, [], ""), new MachineRequirements(["qemu"], 1, 32), CancellationToken.None);
        Assert.Equal([session.ProcessId.ToString(CultureInfo.InvariantCulture)], Directory.EnumerateFiles(PidDir).Select(Path.GetFileName));

        await session.DisposeAsync();

        Assert.Empty(Directory.EnumerateFiles(PidDir));
    }
}
