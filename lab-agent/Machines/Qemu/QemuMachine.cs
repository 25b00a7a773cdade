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

    public Task<IMachineSession> PowerOnAsync(BootMedia media, MachineRequirements requirements, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var args = QemuCommandLine.Build(options, media, requirements);
        var start = new ProcessStartInfo(options.QemuPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
            start.ArgumentList.Add(a);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new LabInfraException($"cannot start QEMU '{options.QemuPath}'");
        }
        catch (Win32Exception e)
        {
            throw new LabInfraException($"cannot start QEMU '{options.QemuPath}': {e.Message}", e);
        }

        log.LogInformation("{Machine}: powered on, qemu pid {Pid}: {Path} {Args}", Info.Name, process.Id, options.QemuPath, string.Join(' ', args));
        pidFiles?.Add(process);
        var session = new QemuSession(process, log, s =>
        {
            _running.TryRemove(s.ProcessId, out _);
            pidFiles?.Remove(s.ProcessId);
        });
        _running[session.ProcessId] = session;
        return Task.FromResult<IMachineSession>(session);
    }

    /// <summary>Kills every QEMU still running (agent shutdown).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var session in _running.Values)
            await session.DisposeAsync();
    }
}
