using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Tests.Pipelines;

/// <summary>The fields for kernels other than the reference one: console adapters, end lines, boot methods, silence, machine type.</summary>
public class PipelineLoaderBootTests
{
    private const string Head = "name: t\nbuild: { commands: [make], artifacts: { image: disk.img } }\n";

    [Fact]
    public void Load_RedoxOsExample_DiskUefiQ35RedoxAdapterSilence()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Pipelines", "redox-os.yaml");
        var p = PipelineLoader.Load(File.ReadAllText(path), "redox-os.yaml");

        Assert.Equal(BootMethod.DiskUefi, p.Boot.Method);
        Assert.Equal("q35", p.Boot.Machine.Type);
        Assert.Equal(TimeSpan.FromSeconds(90), p.Boot.Silence);
        Assert.Equal("redox", p.Console.Kernel);
        Assert.Equal(["start", "freelist", "bsp", "userspace", "login"], p.Stages.Select(s => s.Name));
    }

    [Fact]
    public void Load_Defaults_KernelMethodLabAdapterNoSilencePc()
    {
        var p = PipelineLoader.Load(Head);

        Assert.Equal((BootMethod.Kernel, (TimeSpan?)null, "pc"), (p.Boot.Method, p.Boot.Silence, p.Boot.Machine.Type));
        Assert.Equal("lab", p.Console.Kernel);
        Assert.Empty(p.Console.EndLines);
    }

    [Fact]
    public void Load_EndLines_RegexesWithOutcomes()
    {
        var p = PipelineLoader.Load(Head + """
            console:
              kernel: linux
              end:
                - { regex: '^HALT$', outcome: test-failed }
                - { regex: 'reboot: Power down', outcome: passed }
            """);

        Assert.Equal([new EndLineSpec("^HALT$", Outcome.TestFailed), new EndLineSpec("reboot: Power down", Outcome.Passed)], p.Console.EndLines);
    }

    [Theory]
    [InlineData("console: { kernel: windows }", "console.kernel", "'windows' is not a console adapter (lab, redox, linux)")]
    [InlineData("console: { end: [{ regex: 'x', outcome: garbage }] }", "console.end[0].outcome", "'garbage' is not an end outcome")]
    [InlineData("console: { end: [{ outcome: passed }] }", "console.end[0].regex", "is required")]
    [InlineData("boot: { method: pxe }", "boot.method", "'pxe' is not a boot method (kernel, disk, disk-uefi)")]
    [InlineData("boot: { method: disk, cmdline: quiet }", "boot.cmdline", "a disk image boots with its own bootloader")]
    [InlineData("boot: { silence: forever }", "boot.silence", "is not a duration")]
    [InlineData("boot: { machine: { type: isapc } }", "boot.machine.type", "'isapc' is not a machine type (pc, q35)")]
    public void Load_BadBootOrConsoleField_NamesTheField(string yaml, string field, string problem)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(Head + yaml));

        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void Load_DiskMethodWithModules_NamesTheModulesField()
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(
            "name: t\nbuild: { commands: [make], artifacts: { image: d.img, modules: [initfs] } }\nboot: { method: disk-uefi }\n"));

        Assert.Equal("build.artifacts.modules", e.Field);
    }

    [Fact]
    public void Load_VariantOverridesMachineType()
    {
        var p = PipelineLoader.Load(Head + "variants:\n  - { name: q, machine: { type: q35 } }\n  - { name: p }\n");

        Assert.Equal(["q35", "pc"], p.Variants.Select(v => v.Machine.Type));
    }
}
