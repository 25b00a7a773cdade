using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// The lab stays kernel-agnostic: a kernel that prints nothing but its own log (here Redox's real
/// log format, see Assets/redox-log-kernel.S) is still measured and judged, by the pipeline's regexes.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ForeignKernelTests(LabFixture lab)
{
    private static string Build(string asFlags) =>
        $"as --32 {asFlags} -o foreign/k.o foreign/k.S && ld -m elf_i386 -Ttext 0x100000 -e start -o foreign/k.elf foreign/k.o";

    private const string Judging = """
        boot: { timeout: 30s }
        console:
          panic: ['KERNEL PANIC: ']
          success: 'login:'
        stages:
          - { name: start, regex: 'Redox OS starting' }
          - { name: freelist, regex: 'Initial freelist consistent' }
          - { name: bsp, regex: 'BSP: ' }
          - { name: userspace, regex: 'Bootstrap entry point: ([0-9a-f]+)' }
          - { name: login, regex: 'login:' }
        """;

    [Fact]
    public async Task Push_RedoxLogOnlyKernel_RegexStagesWithHostTimesAndPassed()
    {
        var run = await PushForeignAsync("redox-log", "cp foreign/redox-log-kernel.S foreign/k.S");

        Assert.True(run.Outcome == Outcome.Passed, $"{run.Outcome}: {run.Jobs[0].Detail}\n{lab.Diagnostics()}");
        var boot = Assert.Single(run.Jobs[0].Boots);
        Assert.Equal(["start", "freelist", "bsp", "userspace", "login"], boot.Stages.Select(s => s.Name));
        Assert.All(boot.Stages, s => Assert.Null(s.KernelNs));
        Assert.All(boot.Stages, s => Assert.Equal("regex", s.Source));
        var hostTimes = boot.Stages.Select(s => s.HostNs).ToList();
        Assert.Equal(hostTimes.Order(), hostTimes);
        Assert.True(hostTimes[0] > 0);
        await CaseReport.WriteAsync(lab, "redox-log", run);
    }

    [Fact]
    public async Task Push_RedoxLogKernelPanics_KernelPanicFromRegex()
    {
        var run = await PushForeignAsync("redox-log-panic",
            "sed 's/redox login: /KERNEL PANIC: failed to allocate frame/' foreign/redox-log-kernel.S > foreign/k.S");

        Assert.Equal(Outcome.KernelPanic, run.Outcome);
        Assert.Equal(["start", "freelist", "bsp", "userspace"], run.Jobs[0].Boots.Single().Stages.Select(s => s.Name));
        await CaseReport.WriteAsync(lab, "redox-log-panic", run);
    }

    [Fact]
    public async Task Push_KernelPrintsRandomBytes_GarbageWithConsoleKept()
    {
        // Random bytes without NUL (the stand-in kernel prints up to a NUL). Two backslashes: the
        // pipeline's double-quoted YAML string unescapes one, the shell's tr gets '\000'.
        var run = await PushForeignAsync("garbage",
            """ head -c 3000 /dev/urandom | tr -d '\\000' > foreign/garbage.bin && cp foreign/redox-log-kernel.S foreign/k.S """.Trim(),
            "--defsym GARBAGE=1");

        Assert.True(run.Outcome == Outcome.Garbage, $"{run.Outcome}: {run.Jobs[0].Detail}\n{lab.Diagnostics()}");
        Assert.Equal(OutcomeKind.Kernel, run.Outcome.Kind());
        Assert.Contains(await lab.GetConsoleAsync(run.Jobs[0].Id), l => l.Boot == 0);
        await CaseReport.WriteAsync(lab, "garbage", run);
    }

    private async Task<RunView> PushForeignAsync(string name, string prepare, string asFlags = "")
    {
        var asset = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Assets", "redox-log-kernel.S"));
        lab.Commit("foreign/redox-log-kernel.S", asset, "a kernel that prints only its own log");
        var commit = lab.Commit($"pipelines/{name}.yaml", $$"""
            name: {{name}}
            build:
              commands: ["{{prepare}} && {{Build(asFlags)}}"]
              artifacts: { image: foreign/k.elf }
            {{Judging}}
            """, $"pipeline {name}");

        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: $"pipelines/{name}.yaml"));
        return await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(3));
    }
}
