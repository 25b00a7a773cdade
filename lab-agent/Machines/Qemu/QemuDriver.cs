using Microsoft.Extensions.Options;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>
/// Creates <see cref="QemuMachine"/>s for machines configured with <c>Driver: qemu</c>. Before the first one,
/// it kills the QEMUs an earlier agent process left running (<see cref="QemuPidFiles"/>): the pool creates
/// every machine at start, before any job, so none of them can be this process's own.
/// </summary>
public sealed class QemuDriver(IOptions<AgentOptions> agent, ILoggerFactory loggers) : IMachineDriver
{
    private readonly Lazy<QemuPidFiles> _pidFiles = new(() =>
    {
        var files = new QemuPidFiles(Path.Combine(agent.Value.StatePath, "qemu"), loggers.CreateLogger<QemuPidFiles>());
        files.KillLeftovers();
        return files;
    });

    public string Kind => "qemu";

    public IMachine Create(MachineOptions options) => new QemuMachine(options, loggers.CreateLogger<QemuMachine>(), _pidFiles.Value);
}
