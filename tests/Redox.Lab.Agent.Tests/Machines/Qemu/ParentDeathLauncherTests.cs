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
    public async Task Setpriv_ParentKilled_ChildDiesWithIt()
    {
        Assert.True(ParentDeathLauncher.Available, "setpriv (util-linux) is missing");
        // A stand-in for the agent: a shell that starts a long sleep the way the agent starts QEMU, then is SIGKILLed.
        using var agent = Process.Start(new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { "-c", "setpriv --pdeathsig KILL -- sleep 600 & echo $!; exec sleep 600" },
            RedirectStandardOutput = true,
        })!;
        var child = int.Parse(agent.StandardOutput.ReadLine()!, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            // setpriv sets the signal, then execs sleep: kill the parent only once sleep runs (before that, the
            // signal may not be set yet: the same tiny window an agent killed while starting QEMU has, which the
            // pid files cover).
            var deadline = DateTime.UtcNow + Wait;
            while (Comm(child) != "sleep" && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal("sleep", Comm(child));
            agent.Kill();
            await agent.WaitForExitAsync();

            // Polls for the child's death (a positive event; the deadline only bounds a failure).
            deadline = DateTime.UtcNow + Wait;
            while (Running(child) && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.False(Running(child), "the child outlived its SIGKILLed parent");
        }
        finally
        {
            if (Running(child)) Process.GetProcessById(child).Kill();
        }
    }

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The process exists and is not a zombie (a killed child nobody has reaped yet is dead).</summary>
    private static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
