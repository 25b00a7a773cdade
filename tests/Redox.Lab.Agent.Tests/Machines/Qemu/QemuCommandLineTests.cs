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
}
