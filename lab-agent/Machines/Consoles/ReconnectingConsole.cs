using System.IO.Pipelines;
using Polly;
using Redox.Lab.Agent.Machines.Resilience;

namespace Redox.Lab.Agent.Machines.Consoles;

/// <summary>
/// A PC's console for one boot: attached through the <c>console-attach</c> pipeline, copied into a pipe
/// that the boot reads (<see cref="Stream"/>). When the link drops mid-boot it is attached again through
/// the same pipeline and the gap (from the drop to the first byte after it could have come) is reported
/// as a lab event and kept in <see cref="Gaps"/>. When it cannot be attached again the stream fails with
/// a <see cref="LabInfraException"/>: the boot ends as an infrastructure failure, not as a kernel's.
/// </summary>
public sealed class ReconnectingConsole : IAsyncDisposable
{
    private readonly IConsoleLink _link;
    private readonly ResiliencePipeline _attach;
    private readonly TimeProvider _time;
    private readonly Action<string> _event;
    private readonly ILogger _log;
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 4 << 20, resumeWriterThreshold: 2 << 20));
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(DateTimeOffset Lost, DateTimeOffset Back)> _gaps = [];
    private ConsoleConnection? _connection;
    private Task? _pump;

    public ReconnectingConsole(IConsoleLink link, ResiliencePipeline attach, TimeProvider time, Action<string> labEvent, ILogger log)
    {
        _link = link;
        _attach = attach;
        _time = time;
        _event = labEvent;
        _log = log;
        Stream = _pipe.Reader.AsStream();
    }

    /// <summary>The console's bytes, across reconnections.</summary>
    public Stream Stream { get; }

    public IReadOnlyList<(DateTimeOffset Lost, DateTimeOffset Back)> Gaps
    {
        get
        {
            lock (_gaps)
                return [.. _gaps];
        }
    }

    /// <summary>Attaches the first time; throws <see cref="ConsoleException"/> (or a timeout) when the pipeline gives up.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _connection = await AttachAsync(cancellationToken);
        _pump = Task.Run(() => PumpAsync(_stop.Token), CancellationToken.None);
    }

    private async Task<ConsoleConnection> AttachAsync(CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(MachinePipelines.LabEvents, _event);
        try
        {
            return await _attach.ExecuteAsync(static async (ctx, link) => await link.OpenAsync(ctx.CancellationToken), context, _link);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task PumpAsync(CancellationToken stop)
    {
        var buffer = new byte[4096];
        while (!stop.IsCancellationRequested)
        {
            string why;
            try
            {
                var n = await _connection!.Stream.ReadAsync(buffer, stop);
                if (n > 0)
                {
                    await _pipe.Writer.WriteAsync(buffer.AsMemory(0, n), stop);
                    continue;
                }

                why = "the console closed";
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                why = e.Message;
            }

            var lost = _time.GetUtcNow();
            _event($"console {_link.Describe} lost at {lost:HH:mm:ss.fff}Z ({why}); attaching again");
            _log.LogWarning("Console {Console} lost: {Why}", _link.Describe, why);
            await _connection!.DisposeAsync();
            try
            {
                _connection = await AttachAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                var message = $"console {_link.Describe} lost mid-boot and could not be attached again: {e.Message}";
                _event(message);
                await _pipe.Writer.CompleteAsync(new LabInfraException(message, e));
                return;
            }

            var back = _time.GetUtcNow();
            lock (_gaps)
                _gaps.Add((lost, back));
            _event($"console {_link.Describe} attached again; gap of {(back - lost).TotalSeconds:0.###}s from {lost:HH:mm:ss.fff}Z to {back:HH:mm:ss.fff}Z (output in it is lost)");
        }

        await _pipe.Writer.CompleteAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_connection is not null)
            await _connection.DisposeAsync();
        if (_pump is not null)
            await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _pipe.Writer.CompleteAsync();
        _stop.Dispose();
    }
}
