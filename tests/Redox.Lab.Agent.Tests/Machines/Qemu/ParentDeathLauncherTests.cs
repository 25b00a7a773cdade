using System.Diagnostics;
using Redox.Lab.Agent.Machines.Qemu;

namespace Redox.Lab.Agent.Tests.Machines.Qemu;

/// <summary>QEMU dies with the agent: setpriv's parent-death signal, bound to a thread that lives as long as the agent.</summary>
public sealed class ParentDeathLauncherTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public void Wrap_Program_RunsItUnderSetprivWithKill()
    {
        var start = new ProcessStartInfo("/usr/bin/qemu-system-x86_64") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-m");
        start.ArgumentList.Add("256");

        var wrapped = ParentDeathLauncher.Wrap(start);

        Assert.Equal(ParentDeathLauncher.SetprivPath, wrapped.FileName);
        Assert.Equal(["--pdeathsig", "KILL", "--", "/usr/bin/qemu-system-x86_64", "-m", "256"], wrapped.ArgumentList);
        Assert.True(wrapped.RedirectStandardOutput);
        Assert.False(wrapped.UseShellExecute);
    }

    [Fact]
    public async Task StartAsync_MissingProgram_ThrowsLikeADirectStart()
    {
        await Assert.ThrowsAsync<FileNotFoundException>(() => ParentDeathLauncher.StartAsync(new ProcessStartInfo("/nonexistent/qemu")));
    }

    [Fact]
    public void Setpriv_ParentKilled_ChildDiesWithIt()
    {
        Assert.True(ParentDeathLauncher.Available, "setpriv (util-linux) is missing");
        // A stand-in for the agent: a shell that starts a long sleep the way the agent starts QEMU, then is SIGKILLed.
        var agent = Process.Start(new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { "-c", "setpriv --pdeathsig KILL -- sleep 600 & echo $!; exec sleep 600" },
            RedirectStandardOutput = true,
        })!;
        var child = Process.GetProcessById(int.Parse(agent.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            agent.Kill();
            Assert.True(child.WaitForExit(Wait), "the child outlived its SIGKILLed parent");
        }
        finally
        {
            if (!child.HasExited) child.Kill();
            agent.Dispose();
        }
    }

    [Fact]
    public async Task StartAsync_CallingThreadEnds_ProcessLivesOnWhileOneStartedFromThatThreadDies()
    {
        Assert.True(ParentDeathLauncher.Available, "setpriv (util-linux) is missing");
        Process? control = null;
        Task<Process>? launched = null;
        // The signal follows the thread that forked: a process started directly from a thread that then ends is
        // killed (the control); one started by the launcher lives on.
        var thread = new Thread(() =>
        {
            control = Process.Start(ParentDeathLauncher.Wrap(new ProcessStartInfo("sleep") { ArgumentList = { "600" } }));
            launched = ParentDeathLauncher.StartAsync(new ProcessStartInfo("sleep") { ArgumentList = { "600" } });
        });
        thread.Start();
        thread.Join();
        var process = await launched!;
        try
        {
            Assert.True(control!.WaitForExit(Wait), "the control was not killed when its thread ended");
            // The control's death shows the thread's end was signalled; the launcher's process was not.
            Assert.False(process.HasExited);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            if (!control!.HasExited) control.Kill();
        }
    }
}
