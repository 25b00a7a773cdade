using System.Diagnostics;
using System.Globalization;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>
/// Remembers the QEMU processes the agent started, one file per process under <c>StateDir/qemu</c>
/// (<c>&lt;pid&gt;</c>, holding the process's start time), so that an agent killed with SIGKILL, which could
/// not power its machines off, kills its orphaned QEMUs when it starts again. The start time guards
/// against killing an unrelated process that reused the pid.
/// </summary>
public sealed class QemuPidFiles(string directory, ILogger log)
{
    /// <summary>Start times read back from <c>/proc</c> differ by clock-tick rounding at most.</summary>
    private static readonly TimeSpan StartTimeTolerance = TimeSpan.FromSeconds(1);

    public string Directory { get; } = directory;

    /// <summary>Records a QEMU the agent just started.</summary>
    public void Add(Process process)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllText(PathOf(process.Id), process.StartTime.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Only the clean-up after a crash depends on it; the boot itself does not.
            log.LogWarning("Cannot record qemu pid {Pid} in {Dir}: {Error}", process.Id, Directory, e.Message);
        }
    }

    /// <summary>Forgets a QEMU that ended.</summary>
    public void Remove(int pid) => Delete(PathOf(pid));

    /// <summary>
    /// Kills every recorded QEMU that still runs and forgets them all. Call before the first boot, when no
    /// QEMU of this agent can be running legitimately. Returns the pids it killed.
    /// </summary>
    public IReadOnlyList<int> KillLeftovers()
    {
        var killed = new List<int>();
        if (!System.IO.Directory.Exists(Directory))
            return killed;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
        {
            if (int.TryParse(Path.GetFileName(file), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(ReadOrEmpty(file), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && TryKill(pid, new DateTime(ticks, DateTimeKind.Utc)))
            {
                killed.Add(pid);
            }

            Delete(file);
        }

        return killed;
    }

    private bool TryKill(int pid, DateTime startedUtc)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if ((process.StartTime.ToUniversalTime() - startedUtc).Duration() > StartTimeTolerance)
                return false;
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
            log.LogWarning("Killed qemu pid {Pid} left running by an earlier agent process", pid);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already (ArgumentException), or exited while we looked.
            return false;
        }
    }

    private void Delete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Cannot delete {File}: {Error}", file, e.Message);
        }
    }

    private static string ReadOrEmpty(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private string PathOf(int pid) => Path.Combine(Directory, pid.ToString(CultureInfo.InvariantCulture));
}
