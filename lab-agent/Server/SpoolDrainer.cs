using Microsoft.Extensions.Options;

namespace Redox.Lab.Agent.Server;

/// <summary>
/// Owns the job spools (<see cref="JobSpool"/>, SPOOL.md) under <c>StateDir/spool</c>: makes a job's spool, and
/// keeps draining in the background the spools a job could not wait for (the server stayed away longer than
/// <see cref="AgentOptions.SpoolHold"/>) and those an earlier agent process left behind. Stopping the agent stops
/// the drains; what is not on the server yet stays on disk for the next start.
/// </summary>
public sealed class SpoolDrainer(LabServerClient server, IOptions<AgentOptions> options, TimeProvider time, ILogger<SpoolDrainer> log) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Task> _draining = [];
    private readonly CancellationTokenSource _stop = new();

    public string Root => Path.Combine(options.Value.StatePath, "spool");

    public JobSpool Create(Guid jobId) => JobSpool.Create(server, jobId, Root, time, log);

    /// <summary>Drains <paramref name="spool"/> in the background and disposes it.</summary>
    public void Adopt(JobSpool spool)
    {
        lock (_lock)
        {
            _draining.RemoveAll(t => t.IsCompleted);
            _draining.Add(DrainAsync(spool));
        }
    }

    /// <summary>Takes up the spools an earlier agent process left; returns how many.</summary>
    public int ResumeAll()
    {
        if (!Directory.Exists(Root))
            return 0;
        var resumed = 0;
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            if (JobSpool.Resume(server, dir, time, log) is { } spool)
            {
                Adopt(spool);
                resumed++;
            }
        }
        return resumed;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task[] draining;
        lock (_lock)
            draining = [.. _draining];
        await Task.WhenAll(draining).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task DrainAsync(JobSpool spool)
    {
        await Task.Yield();
        try
        {
            await spool.DrainAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            log.LogWarning("Job {Job}: agent stopping with results not yet on the server; they stay in {Dir} for the next start", spool.JobId, spool.Directory);
        }
        finally
        {
            await spool.DisposeAsync();
        }
    }
}
