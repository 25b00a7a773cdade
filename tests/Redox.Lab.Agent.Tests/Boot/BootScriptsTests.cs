using System.Net.NetworkInformation;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Boot;

public sealed class BootScriptsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-scripts-").FullName;
    private readonly BootDeliveries _deliveries = new(new FakeTimeProvider());

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ipxe_KernelWithModules_KernelInitrdBootUnderToken()
    {
        var d = _deliveries.Prepare(Pc(), new BootMedia(File("k", Multiboot1()), [File("m0", [1]), File("m1", [2])], "a=1 b=2"), "job 1");

        var script = BootScripts.Ipxe(d, "http://10.0.0.1:8069");

        Assert.StartsWith("#!ipxe\n", script, StringComparison.Ordinal);
        var files = $"http://10.0.0.1:8069/files/52:54:00:13:00:01/{d.Token}";
        Assert.Contains($"kernel {files}/kernel a=1 b=2 || goto failed\n", script, StringComparison.Ordinal);
        Assert.Contains($"initrd {files}/module0 || goto failed\n", script, StringComparison.Ordinal);
        Assert.Contains($"initrd {files}/module1 || goto failed\n", script, StringComparison.Ordinal);
        Assert.Contains($"imgfetch http://10.0.0.1:8069/failed/52:54:00:13:00:01/{d.Token}?step=${{step}}", script, StringComparison.Ordinal);
        Assert.Equal(32, d.Token.Length);
    }

    [Fact]
    public void Ipxe_CmdlineWithNewline_CannotAddCommands()
    {
        var d = _deliveries.Prepare(Pc(), new BootMedia(File("k", Multiboot1()), [], "quiet\nshell"), "job");

        Assert.DoesNotContain("\nshell", BootScripts.Ipxe(d, "http://h:1"), StringComparison.Ordinal);
    }

    [Fact]
    public void Ipxe_DiskImage_Sanboot()
    {
        var d = _deliveries.Prepare(Pc(), new BootMedia(File("disk", [0]), [], "", BootMethod.Disk), "job");

        Assert.Contains($"sanboot --no-describe http://h:1/files/52:54:00:13:00:01/{d.Token}/disk.img || goto failed", BootScripts.Ipxe(d, "http://h:1"), StringComparison.Ordinal);
    }

    [Fact]
    public void Grub_ByKernelHeader_MultibootOrLinux()
    {
        var mb = _deliveries.Prepare(Pc(), new BootMedia(File("k", Multiboot1()), [File("m0", [1])], "x"), "job");
        Assert.Contains($"multiboot (http,h:1)/files/52:54:00:13:00:01/{mb.Token}/kernel x\n", BootScripts.Grub(mb, "http://h:1", "m"), StringComparison.Ordinal);
        Assert.Contains("module (http,h:1)", BootScripts.Grub(mb, "http://h:1", "m"), StringComparison.Ordinal);

        var linux = new byte[0x300];
        "HdrS"u8.CopyTo(linux.AsSpan(0x202));
        var lx = _deliveries.Prepare(Pc(), new BootMedia(File("bz", linux), [File("i", [1])], "console=ttyS0"), "job");
        Assert.Contains("linux (http,h:1)", BootScripts.Grub(lx, "http://h:1", "m"), StringComparison.Ordinal);
        Assert.Contains("initrd (http,h:1)", BootScripts.Grub(lx, "http://h:1", "m"), StringComparison.Ordinal);

        Assert.Contains("no job", BootScripts.Grub(null, "http://h:1", "m"), StringComparison.Ordinal);
    }

    [Fact]
    public void Deliveries_FilesOnlyUnderCurrentToken_DeliveredWhenAllFetched()
    {
        var d = _deliveries.Prepare(Pc(), new BootMedia(File("k", [1]), [File("m0", [2])], ""), "job");

        Assert.Null(_deliveries.FileFetched("52:54:00:13:00:01", new string('0', 32), "kernel"));
        Assert.Null(_deliveries.FileFetched("52:54:00:13:00:02", d.Token, "kernel"));
        Assert.Null(_deliveries.FileFetched("52:54:00:13:00:01", d.Token, "../../etc/passwd"));
        Assert.NotNull(_deliveries.ScriptFetched("52-54-00-13-00-01"));
        Assert.NotNull(_deliveries.FileFetched("52:54:00:13:00:01", d.Token, "kernel"));
        Assert.False(d.Delivered.IsCompleted);
        Assert.Equal(["module0"], d.Missing);
        Assert.NotNull(_deliveries.FileFetched("52:54:00:13:00:01", d.Token, "module0"));
        Assert.True(d.Delivered.IsCompleted);

        _deliveries.Clear(d);
        Assert.Null(_deliveries.ScriptFetched("52:54:00:13:00:01"));
        Assert.Null(_deliveries.FileFetched("52:54:00:13:00:01", d.Token, "kernel"));
    }

    [Fact]
    public void KernelFormat_Headers_Detected()
    {
        Assert.Equal(KernelKind.Multiboot, KernelFormat.Detect(Multiboot1()));
        var mb2 = new byte[64];
        BitConverter.GetBytes(0xE85250D6u).CopyTo(mb2, 8);
        BitConverter.GetBytes(0u).CopyTo(mb2, 12);
        BitConverter.GetBytes(24u).CopyTo(mb2, 16);
        BitConverter.GetBytes(unchecked(0u - 0xE85250D6u - 24u)).CopyTo(mb2, 20);
        Assert.Equal(KernelKind.Multiboot2, KernelFormat.Detect(mb2));
        Assert.Equal(KernelKind.Unknown, KernelFormat.Detect(new byte[4096]));
    }

    private static byte[] Multiboot1()
    {
        var b = new byte[64];
        BitConverter.GetBytes(0x1BADB002u).CopyTo(b, 16);
        BitConverter.GetBytes(0u).CopyTo(b, 20);
        BitConverter.GetBytes(unchecked(0u - 0x1BADB002u)).CopyTo(b, 24);
        return b;
    }

    private string File(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    private static PcSpec Pc() => new("pc-1", [], 1, 1024, PhysicalAddress.Parse("52-54-00-13-00-01"),
        new PcBootSpec(PcBootMethod.Ipxe, TimeSpan.FromSeconds(60), 1), new SerialConsoleSpec("/dev/null", 115200, SerialFraming.Default), new ManualPowerSpec(), new Dictionary<string, string>());
}
