using System.Collections.Concurrent;
using System.Diagnostics;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>
/// Starts processes that die with the agent, even when the agent is killed with SIGKILL and cannot power its
/// machines off: each is started through util-linux's <c>setpriv --pdeathsig KILL -- program args</c>, which
/// sets the parent-death signal (<c>prctl(PR_SET_PDEATHSIG)</c>) and then execs the program (the pid is the
/// program's; the signal survives the exec). The kernel sends it when the THREAD that forked the child exits,
/// not only the process, and .NET forks in the calling thread, which may be a thread-pool thread that retires
/// while QEMU still runs. So every start happens on one dedicated thread that lives as long as the agent.
/// Without <c>setpriv</c> (not Linux, or util-linux missing) processes start directly and only the pid files
/// (<see cref="QemuPidFiles"/>) clean up after a crash, at the agent's next start.
/// </summary>
public static class ParentDeathLauncher
{
    public const string SetprivPath = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> Requests = new();
    private static readonly Lazy<Thread> Starter = new(() =>
    {
        var thread = new Thread(StartLoop) { IsBackground = true, Name = "process launcher (parent-death signal)" };
        thread.Start();
        return thread;
    });

    /// <summary>True when processes get the parent-death signal here.</summary>
    public static bool Available => OperatingSystem.IsLinux() && File.Exists(SetprivPath);

    /// <summary>The start info that runs <paramref name="start"/>'s program under <c>setpriv --pdeathsig KILL</c>.</summary>
    public static ProcessStartInfo Wrap(ProcessStartInfo start, string setpriv = SetprivPath)
    {
        var wrapped = new ProcessStartInfo(setpriv)
        {
            UseShellExecute = false,
            RedirectStandardInput = start.RedirectStandardInput,
            RedirectStandardOutput = start.RedirectStandardOutput,
            RedirectStandardError = start.RedirectStandardError,
            WorkingDirectory = start.WorkingDirectory,
        };
        wrapped.ArgumentList.Add("--pdeathsig");
        wrapped.ArgumentList.Add("KILL");
        wrapped.ArgumentList.Add("--");
        wrapped.ArgumentList.Add(start.FileName);
        foreach (var a in start.ArgumentList) wrapped.ArgumentList.Add(a);
        foreach (var (key, value) in start.Environment) wrapped.Environment[key] = value;
        return wrapped;
    }

    /// <summary>The program's full path (a name is looked up in PATH), or null when there is no such file.</summary>
    public static string? Resolve(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal)) return File.Exists(program) ? Path.GetFullPath(program) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Starts the process (wrapped when <see cref="Available"/>) from the launcher thread. A missing program throws
    /// <see cref="FileNotFoundException"/> here, as a direct start would, instead of becoming setpriv's exit code.
    /// </summary>
    public static Task<Process> StartAsync(ProcessStartInfo start)
    {
        if (Resolve(start.FileName) is null) throw new FileNotFoundException($"no program '{start.FileName}'", start.FileName);
        if (!Available) return Task.FromResult(Process.Start(start) ?? throw new InvalidOperationException($"cannot start '{start.FileName}'"));
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Starter.Value;
        Requests.Add((Wrap(start), started));
        return started.Task;
    }

    private static void StartLoop()
    {
        foreach (var (start, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                started.SetResult(Process.Start(start) ?? throw new InvalidOperationException($"cannot start '{start.FileName}'"));
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        }
    }
}
