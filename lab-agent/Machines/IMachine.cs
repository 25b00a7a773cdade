using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Machines;

/// <summary>
/// A machine the agent can boot a kernel on: a QEMU process today, a PC with PXE, a serial console
/// and a power switch later. The job flow sees only this interface (README.md beside this file).
/// </summary>
public interface IMachine
{
    /// <summary>What the server is told about this machine.</summary>
    MachineInfo Info { get; }

    /// <summary>
    /// Delivers <paramref name="media"/>, powers the machine on and attaches its console. Returns once
    /// the console is readable. Throws <see cref="LabInfraException"/> when the lab cannot do it.
    /// </summary>
    /// <param name="requirements">The pipeline's machine requirements; simulated machines size themselves by them.</param>
    Task<IMachineSession> PowerOnAsync(BootMedia media, MachineRequirements requirements, CancellationToken cancellationToken);
}

/// <summary>
/// One power-on of a machine. Disposing it powers the machine off, so an <c>await using</c> guarantees
/// that no machine is left running past its boot, whatever happened.
/// </summary>
public interface IMachineSession : IAsyncDisposable
{
    /// <summary>The console's bytes as the machine sends them; end of stream when the machine stopped.</summary>
    Stream Console { get; }

    /// <summary>Completes when the machine stopped by itself (or was powered off), saying how.</summary>
    Task<MachineExit> Exited { get; }

    /// <summary>Powers the machine off; idempotent, never throws for a machine that is already off.</summary>
    Task PowerOffAsync();
}

/// <summary>What to boot: paths on the agent's disk, relative paths already resolved.</summary>
/// <param name="Image">The kernel image (multiboot ELF or bzImage), or the disk image for the disk methods.</param>
/// <param name="Modules">Multiboot modules in order (initfs); for a Linux bzImage the first is the initrd.</param>
/// <param name="Cmdline">The kernel command line.</param>
/// <param name="Method">How the machine starts <paramref name="Image"/>.</param>
public sealed record BootMedia(string Image, IReadOnlyList<string> Modules, string Cmdline, BootMethod Method = BootMethod.Kernel)
{
    /// <summary><see cref="Image"/> is a whole bootable disk image (PCs: iPXE <c>sanboot</c> over HTTP), not a kernel.</summary>
    public bool IsDiskImage => Method != BootMethod.Kernel;
}

/// <summary>How a machine stopped by itself.</summary>
/// <param name="Code">A driver-specific exit code (QEMU: the process status), when there is one.</param>
/// <param name="Description">For the boot report's detail, e.g. <c>qemu exited: isa-debug-exit 1 (status 3)</c>.</param>
/// <param name="Stop">Why, when the driver knows (QEMU: from QMP): a guest power-off, reset or panic.</param>
public sealed record MachineExit(int? Code, string Description, BootStop Stop = BootStop.Exited);

/// <summary>
/// Creates machines of one driver kind from configuration; register one per kind (qemu, pxe...) and
/// <see cref="MachinePool"/> picks by <see cref="MachineOptions.Driver"/>.
/// </summary>
public interface IMachineDriver
{
    /// <summary>The <see cref="MachineOptions.Driver"/> value this driver handles.</summary>
    string Kind { get; }

    IMachine Create(MachineOptions options);
}

/// <summary>The lab failed, not the kernel: the job ends as infra-error (and the server retries it).</summary>
public sealed class LabInfraException(string message, Exception? inner = null) : Exception(message, inner);
