namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>Creates <see cref="QemuMachine"/>s for machines configured with <c>Driver: qemu</c>.</summary>
public sealed class QemuDriver(ILoggerFactory loggers) : IMachineDriver
{
    public string Kind => "qemu";

    public IMachine Create(MachineOptions options) => new QemuMachine(options, loggers.CreateLogger<QemuMachine>());
}
