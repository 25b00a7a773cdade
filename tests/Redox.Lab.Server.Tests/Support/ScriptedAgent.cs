using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>What the scripted kernel measures at one commit.</summary>
/// <param name="Mean">The mean of <c>syscall.enosys.cycles</c>.</param>
/// <param name="DoubleFree">Every boot reports a double free and fails <c>mm.selftest</c>.</param>
/// <param name="Noise">Relative Gaussian noise of each boot's value.</param>
/// <param name="Sequence">Exact values instead, one per boot of this commit in the order they are served (the last repeats).</param>
/// <param name="Message">The double free's <c>msg</c> (default <c>frame 4096 freed twice</c>, numbers differing per boot).</param>
/// <param name="Test">The name of the test that fails with the double free.</param>
public sealed record ScriptedKernel(
    double Mean, bool DoubleFree = false, double Noise = 0.01, IReadOnlyList<double>? Sequence = null, string? Message = null, string Test = "mm.selftest");

/// <summary>
/// An agent over the real agent API that claims jobs for its one machine and reports boots whose
/// <c>syscall.enosys.cycles</c> and findings depend on the commit it was given (<see cref="Kernels"/>), with a
/// fixed seed: the judge's flows on the real server and PostgreSQL without QEMU (the end-to-end tests boot the
/// real kernel).
/// </summary>
public sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _bootsServed = new(StringComparer.Ordinal);
    private readonly HttpClient _agent;
    private readonly Task _loop;

    private ScriptedAgent(HttpClient agent, int seed)
    {
        _agent = agent;
        _loop = Task.Run(() => ServeAsync(seed, _stop.Token));
    }

    /// <summary>The server's JSON settings (this file is shared with the dashboard tests, which have their own fixture).</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson();

    /// <summary>The kernel at each commit; a commit not listed measures 1000 cycles and is clean.</summary>
    public ConcurrentDictionary<string, ScriptedKernel> Kernels { get; } = new(StringComparer.Ordinal);

    /// <summary>The jobs served, in order: commit and boots.</summary>
    public ConcurrentQueue<(string Commit, int Boots)> Served { get; } = new();

    /// <summary>Enrols an agent <paramref name="name"/> with one machine tagged <paramref name="tag"/> and starts serving.</summary>
    public static async Task<ScriptedAgent> StartAsync(Func<string, string[][], Task<(Guid, HttpClient)>> enrol, string name, string tag, int seed = 1234)
    {
        ArgumentNullException.ThrowIfNull(enrol);
        var (_, client) = await enrol(name, [[tag]]);
        return new ScriptedAgent(client, seed);
    }

    /// <summary>Starts serving as the agent whose client (carrying its token) is <paramref name="agent"/>; disposing disposes it.</summary>
    public static ScriptedAgent Start(HttpClient agent, int seed = 1234) => new(agent, seed);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _agent.Dispose();
        _stop.Dispose();
    }

    private async Task ServeAsync(int seed, CancellationToken ct)
    {
        var random = new Random(seed);
        while (!ct.IsCancellationRequested)
        {
            var next = await _agent.GetAsync("/api/agent/jobs/next?wait=1", ct);
            if (next.StatusCode == System.Net.HttpStatusCode.NoContent) continue;
            next.EnsureSuccessStatusCode();
            var job = (await next.Content.ReadFromJsonAsync<JobAssignment>(Json, ct))!;
            var kernel = Kernels.GetValueOrDefault(job.Commit, new ScriptedKernel(1000));
            var boots = job.BootCount ?? 5;
            Served.Enqueue((job.Commit, boots));
            for (var i = 0; i < boots; i++)
            {
                var k = _bootsServed.AddOrUpdate(job.Commit, 0, (_, n) => n + 1);
                var value = kernel.Sequence is { Count: > 0 } s ? s[Math.Min(k, s.Count - 1)] : kernel.Mean * (1 + kernel.Noise * Gaussian(random));
                var now = DateTimeOffset.UtcNow;
                var report = new BootReport(i, kernel.DoubleFree ? Outcome.TestFailed : Outcome.Passed, null, now, now, 1_000_000_000,
                    [new StageReport("entry", "marker", 1_000_000, 2_000_000)],
                    [new MetricReport("syscall.enosys.cycles", value, "cycles", 1000, "median"), new MetricReport("mm.free.frames", 64861, "frames", 1, "value")],
                    [new TestReport(kernel.Test, kernel.DoubleFree ? "fail" : "pass", null)],
                    kernel.DoubleFree
                        ? [new FindingReport("double-free", new Dictionary<string, string> { ["frame"] = $"0x{0x1000 * (i + 1):x}", ["msg"] = kernel.Message ?? $"frame {0x1000 * (i + 1)} freed twice" }, 10)]
                        : [],
                    0);
                (await _agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/{i}", report, Json, ct)).EnsureSuccessStatusCode();
            }
            (await _agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete",
                new JobCompletion(kernel.DoubleFree ? Outcome.TestFailed : Outcome.Passed, null), Json, ct)).EnsureSuccessStatusCode();
        }
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Redox.Lab.Server.Extensions.ConfigureJson(o);
        return o;
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}

/// <summary>Waiting for the judge through the API (it runs every 5 s as a recurring Hangfire job).</summary>
public static class Judged
{
    public static async Task<RunVerdictsView> VerdictsAsync(HttpClient client, Guid runId) =>
        await UntilAsync(async () =>
        {
            var v = await client.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", ScriptedAgent.Json);
            return v is { Judged: true } ? v : null;
        });

    public static async Task<BisectionView> BisectionAsync(HttpClient client, Guid runId) =>
        await UntilAsync(async () =>
        {
            var v = await client.GetFromJsonAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", ScriptedAgent.Json);
            return v?.Bisections.FirstOrDefault(b => b.State != "running");
        });

    public static async Task<T> UntilAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        // Generous: the judge runs every 5 s and each step waits for the scripted agent; not a timing assertion.
        for (var i = 0; i < 1200; i++)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(250);
        }
        throw new TimeoutException("the judge did not get there in 5 minutes");
    }
}
