using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>The QEMU command line for one boot.</summary>
public static class QemuCommandLine
{
    /// <summary>The I/O port of the <c>isa-debug-exit</c> device: a byte <c>v</c> written there ends QEMU with status <c>(v &lt;&lt; 1) | 1</c>.</summary>
    public const int DebugExitPort = 0xf4;

    private static ReadOnlySpan<byte> Qcow2Magic => [0x51, 0x46, 0x49, 0xfb];

    /// <param name="machine">The machine's configuration.</param>
    /// <param name="media">What to boot and how.</param>
    /// <param name="requirements">The pipeline's machine: size and chipset.</param>
    /// <param name="qmpSocket">A unix socket path for QMP; when given, QEMU starts paused (<c>-S</c>) until the agent connects.</param>
    /// <param name="uefiVars">The per-boot copy of the UEFI variable store (required for <see cref="BootMethod.DiskUefi"/>).</param>
    public static IReadOnlyList<string> Build(MachineOptions machine, BootMedia media, MachineRequirements requirements, string? qmpSocket = null, string? uefiVars = null)
    {
        var args = new List<string> { "-machine", requirements.Type == "q35" ? "q35" : "pc" };
        switch (media.Method)
        {
            case BootMethod.Kernel:
                // QEMU's multiboot loader splits -initrd at commas; a path holding one would silently become two modules.
                if (media.Modules.FirstOrDefault(m => m.Contains(',', StringComparison.Ordinal)) is { } bad)
                    throw new LabInfraException($"multiboot module path '{bad}' contains a comma, which QEMU's -initrd cannot express");
                args.AddRange(["-kernel", media.Image]);
                if (media.Modules.Count > 0)
                    args.AddRange(["-initrd", string.Join(',', media.Modules)]);
                if (!string.IsNullOrEmpty(media.Cmdline))
                    args.AddRange(["-append", media.Cmdline]);
                break;
            case BootMethod.Disk or BootMethod.DiskUefi:
                if (media.Method == BootMethod.DiskUefi)
                {
                    if (uefiVars is null)
                        throw new LabInfraException("a disk-uefi boot needs a copy of the UEFI variable store");
                    args.AddRange(["-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={DriveValue(machine.OvmfCode)}"]);
                    args.AddRange(["-drive", $"if=pflash,format=raw,unit=1,file={DriveValue(uefiVars)}"]);
                }

                // The first disk, opened as a snapshot: writes go to a temporary file, never to the artifact.
                args.AddRange(["-drive", $"file={DriveValue(media.Image)},format={DiskFormat(media.Image)},index=0,media=disk,snapshot=on"]);
                break;
        }

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
        // A kernel with a pvpanic driver reports its panic to the machine: QMP's GUEST_PANICKED, then a shutdown.
        args.AddRange(["-device", "pvpanic", "-action", "panic=shutdown"]);
        if (qmpSocket is not null)
            args.AddRange(["-qmp", $"unix:{qmpSocket},server=on,wait=off", "-S"]);
        args.AddRange(machine.ExtraArgs);
        return args;
    }

    /// <summary><c>qcow2</c> for a QEMU image (magic <c>QFI 0xfb</c>), else <c>raw</c>: stated, never probed (QEMU restricts probed raw images).</summary>
    public static string DiskFormat(string path)
    {
        if (!File.Exists(path))
            return "raw"; // QEMU itself then says the image is missing, in the boot's detail
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            return file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual(Qcow2Magic) ? "qcow2" : "raw";
        }
        catch (IOException e)
        {
            throw new LabInfraException($"cannot read the disk image {path}: {e.Message}", e);
        }
    }

    /// <summary>A value inside <c>-drive</c>'s comma-separated list: QEMU escapes a comma by doubling it.</summary>
    private static string DriveValue(string path) => path.Replace(",", ",,", StringComparison.Ordinal);

}
