using Redox.Lab.Agent.Server;

namespace Redox.Lab.Agent.Jobs;

/// <summary>
/// Renews a job's lease every <c>LeaseSeconds / 3</c> (so two beats may fail before the lease runs
/// out). When the server answers <c>continue=false</c> the job was cancelled or already failed as
/// agent-lost: <see cref="Stopped"/> fires and the job stops. A failed beat is only logged; the
/// next one may get through, and if none does the server's lease expiry decides.
/// </summary>
public sealed class JobHeartbeat : IAsyncDisposable
{
    private readonly LabServerClient _server;
    private readonly Guid _jobId;
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopped = new();
    private readonly CancellationTokenSource _dispose = new();
    private readonly Task _loop;

    public JobHeartbeat(LabServerClient server, Guid jobId, int leaseSeconds, TimeProvider time, ILogger log)
    {
        _server = server;
        _jobId = jobId;
        _period = TimeSpan.FromSeconds(Math.Max(1, leaseSeconds)) / 3;
        _time = time;
        _log = log;
        _loop = Task.Run(() => RunAsync(_dispose.Token));
    }

    /// <summary>Cancelled once the server said to stop working on the job.</summary>
    public CancellationToken Stopped => _stopped.Token;

    public bool StoppedByServer => _stopped.IsCancellationRequested;

    /// <summary>The server said stop because a user cancelled the job (<c>"cancel": true</c>), not because it ended.</summary>
    public bool CancelledByUser { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _dispose.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _dispose.Dispose();
        _stopped.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_period, _time);
        do
        {
            try
            {
                // A beat that takes longer than the period is worthless: the next one is due.
                using var beat = new CancellationTokenSource(_period, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, beat.Token);
                var answer = await _server.HeartbeatAsync(_jobId, linked.Token);
                if (!answer.Continue || answer.Cancel)
                {
                    CancelledByUser = answer.Cancel;
                    _log.LogWarning("Job {Job}: the server says stop ({Why})", _jobId, answer.Cancel ? "cancelled by a user" : "the job already ended, e.g. as agent-lost");
                    await _stopped.CancelAsync();
                    return;
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _log.LogWarning("Job {Job}: heartbeat failed: {Error}", _jobId, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }
}
