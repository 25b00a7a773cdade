using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Machines.Qemu;

public sealed class QemuCommandLineTests
{
    private static readonly MachineRequirements Requirements = new(["qemu"], 4, 512);

    [Fact]
    public void Build_ImageOnly_KernelSizedByRequirementsWithSerialOnStdio()
    {
        var args = QemuCommandLine.Build(new MachineOptions { Cpus = 1, MemoryMiB = 256 }, new BootMedia("/b/kernel.bin", [], ""), Requirements);

        Assert.Equal("/b/kernel.bin", After(args, "-kernel"));
        Assert.Equal("512", After(args, "-m"));
        Assert.Equal("4", After(args, "-smp"));
        Assert.Equal("stdio", After(args, "-serial"));
        Assert.Equal("none", After(args, "-display"));
        Assert.Equal("none", After(args, "-monitor"));
        Assert.Equal("tcg", After(args, "-accel"));
        Assert.Equal("max", After(args, "-cpu"));
        Assert.Equal("isa-debug-exit,iobase=0xf4,iosize=0x04", After(args, "-device"));
        Assert.Contains("-no-reboot", args);
        Assert.DoesNotContain("-initrd", args);
        Assert.DoesNotContain("-append", args);
    }

    [Fact]
    public void Build_ModulesAndCmdline_InitrdCommaJoinedAndAppend()
    {
        var args = QemuCommandLine.Build(new MachineOptions(), new BootMedia("/k", ["/b/initfs", "/b/tests"], "console=ttyS0 debug"), Requirements);

        Assert.Equal("/b/initfs,/b/tests", After(args, "-initrd"));
        Assert.Equal("console=ttyS0 debug", After(args, "-append"));
    }

    [Fact]
    public void Build_ModulePathWithComma_Refused()
    {
        Assert.Throws<LabInfraException>(() => QemuCommandLine.Build(new MachineOptions(), new BootMedia("/k", ["/b/a,b"], ""), Requirements));
    }

    [Fact]
    public void Build_AccelConfigured_UsesIt()
    {
        var args = QemuCommandLine.Build(new MachineOptions { QemuAccel = "kvm" }, new BootMedia("/k", [], ""), Requirements);

        Assert.Equal("kvm", After(args, "-accel"));
    }

    [Fact]
    public void Build_ExtraArgs_AppendedLast()
    {
        var args = QemuCommandLine.Build(new MachineOptions { ExtraArgs = ["-d", "int"] }, new BootMedia("/k", [], ""), Requirements);

        Assert.Equal(["-d", "int"], args.TakeLast(2));
    }

    private static string After(IReadOnlyList<string> args, string flag) => args[args.ToList().IndexOf(flag) + 1];

    [Fact]
    public void Build_DiskMethod_FirstDiskAsSnapshotNoKernel()
    {
        var args = QemuCommandLine.Build(new MachineOptions(), new BootMedia("/nonexistent/disk,1.img", [], "", BootMethod.Disk), Requirements);

        Assert.Equal("file=/nonexistent/disk,,1.img,format=raw,index=0,media=disk,snapshot=on", After(args, "-drive"));
        Assert.DoesNotContain("-kernel", args);
        Assert.DoesNotContain("-append", args);
        Assert.Equal("pc", After(args, "-machine"));
    }

    [Fact]
    public void Build_DiskUefiOnQ35_OvmfCodeReadOnlyVarsCopyThenDisk()
    {
        var options = new MachineOptions { OvmfCode = "/fw/CODE.fd" };
        var args = QemuCommandLine.Build(options, new BootMedia("/d.img", [], "", BootMethod.DiskUefi), Requirements with { Type = "q35" }, "/tmp/q/qmp.sock", "/tmp/q/VARS.fd");

        var drives = args.Select((a, i) => (a, i)).Where(x => x.a == "-drive").Select(x => args[x.i + 1]).ToList();
        Assert.Equal(
            [
                "if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd",
                "if=pflash,format=raw,unit=1,file=/tmp/q/VARS.fd",
                "file=/d.img,format=raw,index=0,media=disk,snapshot=on",
            ],
            drives);
        Assert.Equal("q35", After(args, "-machine"));
        Assert.Equal("unix:/tmp/q/qmp.sock,server=on,wait=off", After(args, "-qmp"));
        Assert.Contains("-S", args);
    }

    [Fact]
    public void Build_DiskUefiWithoutVarsCopy_Refused()
    {
        Assert.Throws<LabInfraException>(() => QemuCommandLine.Build(new MachineOptions(), new BootMedia("/d.img", [], "", BootMethod.DiskUefi), Requirements));
    }

    [Fact]
    public void DiskFormat_Qcow2MagicOrNot_Qcow2ElseRaw()
    {
        var dir = Directory.CreateTempSubdirectory("disk-format-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "a.qcow2"), [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
            File.WriteAllBytes(Path.Combine(dir, "b.img"), new byte[512]);

            Assert.Equal("qcow2", QemuCommandLine.DiskFormat(Path.Combine(dir, "a.qcow2")));
            Assert.Equal("raw", QemuCommandLine.DiskFormat(Path.Combine(dir, "b.img")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
