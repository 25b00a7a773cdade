using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Agent.Server;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Server;

public sealed class JobSpoolTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly AgentHarness _agent;
    private readonly Guid _job = Guid.NewGuid();
    private readonly string _root;

    public JobSpoolTests()
    {
        _agent = new AgentHarness(_time);
        _root = Path.Combine(_agent.StateDir, "spool");
    }

    public void Dispose() => _agent.Dispose();

    [Fact]
    public async Task DrainAsync_ServerDownThroughBoots_EveryLineAndReportArrivesOnceInOrder()
    {
        _agent.Server.Down = true;
        var spool = JobSpool.Create(_agent.Client, _job, _root, _time, NullLogger.Instance);
        var lines = AddLines(spool, 0, 0, 1200);
        spool.Boot(Report(0));
        lines.AddRange(AddLines(spool, 1, 1200, 300));
        spool.Boot(Report(1));
        spool.Complete(new JobCompletion(Outcome.Passed, "2 boots passed"));
        var drain = spool.DrainAsync(CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromMinutes(5), () => false);

        Assert.False(drain.IsCompleted);
        Assert.Empty(_agent.Server.ConsoleOf(_job));
        Assert.True(File.Exists(Path.Combine(spool.Directory, JobSpool.ConsoleFile)));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(spool.Directory, "items"), "*.json").Length);

        _agent.Server.Down = false;
        await AdvanceAsync(TimeSpan.FromMinutes(2), () => drain.IsCompleted);

        Assert.True(await drain);
        Assert.Equal(lines, _agent.Server.ConsoleOf(_job));
        // Each report went after every line added before it (it may go after later ones too).
        Assert.InRange(_agent.Server.ConsoleAtBoot[(_job, 0)], 1200, 1500);
        Assert.Equal(1500, _agent.Server.ConsoleAtBoot[(_job, 1)]);
        Assert.Equal((Outcome.Passed, "2 boots passed"), (_agent.Server.Completions[_job].Outcome, _agent.Server.Completions[_job].Detail));
        Assert.Equal(1, _agent.Server.Requests.Count(r => r.EndsWith("/complete", StringComparison.Ordinal)));
        await spool.DisposeAsync();
        Assert.False(Directory.Exists(spool.Directory));
    }

    [Fact]
    public async Task Resume_AgentStoppedMidOutage_NextProcessUploadsWhatWasSpooled()
    {
        _agent.Server.Down = true;
        var first = JobSpool.Create(_agent.Client, _job, _root, _time, NullLogger.Instance);
        var lines = AddLines(first, 0, 0, 40);
        first.Boot(Report(0));
        first.Complete(new JobCompletion(Outcome.KernelPanic, "boot 0: kernelPanic"));
        await AdvanceAsync(TimeSpan.FromSeconds(5), () => false);
        await first.DisposeAsync();
        Assert.True(Directory.Exists(first.Directory));

        _agent.Server.Down = false;
        await using var second = JobSpool.Resume(_agent.Client, first.Directory, _time, NullLogger.Instance)!;
        var drain = second.DrainAsync(CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromMinutes(1), () => drain.IsCompleted);

        Assert.True(await drain);
        Assert.Equal(lines, _agent.Server.ConsoleOf(_job));
        Assert.True(_agent.Server.Boots.ContainsKey((_job, 0)));
        Assert.Equal(Outcome.KernelPanic, _agent.Server.Completions[_job].Outcome);
    }

    [Fact]
    public async Task Resume_AgentDiedMidJob_CompletesAsInfraErrorAfterItsLines()
    {
        _agent.Server.Down = true;
        var first = JobSpool.Create(_agent.Client, _job, _root, _time, NullLogger.Instance);
        var lines = AddLines(first, 0, 0, 10);
        await AdvanceAsync(TimeSpan.FromSeconds(2), () => false);
        await first.DisposeAsync();
        // A crash can tear the last line written.
        await File.AppendAllTextAsync(Path.Combine(first.Directory, JobSpool.ConsoleFile), "{\"boot\":0,\"hostT");

        _agent.Server.Down = false;
        await using var second = JobSpool.Resume(_agent.Client, first.Directory, _time, NullLogger.Instance)!;
        var drain = second.DrainAsync(CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromMinutes(1), () => drain.IsCompleted);

        Assert.True(await drain);
        Assert.Equal(lines, _agent.Server.ConsoleOf(_job));
        Assert.Equal(Outcome.InfraError, _agent.Server.Completions[_job].Outcome);
    }

    [Fact]
    public async Task DrainAsync_ServerSaysNotThisAgentsJob_DropsSpool()
    {
        _agent.Server.Fail("/boots/0", 1, HttpStatusCode.Conflict);
        await using var spool = JobSpool.Create(_agent.Client, _job, _root, _time, NullLogger.Instance);
        AddLines(spool, 0, 0, 3);
        spool.Boot(Report(0));
        spool.Complete(new JobCompletion(Outcome.Passed, null));
        var drain = spool.DrainAsync(CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromMinutes(1), () => drain.IsCompleted);

        Assert.False(await drain);
        Assert.False(_agent.Server.Completions.ContainsKey(_job));
    }

    [Fact]
    public async Task Artifact_Refused413_ConsoleSaysWhyAndBootsStillGo()
    {
        _agent.Server.Fail("/artifacts/kernel.elf", 1, HttpStatusCode.RequestEntityTooLarge);
        var elf = Path.Combine(_agent.StateDir, "kernel.elf");
        await File.WriteAllBytesAsync(elf, [0x7f, (byte)'E', (byte)'L', (byte)'F']);
        await using var spool = JobSpool.Create(_agent.Client, _job, _root, _time, NullLogger.Instance);
        spool.Artifact("kernel.elf", elf);
        File.Delete(elf); // the job's work directory goes; the spool has its copy
        spool.Boot(Report(0));
        spool.Complete(new JobCompletion(Outcome.Passed, null));
        var drain = spool.DrainAsync(CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromMinutes(1), () => drain.IsCompleted);

        Assert.True(await drain);
        Assert.Contains(_agent.Server.ConsoleOf(_job), l => l.Text.StartsWith("lab: kernel.elf not stored", StringComparison.Ordinal));
        Assert.True(_agent.Server.Boots.ContainsKey((_job, 0)));
    }

    [Fact]
    public async Task DrainAsync_BootReportRefused413_SentOnceMoreWithoutItsListsCountedAsCut()
    {
        _agent.Server.Fail("/boots/0", 1, HttpStatusCode.RequestEntityTooLarge);
        await using var spool = JobSpool.Create(_agent.Client, _job, _root, _time, NullLogger.Instance);
        spool.Boot(Report(0) with { Tests = [new TestReport("a", "pass", null), new TestReport("b", "pass", null)] });
        spool.Complete(new JobCompletion(Outcome.Passed, null));
        var drain = spool.DrainAsync(CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromMinutes(1), () => drain.IsCompleted);

        Assert.True(await drain);
        var stored = _agent.Server.Boots[(_job, 0)];
        Assert.Empty(stored.Tests);
        Assert.Equal(new ReportCut(Tests: 2), stored.Cut);
        Assert.Equal(Outcome.TestFailed, stored.Outcome);
        // One refusal, one stripped report: no retry loop.
        Assert.Equal(2, _agent.Server.Requests.Count(r => r.EndsWith("/boots/0", StringComparison.Ordinal)));
    }

    /// <summary>Moves the fake clock in steps (letting the pumps run between them) until <paramref name="done"/> or <paramref name="span"/> passed.</summary>
    private async Task AdvanceAsync(TimeSpan span, Func<bool> done)
    {
        for (var passed = TimeSpan.Zero; passed < span && !done(); passed += TimeSpan.FromMilliseconds(500))
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(5);
        }
    }

    private static List<ConsoleLine> AddLines(JobSpool spool, int boot, int from, int count)
    {
        var lines = Enumerable.Range(from, count).Select(i => new ConsoleLine(boot, DateTimeOffset.UnixEpoch.AddMilliseconds(i), $"line {i}")).ToList();
        foreach (var l in lines)
            spool.Console.Add(l);
        return lines;
    }

    private static BootReport Report(int index) =>
        new(index, Outcome.Passed, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), null, [], [], [], [], 0);
}
