using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;


namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>
/// A simulated PC: one <c>qemu-system-x86_64</c> process per boot, COM1 on its stdout. Power off kills
/// the process tree. Sized by the pipeline's requirements, not by its own configuration.
/// </summary>
/// <param name="pidFiles">Where the agent records its QEMU processes for the clean-up after a crash; null records nothing.</param>
public sealed class QemuMachine(MachineOptions options, ILogger<QemuMachine> log, QemuPidFiles? pidFiles = null) : IMachine, IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, QemuSession> _running = new();

    public MachineInfo Info { get; } = new(options.Name, "qemu", options.Tags.Count > 0 ? options.Tags : ["qemu", "x86_64"], options.Cpus, options.MemoryMiB);

    /// <summary>Process ids of the QEMU processes this machine has running now.</summary>
    public IReadOnlyCollection<int> RunningProcessIds => [.. _running.Keys];

    /// <summary>How long QEMU may take to open its QMP socket and answer.</summary>
    public static readonly TimeSpan QmpTimeout = TimeSpan.FromSeconds(30);

    public async Task<IMachineSession> PowerOnAsync(BootMedia media, MachineRequirements requirements, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // One private directory per boot: the QMP socket and the UEFI variable store copy; deleted with the session.
        var dir = Directory.CreateTempSubdirectory("lab-qemu-").FullName;
        Process? process = null;
        try
        {
            string? vars = null;
            if (media.Method == BootMethod.DiskUefi)
            {
                vars = Path.Combine(dir, "OVMF_VARS.fd");
                try
                {
                    File.Copy(options.OvmfVars, vars);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new LabInfraException($"cannot copy the UEFI variable store '{options.OvmfVars}' (is Debian's ovmf installed?): {e.Message}", e);
                }

                if (!File.Exists(options.OvmfCode))
                    throw new LabInfraException($"the UEFI firmware '{options.OvmfCode}' is missing (is Debian's ovmf installed?)");
            }

            var qmpPath = Path.Combine(dir, "qmp.sock");
            var args = QemuCommandLine.Build(options, media, requirements, qmpPath, vars);
            var start = new ProcessStartInfo(options.QemuPath)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in args)
                start.ArgumentList.Add(a);

            try
            {
                // Under setpriv --pdeathsig: QEMU dies with the agent, even a SIGKILLed one (ParentDeathLauncher).
                process = await ParentDeathLauncher.StartAsync(start);
            }
            catch (Exception e) when (e is Win32Exception or FileNotFoundException or InvalidOperationException)
            {
                throw new LabInfraException($"cannot start QEMU '{options.QemuPath}': {e.Message}", e);
            }

            log.LogInformation("{Machine}: powered on, qemu pid {Pid}: {Path} {Args}", Info.Name, process.Id, options.QemuPath, string.Join(' ', args));
            pidFiles?.Add(process);
            var started = process;
            QmpEvents qmp;
            try
            {
                qmp = await QmpEvents.ConnectAsync(qmpPath, QmpTimeout, () => !started.HasExited, cancellationToken);
            }
            catch (Exception e) when (e is LabInfraException or OperationCanceledException)
            {
                if (e is LabInfraException && await ExitsSoonAsync(started))
                {
                    // QEMU refused the media at start ("Cannot load x86-64 image", a bad disk image): the kernel's
                    // fault, not the lab's. The session reports the exit with QEMU's stderr and no console output.
                    log.LogInformation("{Machine}: qemu pid {Pid} exited before its QMP socket answered", Info.Name, started.Id);
                    qmp = QmpEvents.None();
                }
                else
                {
                    KillQuietly(started);
                    pidFiles?.Remove(started.Id);
                    started.Dispose();
                    process = null;
                    throw;
                }
            }

            var session = new QemuSession(process, log, qmp, dir, s =>
            {
                _running.TryRemove(s.ProcessId, out _);
                pidFiles?.Remove(s.ProcessId);
            });
            _running[session.ProcessId] = session;
            // A QEMU that exited at once may have run its end callback before it was added.
            if (session.HasEnded)
                _running.TryRemove(session.ProcessId, out _);
            return session;
        }
        catch
        {
            if (process is null)
                TryDelete(dir);
            throw;
        }
    }

    /// <summary>How long a QEMU whose QMP socket failed may take to be seen as exited.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True when the process has exited or exits within <see cref="ExitGrace"/>. QEMU opens its QMP socket before it
    /// loads the kernel, so when it refuses the media the socket's close can reach us before the process's exit
    /// does: a QMP failure is judged by whether QEMU is on its way out, not by <see cref="Process.HasExited"/> at
    /// that instant.
    /// </summary>
    private static async Task<bool> ExitsSoonAsync(Process process)
    {
        using var grace = new CancellationTokenSource(ExitGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    internal static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temp directory left behind is harmless.
        }
    }

    /// <summary>Kills every QEMU still running (agent shutdown).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var session in _running.Values)
            await session.DisposeAsync();
    }
}
