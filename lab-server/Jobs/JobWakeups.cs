using Npgsql;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Wakes long-polling agents when jobs are queued. One dedicated connection LISTENs on <see cref="Channel"/>;
/// whoever queues jobs NOTIFYs in the same transaction, so the wake-up reaches every server instance
/// and only after the jobs are visible.
/// </summary>
public sealed class JobWakeups(NpgsqlDataSource dataSource, ILogger<JobWakeups> log) : BackgroundService
{
    public const string Channel = "lab_jobs";

    private TaskCompletionSource _signal = NewSignal();

    /// <summary>Completes at the next wake-up. Take it before looking for work, so a wake-up in between is not missed.</summary>
    public Task NextWakeup => Volatile.Read(ref _signal).Task;

    /// <summary>Wakes every waiter (they then race to claim; losers wait again).</summary>
    public void WakeAll() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, _) => WakeAll();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                // Jobs may have been queued while no one listened.
                WakeAll();
                while (true)
                {
                    // A quiet connection is probed now and then, so a dead one is noticed and replaced.
                    if (!await connection.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken))
                    {
                        await using var probe = new NpgsqlCommand("SELECT 1", connection);
                        await probe.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Listening on {Channel} failed; reconnecting", Channel);
                WakeAll();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
