using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>The QEMU command line for one boot.</summary>
public static class QemuCommandLine
{
    /// <summary>The I/O port of the <c>isa-debug-exit</c> device: a byte <c>v</c> written there ends QEMU with status <c>(v &lt;&lt; 1) | 1</c>.</summary>
    public const int DebugExitPort = 0xf4;

    public static IReadOnlyList<string> Build(MachineOptions machine, BootMedia media, MachineRequirements requirements)
    {
        // QEMU's multiboot loader splits -initrd at commas; a path holding one would silently become two modules.
        if (media.Modules.FirstOrDefault(m => m.Contains(',', StringComparison.Ordinal)) is { } bad)
            throw new LabInfraException($"multiboot module path '{bad}' contains a comma, which QEMU's -initrd cannot express");

        var args = new List<string> { "-kernel", media.Image };
        if (media.Modules.Count > 0)
            args.AddRange(["-initrd", string.Join(',', media.Modules)]);
        if (!string.IsNullOrEmpty(media.Cmdline))
            args.AddRange(["-append", media.Cmdline]);

        args.AddRange(["-m", Math.Max(1, requirements.MemoryMiB).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        args.AddRange(["-smp", Math.Max(1, requirements.Cpus).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        args.AddRange(["-cpu", machine.QemuCpu]);
        // TCG unless KVM is asked for: a /dev/kvm that exists may still not work (nested virtualisation
        // aborts QEMU on MSR writes), and TCG's timing is what the lab's baselines were measured with.
        args.AddRange(["-accel", string.IsNullOrWhiteSpace(machine.QemuAccel) ? "tcg" : machine.QemuAccel]);

        // stdout carries COM1 and nothing else: no display, no monitor, no parallel port, no NIC.
        args.AddRange(["-display", "none", "-monitor", "none", "-serial", "stdio", "-parallel", "none", "-nic", "none"]);
        // A triple fault must end the boot, not loop it; the kernel's own exit goes through isa-debug-exit.
        args.Add("-no-reboot");
        args.AddRange(["-device", $"isa-debug-exit,iobase=0x{DebugExitPort:x},iosize=0x04"]);
        args.AddRange(machine.ExtraArgs);
        return args;
    }

}
