using System.Diagnostics;
using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// Kernels other than the lab's own, as they really print and boot (issue 11): Debian's stock Linux
/// with a busybox-static initramfs, every generation of the real Redox kernel's console replayed
/// under QEMU, and the reference kernel booted from a GRUB disk image by BIOS and by UEFI.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class AnyKernelTests(LabFixture lab)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task PushLinux_PowersOff_PassedByItsEndLineWithPrintkTimesOnStages()
    {
        var run = await PushLinuxAsync("linux-pass", "console=ttyS0 panic=-1", """
            stages:
              - { name: start, marker: start }
              - { name: init, regex: 'Run /init as init process' }
              - { name: userspace, regex: '^lab: userspace up' }
            """);

        var job = Assert.Single(run.Jobs);
        Assert.True(run.Outcome == Outcome.Passed, $"{run.Outcome}: {job.Detail}\n{lab.Diagnostics()}");
        var boot = Assert.Single(job.Boots);
        Assert.Contains("reboot: Power down", boot.Detail, StringComparison.Ordinal);
        Assert.Equal(["start", "init", "userspace"], boot.Stages.Select(s => s.Name));
        Assert.Equal(0L, boot.Stages[0].KernelNs);
        Assert.True(boot.Stages[1].KernelNs > 0, "the init stage has the kernel's printk time");
        Assert.Null(boot.Stages[2].KernelNs); // printed by userspace
        Assert.Empty(boot.Findings);
        await CaseReport.WriteAsync(lab, "linux-pass", run);
    }

    [Fact]
    public async Task PushLinux_PowersOffWithoutAdapterOrEndLine_PassedFromTheMachinesPowerOff()
    {
        var run = await PushLinuxAsync("linux-poweroff", "console=ttyS0 panic=-1 quiet", "", kernel: "lab");

        var boot = Assert.Single(Assert.Single(run.Jobs).Boots);
        Assert.True(run.Outcome == Outcome.Passed, $"{run.Outcome}: {boot.Detail}\n{lab.Diagnostics()}");
        Assert.StartsWith("the machine powered off cleanly", boot.Detail, StringComparison.Ordinal);
        await CaseReport.WriteAsync(lab, "linux-poweroff", run);
    }

    [Fact]
    public async Task PushLinux_NoInit_KernelPanicWithCallTraceAsFinding()
    {
        var run = await PushLinuxAsync("linux-panic", "console=ttyS0 panic=-1 rdinit=/nonexistent", """
            stages:
              - { name: start, marker: start }
              - { name: userspace, regex: '^lab: userspace up' }
            """);

        var boot = Assert.Single(Assert.Single(run.Jobs).Boots);
        Assert.True(run.Outcome == Outcome.KernelPanic, $"{run.Outcome}: {boot.Detail}\n{lab.Diagnostics()}");
        Assert.Contains("panic: VFS: Unable to mount root fs", boot.Detail, StringComparison.Ordinal);
        Assert.Contains("last stage start", boot.Detail, StringComparison.Ordinal);
        Assert.Contains("stages not reached: userspace", boot.Detail, StringComparison.Ordinal);
        var finding = Assert.Single(boot.Findings);
        Assert.Equal("panic", finding.Kind);
        Assert.Contains("mount_block_root+0x", finding.Fields["bt.sym"], StringComparison.Ordinal);
        Assert.Contains("kernel_init+0x", finding.Fields["bt.sym"], StringComparison.Ordinal);

        // The run page shows the outcome's detail with the missing stage, the finding and its Call Trace.
        var page = await lab.Http.GetStringAsync($"/runs/{run.Id}");
        Assert.Contains("stages not reached: userspace", page, StringComparison.Ordinal);
        Assert.Contains("<pre class=\"bt\">dump_stack_lvl", page, StringComparison.Ordinal);
        await CaseReport.WriteAsync(lab, "linux-panic", run);
    }

    [Fact]
    public async Task PushLinux_SysrqCrash_FindingWithRipDecodedCodeAndTrace()
    {
        var run = await PushLinuxAsync("linux-crash", "console=ttyS0 panic=-1 lab.crash", "");

        var boot = Assert.Single(Assert.Single(run.Jobs).Boots);
        Assert.True(run.Outcome == Outcome.KernelPanic, $"{run.Outcome}: {boot.Detail}\n{lab.Diagnostics()}");
        var f = Assert.Single(boot.Findings).Fields;
        Assert.Equal("sysrq triggered crash", f["msg"]);
        Assert.Matches("^0x[0-9a-f]+$", f["rip"]);
        Assert.Contains("<", f["code"], StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(f["insn"]), "the Code: bytes' faulting instruction is decoded");
        Assert.Contains("sysrq_handle_crash+0x", f["bt.sym"], StringComparison.Ordinal);
        Assert.Contains("write_sysrq_trigger+0x", f["bt.sym"], StringComparison.Ordinal);
        var page = await lab.Http.GetStringAsync($"/runs/{run.Id}");
        Assert.Contains("<code>insn=", page, StringComparison.Ordinal);
        await CaseReport.WriteAsync(lab, "linux-sysrq-crash", run);
    }

    [Fact]
    public async Task PushRedoxReplays_EveryPanicGeneration_KernelPanicWithItsFindingWithoutRegexes()
    {
        var asset = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Assets", "replay-kernel.S"));
        lab.Commit("foreign/replay-kernel.S", asset, "console replay kernel");
        foreach (var log in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Assets", "redox")))
            lab.Commit($"foreign/redox/{Path.GetFileName(log)}", File.ReadAllText(log), "recorded Redox console");
        var commit = lab.Commit("pipelines/redox-replay.yaml", """
            name: redox-replay
            build:
              commands: ["cp foreign/redox/$LOG foreign/console.txt && as --32 -o foreign/k.o foreign/replay-kernel.S && ld -m elf_i386 -Ttext 0x100000 -e start -o foreign/k.elf foreign/k.o"]
              artifacts: { image: foreign/k.elf, elf: foreign/k.elf }
            boot: { timeout: 5m, silence: 30s }
            console: { kernel: redox }
            stages:
              - { name: start, marker: start }
              - { name: freelist, marker: freelist }
              - { name: userspace, marker: bootstrap }
            variants:
              - { name: y2017, env: { LOG: redox-2017-panic.log } }
              - { name: y2020, env: { LOG: redox-2020-panic.log } }
              - { name: y2024, env: { LOG: redox-2024-page-fault.log } }
            """, "pipeline redox-replay");

        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/redox-replay.yaml"));
        var run = await lab.WaitForRunAsync(pushed.RunId, RunTimeout);
        var jobs = run.Jobs.ToDictionary(j => j.Variant);

        Assert.All(run.Jobs, j => Assert.True(j.Outcome == Outcome.KernelPanic, $"{j.Variant} {j.Outcome}: {j.Detail}\n{lab.Diagnostics()}"));
        var y2017 = Assert.Single(Assert.Single(jobs["y2017"].Boots).Findings);
        Assert.Equal(("panic", "attempt to subtract with overflow", "src/scheme/memory.rs:58"), (y2017.Kind, y2017.Fields["msg"], y2017.Fields["file"]));
        Assert.Equal("0xffffffff80011f83,0xffffffff800277ee", y2017.Fields["bt"]);

        var y2020 = Assert.Single(Assert.Single(jobs["y2020"].Boots).Findings);
        Assert.Equal(("frame allocator out of memory", "ion"), (y2020.Fields["msg"], y2020.Fields["name"]));
        Assert.StartsWith("kernel::panic::panic_fmt,kernel::memory::allocate_frames", y2020.Fields["bt.sym"], StringComparison.Ordinal);

        var boot2024 = Assert.Single(jobs["y2024"].Boots);
        var y2024 = Assert.Single(boot2024.Findings);
        Assert.Equal(("page-fault", "kernel page fault", "0x0000000000000018"), (y2024.Kind, y2024.Fields["msg"], y2024.Fields["addr"]));
        Assert.Equal("0xffffffff8001c3e2", y2024.Fields["rip"]);
        Assert.Equal("0xffffffff80009a00,0xffffffff8001f210", y2024.Fields["bt.panic"]);
        Assert.Equal(["start", "freelist", "userspace"], boot2024.Stages.Select(s => s.Name));
        Assert.Contains("last stage userspace", boot2024.Detail, StringComparison.Ordinal);
        Assert.Contains("stages not reached: freelist, userspace", Assert.Single(jobs["y2017"].Boots).Detail, StringComparison.Ordinal);
        await CaseReport.WriteAsync(lab, "redox-replays", run);
    }

    [Theory]
    [InlineData("pipelines/redox-reference-disk.yaml")]
    [InlineData("pipelines/redox-reference-uefi.yaml")]
    public async Task PushReferenceDisk_BiosAndUefi_PassedWithEveryStage(string pipeline)
    {
        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Branch: "main", Pipeline: pipeline));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(10));

        var job = Assert.Single(run.Jobs);
        Assert.True(run.Outcome == Outcome.Passed, $"{run.Outcome}: {job.Detail}\n{lab.Diagnostics()}");
        Assert.Equal(["entry", "mm", "smp", "bootstrap", "kmain-done"], Assert.Single(job.Boots).Stages.Select(s => s.Name));
        await CaseReport.WriteAsync(lab, Path.GetFileNameWithoutExtension(pipeline), run);
    }

    /// <summary>Debian's stock kernel and a busybox-static initramfs, committed with a pipeline that boots them.</summary>
    private async Task<RunView> PushLinuxAsync(string name, string cmdline, string stages, string kernel = "linux")
    {
        var (vmlinuz, initramfs) = LinuxAssets.Get();
        var repoDir = Path.Combine(lab.TestRepo, "linux");
        Directory.CreateDirectory(repoDir);
        if (!File.Exists(Path.Combine(repoDir, "vmlinuz")))
        {
            File.Copy(vmlinuz, Path.Combine(repoDir, "vmlinuz"));
            File.Copy(initramfs, Path.Combine(repoDir, "initramfs.cpio.gz"));
        }

        var commit = lab.Commit($"pipelines/{name}.yaml", $$"""
            name: {{name}}
            build:
              commands: ["test -s linux/vmlinuz"]
              artifacts:
                image: linux/vmlinuz
                modules: [linux/initramfs.cpio.gz]   # for a bzImage, the first module is the initrd
            boot:
              timeout: 5m
              silence: 60s
              cmdline: "{{cmdline}}"
              machine: { memory: 256M }
            console:
              kernel: {{kernel}}
            {{stages}}
            """, $"pipeline {name}");
        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: $"pipelines/{name}.yaml"));
        return await lab.WaitForRunAsync(pushed.RunId, RunTimeout);
    }
}

/// <summary>
/// The Linux test assets, assembled once per kernel version and cached under the temp directory:
/// Debian's installed stock kernel (linux-image-amd64) and an initramfs of busybox-static whose
/// /init says it is up, crashes the kernel through sysrq when the command line says <c>lab.crash</c>,
/// and powers off.
/// </summary>
internal static class LinuxAssets
{
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox mkdir -p /proc
        /bin/busybox mount -t proc proc /proc
        echo "lab: userspace up"
        case "$(/bin/busybox cat /proc/cmdline)" in *lab.crash*) echo c > /proc/sysrq-trigger ;; esac
        /bin/busybox poweroff -f
        """;

    private static readonly Lazy<(string, string)> Assets = new(Assemble);

    public static (string Vmlinuz, string Initramfs) Get() => Assets.Value;

    private static (string, string) Assemble()
    {
        var kernel = Directory.GetFiles("/boot", "vmlinuz-*").Order(StringComparer.Ordinal).LastOrDefault()
            ?? throw new InvalidOperationException("no /boot/vmlinuz-*: scripts/install-deps.sh installs linux-image-amd64");
        var cache = Path.Combine(Path.GetTempPath(), "redox-lab-e2e-cache", Path.GetFileName(kernel));
        var vmlinuz = Path.Combine(cache, "vmlinuz");
        var initramfs = Path.Combine(cache, "initramfs.cpio.gz");
        if (File.Exists(initramfs) && File.Exists(vmlinuz))
            return (vmlinuz, initramfs);

        var root = Path.Combine(cache, "root");
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
        File.WriteAllText(Path.Combine(root, "init"), Init.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0b111_101_101);
        var partial = initramfs + ".partial";
        Sh($"cd '{root}' && find . | cpio -o -H newc --quiet | gzip -1 > '{partial}'");
        File.Copy(kernel, vmlinuz, overwrite: true);
        File.Move(partial, initramfs, overwrite: true);
        return (vmlinuz, initramfs);
    }

    private static void Sh(string script)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardError = true, ArgumentList = { "-c", script } };
        using var p = Process.Start(start)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"sh -c {script} failed: {error}");
    }
}
