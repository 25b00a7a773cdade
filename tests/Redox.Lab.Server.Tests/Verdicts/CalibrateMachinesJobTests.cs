using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Tests.Verdicts;

/// <summary>
/// The daily calibration job, invoked as Hangfire invokes it (resolved from the server's services) with a fake
/// clock, on its own lab (its own database: the job calibrates every machine, and the other tests' machines have
/// no agent to serve it): it schedules one A/A pair per machine, a second delivery the same day schedules nothing,
/// the next day's does; after three days of comparisons the machine's measured noise sets the default threshold.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class CalibrateMachinesJobTests(LabFixture shared) : IAsyncLifetime
{
    private const string Tag = "calibrate-daily";

    // No threshold: the default comes from calibration once the machine has enough A/A comparisons.
    private const string Pipeline = """
        name: calibrate-daily
        build:
          commands: [make]
          artifacts: { image: kernel.bin }
        boot:
          count: 5
          machine: { tags: [calibrate-daily] }
        judge:
          calibrate: { boots: 5 }
        """;

    private LabFixture _lab = null!;
    private GitRepo _repo = null!;
    private ScriptedAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _lab = await shared.IsolatedAsync();
        _repo = await _lab.RepoWithPipelineAsync(Pipeline);
        _agent = await ScriptedAgent.StartAsync(_lab.EnrolAsync, "calibrate-daily-agent", Tag, seed: 77);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _lab.DisposeAsync();
    }

    [Fact]
    public async Task RunAsync_DailyOnEveryMachine_PairsOncePerDayAndNoiseSetsThresholds()
    {
        using var client = _lab.Client();
        var c0 = (await _repo.GitAsync("rev-parse", "HEAD")).Trim();
        _agent.Kernels[c0] = new ScriptedKernel(1000, Noise: 0.01);
        var first = await Judged.VerdictsAsync(client, (await _lab.PushAsync(_repo)).RunId);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);

        for (var day = 1; day <= Thresholds.MinComparisons; day++)
        {
            Assert.Equal(2, await RunJobAsync(clock)); // one A/A pair: two runs of c0 on the one machine
            Assert.Equal(0, await RunJobAsync(clock)); // delivered twice: nothing more that day
            var calibration = await Judged.UntilAsync(async () =>
                (await client.GetFromJsonAsync<List<CalibrationView>>("/api/calibrations", LabFixture.Json))!
                    .FirstOrDefault(c => c.Name == "syscall.enosys.cycles" && c.Comparisons == day));
            Assert.InRange(calibration.Noise, 0.001, 0.05); // the scripted kernel's noise is 1%
            Assert.InRange(calibration.FalsePositives, 0, day);
            clock.Advance(TimeSpan.FromDays(1));
        }

        // Three comparisons: the calibrated threshold (at least the 1% floor) judges the next commit.
        var calibrated = (await client.GetFromJsonAsync<List<CalibrationView>>("/api/calibrations", LabFixture.Json))!
            .Single(c => c.Name == "syscall.enosys.cycles");
        Assert.NotNull(calibrated.Threshold);
        var c1 = (await _repo.CommitAsync(new Dictionary<string, string> { ["kernel.c"] = "// 1\n" }, "kernel 1")).Trim();
        _agent.Kernels[c1] = new ScriptedKernel(1000, Noise: 0.01);
        var next = await Judged.VerdictsAsync(client, (await _lab.PushAsync(_repo)).RunId);
        var verdict = next.Verdicts.Single(v => v.Subject == "metric" && v.Name == "syscall.enosys.cycles");
        Assert.Equal(("calibration", calibrated.Threshold), (verdict.ThresholdSource, verdict.Threshold));
        Assert.Null(first.BaselineCommit);
    }

    private async Task<int> RunJobAsync(TimeProvider clock)
    {
        // The job and what it schedules with, on the fake clock (runs are stamped in fake time); the rest from the server.
        await using var scope = _lab.Scope();
        var services = scope.ServiceProvider;
        var scheduler = ActivatorUtilities.CreateInstance<RunScheduler>(services, clock);
        var calibrations = ActivatorUtilities.CreateInstance<Calibrations>(services, scheduler, clock);
        var job = ActivatorUtilities.CreateInstance<CalibrateMachinesJob>(services, calibrations, clock);
        return await job.RunAsync(CancellationToken.None);
    }
}
