using System.Collections.Concurrent;
using Npgsql;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// Wakes long-polling agents when jobs are queued. One dedicated connection LISTENs on <see cref="Channel"/>;
/// whoever queues jobs NOTIFYs in the same transaction, so the wake-up reaches every server instance
/// and only after the jobs are visible. The payload names the agents whose machines got jobs (or, from older
/// callers, a run id: then every waiter wakes).
/// </summary>
public sealed class JobWakeups(NpgsqlDataSource dataSource, ILogger<JobWakeups> log) : BackgroundService
{
    public const string Channel = "lab_jobs";

    /// <summary>A notification payload naming the agents to wake: <c>agents:</c> then agent ids, comma-separated.</summary>
    public const string AgentsPrefix = "agents:";

    /// <summary>Agent ids per notification: 200 × 37 characters stays under PostgreSQL's 8,000-byte payload limit.</summary>
    internal const int AgentsPerPayload = 200;

    private TaskCompletionSource _signal = NewSignal();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _agents = new();

    /// <summary>Completes at the next wake-up of every waiter. Take it before looking for work, so a wake-up in between is not missed.</summary>
    public Task NextWakeup => Volatile.Read(ref _signal).Task;

    /// <summary>
    /// Completes at the next wake-up of every waiter or of this agent's. Jobs queued for some machines wake only their
    /// agents: with hundreds of agents long-polling, waking all of them for every run made each one query for a job
    /// it could not have (bench/scale).
    /// </summary>
    public Task NextWakeupFor(Guid agentId) =>
        Task.WhenAny(NextWakeup, _agents.GetOrAdd(agentId, _ => NewSignal()).Task);

    /// <summary>Wakes every waiter (they then race to claim; losers wait again).</summary>
    public void WakeAll() => Interlocked.Exchange(ref _signal, NewSignal()).TrySetResult();

    /// <summary>Wakes the waiters of one agent.</summary>
    public void Wake(Guid agentId)
    {
        if (_agents.TryRemove(agentId, out var signal)) signal.TrySetResult();
    }

    /// <summary>A notification: <c>agents:id,id,...</c> wakes those agents; anything else (a run id) wakes every waiter.</summary>
    internal void OnNotification(string payload)
    {
        if (!payload.StartsWith(AgentsPrefix, StringComparison.Ordinal))
        {
            WakeAll();
            return;
        }
        foreach (var part in payload[AgentsPrefix.Length..].Split(','))
            if (Guid.TryParse(part, out var agentId)) Wake(agentId);
    }

    /// <summary>The payloads that wake these agents, each within PostgreSQL's limit.</summary>
    public static IEnumerable<string> AgentPayloads(IEnumerable<Guid> agentIds) =>
        agentIds.Distinct().Chunk(AgentsPerPayload).Select(ids => AgentsPrefix + string.Join(',', ids));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => OnNotification(e.Payload);
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
