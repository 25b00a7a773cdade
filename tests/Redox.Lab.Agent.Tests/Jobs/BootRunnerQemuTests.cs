using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Agent.Tests.Machines.Qemu;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Jobs;

/// <summary>Integration tests: one boot through the real QEMU driver, the real console parser and a fake server.</summary>
public sealed class BootRunnerQemuTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-boot-").FullName;
    private readonly AgentHarness _agent = new(TimeProvider.System);
    private readonly QemuMachine _machine = new(new MachineOptions { Name = "qemu-0" }, NullLogger<QemuMachine>.Instance);
    private readonly Guid _job = Guid.NewGuid();

    public void Dispose()
    {
        _machine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _agent.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task RunAsync_TestKernelPrintsMarkersAndExits_PassedWithStages()
    {
        var text = string.Join('\n', Markers.PassingBoot) + "\n";
        var image = TestKernel.Build(_dir, text, exitValue: 0);
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "60s"));

        var (report, log) = await Boot(pipeline, image);

        Assert.Equal(Outcome.Passed, report.Outcome);
        Assert.Equal(["entry", "kmain-done"], report.Stages.Select(s => s.Name));
        Assert.Equal(Markers.PassingBoot, log.Select(l => l.Text));
        Assert.All(log, l => Assert.Equal(0, l.Boot));
        Assert.Empty(_machine.RunningProcessIds);
    }

    [Fact]
    public async Task RunAsync_QemuNeverExits_KilledAtBootTimeout()
    {
        var image = TestKernel.Build(_dir, Markers.Stage("entry") + "\nhanging now\n", exitValue: null);
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "3s"));
        var pids = new List<int>();
        var watcher = Task.Run(async () =>
        {
            while (pids.Count == 0)
            {
                pids.AddRange(_machine.RunningProcessIds);
                await Task.Delay(10);
            }
        });

        var (report, log) = await Boot(pipeline, image);
        await watcher.WaitAsync(Wait);

        Assert.Equal(Outcome.BootTimeout, report.Outcome);
        Assert.Contains("boot timeout", report.Detail, StringComparison.Ordinal);
        Assert.Equal([Markers.Stage("entry"), "hanging now"], log.Select(l => l.Text));
        Assert.Empty(_machine.RunningProcessIds);
        Assert.False(QemuMachineTests.IsRunning(Assert.Single(pids)));
    }

    [Fact]
    public async Task RunAsync_KernelFallsSilent_EndsAtBootSilenceNotTheTimeout()
    {
        var image = TestKernel.Build(_dir, Markers.Stage("entry") + "\nhanging now\n", exitValue: null);
        var yaml = Pipelines.Yaml(bootTimeout: "10m").Replace("  timeout: 10m\n", "  timeout: 10m\n  silence: 15s\n", StringComparison.Ordinal);
        var pipeline = PipelineLoader.Load(yaml);
        Assert.Equal(TimeSpan.FromSeconds(15), pipeline.Boot.Silence);

        var (report, _) = await Boot(pipeline, image);

        Assert.Equal(Outcome.BootTimeout, report.Outcome);
        Assert.Contains("last stage entry", report.Detail, StringComparison.Ordinal);
        Assert.Contains("the console was silent for 00:00:15 (boot.silence)", report.Detail, StringComparison.Ordinal);
        Assert.Empty(_machine.RunningProcessIds);
    }

    [Fact]
    public async Task RunAsync_KernelPowersOffWithoutEndMarker_PassedNotTimeout()
    {
        var image = TestKernel.Build(_dir, Markers.Stage("entry") + "\n" + Markers.Stage("kmain-done") + "\n", exitValue: null, TestKernel.Ending.PowerOff);
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "10m"));

        var (report, _) = await Boot(pipeline, image);

        Assert.True(report.Outcome == Outcome.Passed, $"{report.Outcome}: {report.Detail}");
        Assert.StartsWith("the machine powered off cleanly after stage kmain-done", report.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_KernelTripleFaults_MachineResetWithLastStage()
    {
        var image = TestKernel.Build(_dir, Markers.Stage("entry") + "\n", exitValue: null, TestKernel.Ending.TripleFault);
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "10m"));

        var (report, _) = await Boot(pipeline, image);

        Assert.Equal(Outcome.MachineReset, report.Outcome);
        Assert.Contains("last stage entry", report.Detail, StringComparison.Ordinal);
        Assert.Contains("stages not reached: kmain-done", report.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_KernelFiresPvpanicWithoutMarkers_KernelPanicFromQmp()
    {
        var image = TestKernel.Build(_dir, Markers.Stage("entry") + "\n", exitValue: null, TestKernel.Ending.PvPanic);
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "10m"));

        var (report, _) = await Boot(pipeline, image);

        Assert.True(report.Outcome == Outcome.KernelPanic, $"{report.Outcome}: {report.Detail}");
        Assert.Contains("the guest's panic device fired; last stage entry", report.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TestKernelPrintsNothingAndHalts_NoOutput()
    {
        var image = TestKernel.Build(_dir, "", exitValue: null);
        var pipeline = PipelineLoader.Load(Pipelines.Yaml(bootTimeout: "2s"));

        var (report, log) = await Boot(pipeline, image);

        Assert.Equal(Outcome.NoOutput, report.Outcome);
        Assert.Empty(log);
    }

    [Fact]
    public async Task RunAsync_ReferenceKernel_PassedWithItsStagesInOrder()
    {
        var build = Path.Combine(_dir, "kernel-build");
        await Run("make", "-C", Path.Combine(RepoRoot(), "kernel"), $"BUILD={build}");
        var pipeline = PipelineLoader.Load(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Pipelines", "redox-reference.yaml")));

        var (report, log) = await Boot(pipeline, Path.Combine(build, "kernel.bin"));

        Assert.True(report.Outcome == Outcome.Passed, $"{report.Outcome}: {report.Detail}\n{string.Join('\n', log.Select(l => l.Text))}");
        // The brief's stages, in boot order; the pipeline may name more between them (mm).
        string[] expected = ["entry", "long-mode", "serial", "tsc", "kmain-done"];
        Assert.Equal(expected, report.Stages.Select(s => s.Name).Where(expected.Contains));
        Assert.NotNull(report.TscHz);
        Assert.All(report.Stages, s => Assert.NotNull(s.KernelNs));
        Assert.Equal(0, report.CorruptMarkers);
    }

    private async Task<(BootReport Report, List<ConsoleLine> Log)> Boot(PipelineDefinition pipeline, string image)
    {
        await using var console = new ConsoleUploader(_agent.Client, _job, TimeProvider.System, NullLogger.Instance);
        var report = await _agent.Boots
            .RunAsync(0, pipeline, pipeline.Boot.Machine, new BootMedia(image, [], pipeline.Boot.Cmdline), _machine, console, CancellationToken.None)
            .WaitAsync(Wait);
        await console.FlushAsync(CancellationToken.None).WaitAsync(Wait);
        return (report, _agent.Server.ConsoleOf(_job));
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Redox.Lab.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Redox.Lab.sln not found above the test binaries");
    }

    private static async Task Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}):\n{await output}\n{await error}");
    }
}
