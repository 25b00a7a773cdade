using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Jobs;

public sealed class JobRunnerTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TestRepo _repo = TestRepo.Create(new Dictionary<string, string> { ["README"] = "test kernel\n" });
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private AgentHarness? _agent;

    public void Dispose()
    {
        _agent?.Dispose();
        _repo.Dispose();
    }

    [Fact]
    public async Task RunAsync_KernelEndsWithPass_PassedWithReportAndConsole()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(Markers.PassingBoot);
            await s.ExitAsync(1, "qemu exited: isa-debug-exit wrote 0 (status 1)");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml());

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.Passed, completion.Outcome);
        Assert.Equal(completion, Server.Completions[job.JobId]);
        var report = Server.Boots[(job.JobId, 0)];
        Assert.Equal(Outcome.Passed, report.Outcome);
        Assert.Equal(["entry", "kmain-done"], report.Stages.Select(s => s.Name));
        var boot = Server.ConsoleOf(job.JobId).Where(l => l.Boot == 0).Select(l => l.Text);
        Assert.Equal(Markers.PassingBoot, boot);
        Assert.All(machine.Sessions, s => Assert.True(s.PoweredOff));
        Assert.Equal((2, 128), (machine.PowerOns[0].Requirements.Cpus, machine.PowerOns[0].Requirements.MemoryMiB));
        Assert.EndsWith("out/kernel.bin", machine.PowerOns[0].Media.Image, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_agent!.Options.WorkRoot, job.JobId.ToString("N"))));
    }

    [Fact]
    public async Task RunAsync_PipelineNamesElf_ElfUploadedBeforeFirstBoot()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(Markers.PassingBoot);
            await s.ExitAsync(1, "qemu exited");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml(
            build: "mkdir -p out && printf 'kernel' > out/kernel.bin && printf 'ELF-with-symbols' > out/kernel.elf", elf: "out/kernel.elf"));

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.Passed, completion.Outcome);
        Assert.Equal("ELF-with-symbols", Server.Artifacts[(job.JobId, "kernel.elf")]);
        var order = Server.Requests.Where(r => r.Contains("/artifacts/", StringComparison.Ordinal) || r.Contains("/boots/", StringComparison.Ordinal)).ToList();
        Assert.Contains("/artifacts/kernel.elf", order[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ElfOverServerLimit_BootsRunAndConsoleSaysWhy()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(Markers.PassingBoot);
            await s.ExitAsync(1, "qemu exited");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml(
            build: "mkdir -p out && printf 'kernel' > out/kernel.bin && printf 'huge' > out/kernel.elf", elf: "out/kernel.elf"));
        Machine(machine);
        Server.Fail("/artifacts/kernel.elf", 1, HttpStatusCode.RequestEntityTooLarge);

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.Passed, completion.Outcome);
        Assert.Contains(Server.Console[job.JobId], l => l.Boot == -1 && l.Text.StartsWith("lab: kernel.elf not stored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_BuildCommandFails_BuildFailedWithLogKept()
    {
        var machine = new ScriptedMachine(_ => Task.CompletedTask);
        var job = Pipelines.Job(_repo, Pipelines.Yaml(build: "echo compiling; echo 'error: boom' >&2; exit 2"));

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.BuildFailed, completion.Outcome);
        Assert.Contains("status 2", completion.Detail, StringComparison.Ordinal);
        Assert.Contains("error: boom", completion.Detail, StringComparison.Ordinal);
        var log = Server.ConsoleOf(job.JobId);
        Assert.All(log, l => Assert.Equal(-1, l.Boot));
        Assert.Equal(["compiling", "error: boom"], log.Select(l => l.Text).Order(StringComparer.Ordinal));
        Assert.Empty(machine.PowerOns);
    }

    [Fact]
    public async Task RunAsync_ImageNotProduced_BuildFailed()
    {
        var job = Pipelines.Job(_repo, Pipelines.Yaml(build: "echo built nothing", image: "out/missing.bin"));

        var completion = await Run(new ScriptedMachine(_ => Task.CompletedTask), job);

        Assert.Equal(Outcome.BuildFailed, completion.Outcome);
        Assert.Contains("out/missing.bin", completion.Detail, StringComparison.Ordinal);
        Assert.Equal("built nothing", Assert.Single(Server.ConsoleOf(job.JobId)).Text);
    }

    [Fact]
    public async Task RunAsync_KernelHangs_BootTimeoutWithConsoleKept()
    {
        var machine = new ScriptedMachine(s => s.WriteLinesAsync(Markers.Stage("entry"), "waiting for a device..."));
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "60s"));

        var completion = await RunAdvancing(machine, job, async () =>
        {
            var session = await machine.PoweredOn.Task.WaitAsync(Wait);
            await session.WaitReaderIdleAsync();
            _time.Advance(TimeSpan.FromSeconds(61));
        });

        Assert.Equal(Outcome.BootTimeout, completion.Outcome);
        Assert.Contains("boot timeout", completion.Detail, StringComparison.Ordinal);
        Assert.Equal(["entry"], Server.Boots[(job.JobId, 0)].Stages.Select(s => s.Name));
        Assert.Equal([Markers.Stage("entry"), "waiting for a device..."], Server.ConsoleOf(job.JobId).Select(l => l.Text));
        Assert.True(machine.Sessions[0].PoweredOff);
    }

    [Fact]
    public async Task RunAsync_MachinePrintsNothing_NoOutput()
    {
        var machine = new ScriptedMachine(_ => Task.CompletedTask);
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "30s"));

        var completion = await RunAdvancing(machine, job, async () =>
        {
            var session = await machine.PoweredOn.Task.WaitAsync(Wait);
            await session.WaitReaderIdleAsync();
            _time.Advance(TimeSpan.FromSeconds(31));
        });

        Assert.Equal(Outcome.NoOutput, completion.Outcome);
        Assert.Equal(Outcome.NoOutput, Server.Boots[(job.JobId, 0)].Outcome);
        Assert.True(machine.Sessions[0].PoweredOff);
    }

    [Fact]
    public async Task RunAsync_KernelPanics_KernelPanicWithBacktraceLinesKept()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(Markers.Stage("entry"), Markers.Panic("out of frames"), "  bt 0xffffffff80001234", Markers.End("panic"));
            await s.ExitAsync(3, "qemu exited: isa-debug-exit wrote 1 (status 3)");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml());

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.KernelPanic, completion.Outcome);
        Assert.Contains("out of frames", completion.Detail, StringComparison.Ordinal);
        Assert.Contains("  bt 0xffffffff80001234", Server.ConsoleOf(job.JobId).Select(l => l.Text));
    }

    [Fact]
    public async Task RunAsync_PanicRegexThenHang_KernelPanicAndMachineStopped()
    {
        var machine = new ScriptedMachine(s => s.WriteLinesAsync("KERNEL PANIC: double fault"));
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "60s"));

        var completion = await RunAdvancing(machine, job, async () =>
        {
            var session = await machine.PoweredOn.Task.WaitAsync(Wait);
            await session.WaitReaderIdleAsync();
            _time.Advance(TimeSpan.FromSeconds(2));
        });

        Assert.Equal(Outcome.KernelPanic, completion.Outcome);
        Assert.True(machine.Sessions[0].PoweredOff);
    }

    [Fact]
    public async Task RunAsync_MachineDiesMidBoot_BootTimeoutSayingHowItStopped()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(Markers.Stage("entry"), "enabling paging");
            await s.ExitAsync(0, "qemu exited with status 0 (the machine reset or shut down; -no-reboot)");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml());

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.BootTimeout, completion.Outcome);
        Assert.Contains("machine reset", Server.Boots[(job.JobId, 0)].Detail, StringComparison.Ordinal);
        Assert.Equal(2, Server.ConsoleOf(job.JobId).Count);
    }

    [Fact]
    public async Task RunAsync_PartialLastLineBeforeExit_KeptInLog()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteAsync("half a li");
            await s.ExitAsync(0, "reset");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml());

        await Run(machine, job);

        Assert.Equal("half a li", Assert.Single(Server.ConsoleOf(job.JobId)).Text);
    }

    [Fact]
    public async Task RunAsync_SecondOfTwoBootsPanics_WorstOutcomeAndBothReports()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(s.Index == 0 ? Markers.PassingBoot : [Markers.Stage("entry"), Markers.Panic("oops"), Markers.End("panic")]);
            await s.ExitAsync(1, "exit");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml(boots: 2));

        var completion = await Run(machine, job);

        Assert.Equal(Outcome.KernelPanic, completion.Outcome);
        Assert.StartsWith("boot 1: kernel-panic", completion.Detail, StringComparison.Ordinal);
        Assert.Equal(Outcome.Passed, Server.Boots[(job.JobId, 0)].Outcome);
        Assert.Equal(Outcome.KernelPanic, Server.Boots[(job.JobId, 1)].Outcome);
        Assert.Equal(2, machine.Sessions.Count);
        var log = Server.ConsoleOf(job.JobId);
        Assert.Equal(Markers.PassingBoot.Length + 3, log.Count);
        Assert.Equal([0, 1], log.Select(l => l.Boot).Distinct());
    }

    [Fact]
    public async Task RunAsync_HeartbeatSaysStop_CancelledAndMachinePoweredOff()
    {
        var machine = new ScriptedMachine(s => s.WriteLinesAsync("booting"));
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "60s"), leaseSeconds: 30);
        Machine(machine);
        Server.HeartbeatContinue = true;

        var run = _agent!.Jobs.RunAsync(job, machine, CancellationToken.None);
        var session = await machine.PoweredOn.Task.WaitAsync(Wait);
        await session.WaitReaderIdleAsync();
        Server.HeartbeatContinue = false;
        _time.Advance(TimeSpan.FromSeconds(10));
        var completion = await run.WaitAsync(Wait);

        Assert.Equal(Outcome.Cancelled, completion.Outcome);
        Assert.True(session.PoweredOff);
        Assert.Equal("booting", Assert.Single(Server.ConsoleOf(job.JobId)).Text);
        Assert.False(Server.Boots.ContainsKey((job.JobId, 0)));
    }

    [Fact]
    public async Task RunAsync_HeartbeatSaysCancel_CancelledSayingSoMachinePoweredOffConsoleSent()
    {
        var machine = new ScriptedMachine(s => s.WriteLinesAsync("booting"));
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "60s"), leaseSeconds: 30);
        Machine(machine);

        var run = _agent!.Jobs.RunAsync(job, machine, CancellationToken.None);
        var session = await machine.PoweredOn.Task.WaitAsync(Wait);
        await session.WaitReaderIdleAsync();
        Server.HeartbeatCancel = true;
        _time.Advance(TimeSpan.FromSeconds(10));
        var completion = await run.WaitAsync(Wait);

        Assert.Equal(new JobCompletion(Outcome.Cancelled, "cancelled during boot 0; the machine was powered off"), completion);
        Assert.True(session.PoweredOff);
        Assert.Equal(completion, Server.Completions[job.JobId]);
        Assert.Equal("booting", Assert.Single(Server.ConsoleOf(job.JobId)).Text);
    }

    [Fact]
    public async Task RunAsync_JobTimeoutDuringBoot_JobTimeoutWithConsoleKept()
    {
        var machine = new ScriptedMachine(s => s.WriteLinesAsync("booting"));
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "10m", jobTimeout: "2m"));

        var completion = await RunAdvancing(machine, job, async () =>
        {
            var session = await machine.PoweredOn.Task.WaitAsync(Wait);
            await session.WaitReaderIdleAsync();
            _time.Advance(TimeSpan.FromMinutes(2));
        });

        Assert.Equal(Outcome.JobTimeout, completion.Outcome);
        Assert.Contains("boot 0", completion.Detail, StringComparison.Ordinal);
        Assert.True(machine.Sessions[0].PoweredOff);
        Assert.Equal("booting", Assert.Single(Server.ConsoleOf(job.JobId)).Text);
    }

    [Fact]
    public async Task RunAsync_JobTimeoutDuringBuild_BuildKilledAndJobTimeout()
    {
        // The build's /tmp is private: it marks that it started in its checkout, which the test can see.
        var job = Pipelines.Job(_repo, Pipelines.Yaml(build: "touch build-started; sleep 30", jobTimeout: "5m"));
        var machine = new ScriptedMachine(_ => Task.CompletedTask);
        _agent = new AgentHarness(_time, machine);
        var marker = Path.Combine(_agent.Options.WorkRoot, job.JobId.ToString("N"), "build-started");

        var completion = await RunAdvancing(machine, job, async () =>
        {
            while (!File.Exists(marker))
                await Task.Delay(10);
            _time.Advance(TimeSpan.FromMinutes(5));
        });

        Assert.Equal(Outcome.JobTimeout, completion.Outcome);
        Assert.Contains("build", completion.Detail, StringComparison.Ordinal);
        Assert.Empty(machine.PowerOns);
    }

    [Fact]
    public async Task RunAsync_ServerLosesConsoleMidJob_ResentFromNextOffsetNothingLostOrDuplicated()
    {
        var job = Pipelines.Job(_repo, Pipelines.Yaml(build: "echo one; echo two; echo three; mkdir -p out && printf k > out/kernel.bin", boots: 2));
        var machine = new ScriptedMachine(async s =>
        {
            if (s.Index == 1)
                Server.LoseConsole(job.JobId, keep: 1);
            await s.WriteLinesAsync(Markers.PassingBoot);
            await s.ExitAsync(1, "exit");
        });

        // The spool resends on its own clock (batch interval, retry backoff): let that clock run while the job does.
        Machine(machine);
        var run = _agent!.Jobs.RunAsync(job, machine, CancellationToken.None);
        while (!run.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(run, Task.Delay(20));
        }
        var completion = await run.WaitAsync(Wait);

        Assert.Equal(Outcome.Passed, completion.Outcome);
        Assert.True(Server.Conflicts >= 1);
        var log = Server.ConsoleOf(job.JobId);
        Assert.Equal(3 + (2 * Markers.PassingBoot.Length), log.Count);
        Assert.Equal(Markers.PassingBoot.Concat(Markers.PassingBoot), log.Where(l => l.Boot >= 0).Select(l => l.Text));
    }

    [Fact]
    public async Task RunAsync_Transient503OnReports_RetriedAndPassed()
    {
        var machine = new ScriptedMachine(async s =>
        {
            await s.WriteLinesAsync(Markers.PassingBoot);
            await s.ExitAsync(1, "exit");
        });
        var job = Pipelines.Job(_repo, Pipelines.Yaml());
        Machine(machine);
        Server.Fail("/boots/0", 2);
        Server.Fail("/complete", 1, HttpStatusCode.ServiceUnavailable);
        Server.Fail("/console", 1, HttpStatusCode.ServiceUnavailable);

        var completion = await _agent!.Jobs.RunAsync(job, machine, CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(Outcome.Passed, completion.Outcome);
        Assert.Equal(Outcome.Passed, Server.Boots[(job.JobId, 0)].Outcome);
        Assert.Equal(Outcome.Passed, Server.Completions[job.JobId].Outcome);
        Assert.Equal(Markers.PassingBoot, Server.ConsoleOf(job.JobId).Select(l => l.Text));
    }

    [Fact]
    public async Task RunAsync_QemuBinaryMissing_InfraError()
    {
        var qemu = new QemuMachine(new MachineOptions { Name = "fake-0", QemuPath = "/nonexistent/qemu-system-x86_64" }, NullLogger<QemuMachine>.Instance);
        var job = Pipelines.Job(_repo, Pipelines.Yaml());
        Machine(new ScriptedMachine(_ => Task.CompletedTask));

        var completion = await _agent!.Jobs.RunAsync(job, qemu, CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(Outcome.InfraError, completion.Outcome);
        Assert.Contains("cannot start QEMU", completion.Detail, StringComparison.Ordinal);
        Assert.Equal(completion, Server.Completions[job.JobId]);
    }

    [Fact]
    public async Task RunAsync_RepositoryMissing_InfraError()
    {
        var job = Pipelines.Job(_repo, Pipelines.Yaml()) with { Repository = "/nonexistent/repo" };

        var completion = await Run(new ScriptedMachine(_ => Task.CompletedTask), job);

        Assert.Equal(Outcome.InfraError, completion.Outcome);
        Assert.StartsWith("checkout: git", completion.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnknownVariant_BuildFailedNamingIt()
    {
        var job = Pipelines.Job(_repo, Pipelines.Yaml()) with { Variant = "nope" };

        var completion = await Run(new ScriptedMachine(_ => Task.CompletedTask), job);

        Assert.Equal(Outcome.BuildFailed, completion.Outcome);
        Assert.Contains("nope", completion.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_AgentStopping_InfraErrorReportedWithinGrace()
    {
        var machine = new ScriptedMachine(s => s.WriteLinesAsync("booting"));
        var job = Pipelines.Job(_repo, Pipelines.Yaml(bootTimeout: "10m"));
        Machine(machine);
        using var stopping = new CancellationTokenSource();

        var run = _agent!.Jobs.RunAsync(job, machine, stopping.Token);
        var session = await machine.PoweredOn.Task.WaitAsync(Wait);
        await session.WaitReaderIdleAsync();
        await stopping.CancelAsync();
        var completion = await run.WaitAsync(Wait);

        Assert.Equal(Outcome.InfraError, completion.Outcome);
        Assert.Contains("agent stopped", completion.Detail, StringComparison.Ordinal);
        Assert.True(session.PoweredOff);
        Assert.Equal(completion, Server.Completions[job.JobId]);
        Assert.Equal("booting", Assert.Single(Server.ConsoleOf(job.JobId)).Text);
    }

    private FakeLabServer Server => _agent!.Server;

    private void Machine(ScriptedMachine machine) => _agent ??= new AgentHarness(_time, machine);

    private async Task<JobCompletion> Run(ScriptedMachine machine, JobAssignment job)
    {
        Machine(machine);
        return await _agent!.Jobs.RunAsync(job, machine, CancellationToken.None).WaitAsync(Wait);
    }

    private async Task<JobCompletion> RunAdvancing(ScriptedMachine machine, JobAssignment job, Func<Task> driveClock)
    {
        Machine(machine);
        var run = _agent!.Jobs.RunAsync(job, machine, CancellationToken.None);
        await driveClock().WaitAsync(Wait);
        return await run.WaitAsync(Wait);
    }
}
