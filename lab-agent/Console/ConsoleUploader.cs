using System.Threading.Channels;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Console;

/// <summary>
/// Uploads one job's console lines in order, in batches (every <see cref="BatchInterval"/> or
/// <see cref="MaxBatchLines"/> lines). <see cref="Add"/> never blocks: lines go through a channel to
/// a pump task, so a slow or absent server never stalls the console reader.
/// </summary>
/// <remarks>
/// Every line of the job stays in memory until the job ends, because a 409 may ask for lines the
/// server had acknowledged before (it lost them): the server's <c>nextOffset</c> is the truth, and
/// the pump always resends from it. The server skips lines below its count, so a retried chunk
/// duplicates nothing, and nothing is dropped on a network error: the pump keeps the lines and tries
/// again. A reference-kernel boot prints a few hundred lines; even 10^5 lines are a few MB.
/// With a spool file (a job's <see cref="Server.JobSpool"/>) every line is also appended to it, one JSON
/// <see cref="ConsoleLine"/> per line, before it is sent: an agent restarted mid-outage uploads them then.
/// </remarks>
public sealed class ConsoleUploader : IConsoleSink, IAsyncDisposable
{
    public const int MaxBatchLines = 500;
    public static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly LabServerClient _server;
    private readonly Guid _jobId;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<ConsoleLine> _lines = [];
    private readonly Lock _addLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private readonly StreamWriter? _spool;
    private long _added;
    private long _acked;

    public ConsoleUploader(LabServerClient server, Guid jobId, TimeProvider time, ILogger log, string? spoolFile = null)
    {
        _server = server;
        _jobId = jobId;
        _time = time;
        _log = log;
        if (spoolFile is not null)
            _spool = new StreamWriter(new FileStream(spoolFile, FileMode.Append, FileAccess.Write, FileShare.Read), new System.Text.UTF8Encoding(false));
        _pump = Task.Run(() => PumpAsync(_stop.Token));
    }

    /// <summary>Lines handed to <see cref="Add"/> so far.</summary>
    public long Count => Interlocked.Read(ref _added);

    /// <summary>Lines the server has confirmed.</summary>
    public long Acknowledged => Interlocked.Read(ref _acked);

    /// <summary>Queues a line; returns its per-job index (its console offset). Thread-safe.</summary>
    public long Add(ConsoleLine line)
    {
        lock (_addLock)
        {
            // Index and queue order must agree, so both happen under one lock.
            _queue.Writer.TryWrite(line);
            return _added++;
        }
    }

    /// <summary>Completes once every line added before the call is on the server.</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var request = new FlushRequest();
        lock (_addLock)
            _queue.Writer.TryWrite(request);
        return request.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the pump; lines not flushed by then are not sent.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        if (_spool is not null)
            await _spool.DisposeAsync();
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        var flushes = new List<FlushRequest>();
        var lastSend = _time.GetTimestamp();
        Task<bool>? more = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var spooled = false;
            while (reader.TryRead(out var item))
            {
                if (item is ConsoleLine line)
                {
                    _lines.Add(line);
                    if (_spool is not null)
                    {
                        await _spool.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(line, ServerJson.Options));
                        spooled = true;
                    }
                }
                else
                    flushes.Add((FlushRequest)item);
            }
            if (spooled)
                await _spool!.FlushAsync(CancellationToken.None);

            var unsent = _lines.Count - _acked;
            var sinceSend = _time.GetElapsedTime(lastSend);
            if (unsent > 0 && (flushes.Count > 0 || unsent >= MaxBatchLines || sinceSend >= BatchInterval))
            {
                if (!await TrySendAsync(cancellationToken))
                    await Task.Delay(RetryDelay, _time, cancellationToken);
                lastSend = _time.GetTimestamp();
                continue;
            }

            if (unsent == 0)
            {
                foreach (var f in flushes)
                    f.Done.TrySetResult();
                flushes.Clear();
            }

            more ??= reader.WaitToReadAsync(cancellationToken).AsTask();
            if (unsent > 0)
                await Task.WhenAny(more, Task.Delay(BatchInterval - sinceSend, _time, cancellationToken));
            else
                await more;
            if (more.IsCompleted)
            {
                if (!await more)
                    return;
                more = null;
            }
        }
    }

    private async Task<bool> TrySendAsync(CancellationToken cancellationToken)
    {
        var from = (int)_acked;
        var count = Math.Min(MaxBatchLines, _lines.Count - from);
        var chunk = new ConsoleChunk(from, _lines.GetRange(from, count));
        try
        {
            var answer = await _server.PostConsoleAsync(_jobId, chunk, cancellationToken);
            var next = Math.Clamp(answer.NextOffset, 0, _lines.Count);
            if (answer.Conflict)
            {
                _log.LogWarning("Job {Job}: console upload at {Offset} refused (409); resending from {Next}", _jobId, from, answer.NextOffset);
                if (next == from)
                    return false;
            }

            Interlocked.Exchange(ref _acked, next);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.LogWarning("Job {Job}: console upload of lines {From}..{To} failed, keeping them to retry: {Error}", _jobId, from, from + count - 1, e.Message);
            return false;
        }
    }

    private sealed class FlushRequest
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
