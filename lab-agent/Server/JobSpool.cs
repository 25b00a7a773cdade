using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Polly.Timeout;
using Redox.Lab.Agent.Console;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Server;

/// <summary>
/// One job's outbox, on disk under <c>StateDir/spool/&lt;job&gt;/</c> (SPOOL.md): its console lines (through a
/// <see cref="ConsoleUploader"/> that appends each to <c>console.jsonl</c>), its artifacts (copied), its boot
/// reports and its completion. One pump uploads them in order (every console line added before an item goes
/// before it) as soon as the server answers, retrying with capped backoff for as long as it does not; nothing
/// the job produced waits on the server. Every upload is idempotent by its key (console by offset, boot
/// reports by index, artifacts by name, the completion once per job), so a resend duplicates nothing.
/// </summary>
public sealed class JobSpool : IAsyncDisposable
{
    public const string ConsoleFile = "console.jsonl";
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(15);

    private readonly LabServerClient _server;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Channel<SpooledItem> _items = Channel.CreateUnbounded<SpooledItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<bool> _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private int _sequence;
    private int _boots;

    private JobSpool(LabServerClient server, Guid jobId, string directory, TimeProvider time, ILogger log, string? consoleFile, int sequence)
    {
        _server = server;
        _time = time;
        _log = log;
        _sequence = sequence;
        JobId = jobId;
        Directory = directory;
        Console = new ConsoleUploader(server, jobId, time, log, consoleFile);
        _pump = Task.Run(() => PumpAsync(_stop.Token));
    }

    public Guid JobId { get; }

    public string Directory { get; }

    /// <summary>The job's console: <see cref="ConsoleUploader.Add"/> never blocks, whether the server answers or not.</summary>
    public ConsoleUploader Console { get; }

    /// <summary>True once the completion is on the server (or the server said the job is not this agent's).</summary>
    public bool Drained => _drained.Task.IsCompleted;

    /// <summary>A new, empty spool for <paramref name="jobId"/> under <paramref name="root"/>.</summary>
    public static JobSpool Create(LabServerClient server, Guid jobId, string root, TimeProvider time, ILogger log)
    {
        var directory = Path.Combine(root, jobId.ToString("N"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "items"));
        return new JobSpool(server, jobId, directory, time, log, Path.Combine(directory, ConsoleFile), 0);
    }

    /// <summary>
    /// Takes up a spool an earlier agent process left (it stopped, or crashed, before the server had everything):
    /// its console lines and items are uploaded as they were. One without a completion (the agent died during the
    /// job) gets an infra-error completion, which the server ignores when its lease expiry already ended the job.
    /// Null for a directory that is not a spool.
    /// </summary>
    public static JobSpool? Resume(LabServerClient server, string directory, TimeProvider time, ILogger log)
    {
        if (!Guid.TryParseExact(Path.GetFileName(directory), "N", out var jobId) || !System.IO.Directory.Exists(Path.Combine(directory, "items")))
            return null;
        var items = System.IO.Directory.EnumerateFiles(Path.Combine(directory, "items"), "*.json")
            .Order(StringComparer.Ordinal)
            .Select(f => Read(f))
            .OfType<SpooledItem>()
            .ToList();
        var spool = new JobSpool(server, jobId, directory, time, log, consoleFile: null, items.Count == 0 ? 0 : items.Max(i => i.Sequence) + 1);
        var lines = 0;
        var consolePath = Path.Combine(directory, ConsoleFile);
        if (File.Exists(consolePath))
        {
            foreach (var text in File.ReadLines(consolePath))
            {
                ConsoleLine? line;
                try
                {
                    line = JsonSerializer.Deserialize<ConsoleLine>(text, ServerJson.Options);
                }
                catch (JsonException)
                {
                    break; // the last write was torn by the crash: every line before it is whole
                }
                if (line is null)
                    break;
                spool.Console.Add(line);
                lines++;
            }
        }
        foreach (var item in items)
            spool._items.Writer.TryWrite(item);
        if (!items.Any(i => i.Completion is not null))
            spool.Complete(new JobCompletion(Outcome.InfraError, "the agent restarted during the job; what it had spooled was uploaded after the restart"));
        log.LogWarning("Job {Job}: resuming its spool from an earlier agent process: {Lines} console lines, {Items} reports", jobId, lines, items.Count);
        return spool;
    }

    /// <summary>Queues an artifact; the file is copied into the spool first, so the job's work directory may go.</summary>
    public void Artifact(string name, string path)
    {
        var sequence = _sequence++;
        var copy = Path.Combine(Directory, "items", $"{sequence:D6}.bin");
        File.Copy(path, copy, overwrite: true);
        Enqueue(new SpooledItem(sequence, ArtifactName: name, ArtifactFile: copy));
    }

    /// <summary>Queues a boot report, after every console line added so far (its line indexes point into them).</summary>
    public void Boot(BootReport report)
    {
        Enqueue(new SpooledItem(_sequence++, Boot: report));
        _log.LogInformation("Job {Job}: boot {Index} ended {Outcome}; report spooled after {Lines} console lines", JobId, report.Index, report.Outcome.ToName(), Console.Count);
    }

    /// <summary>Queues the job's end: the last item.</summary>
    public void Complete(JobCompletion completion) => Enqueue(new SpooledItem(_sequence++, Completion: completion));

    /// <summary>Waits until the completion is on the server; false when the server said the job is not this agent's (the rest was dropped).</summary>
    public Task<bool> DrainAsync(CancellationToken cancellationToken) => _drained.Task.WaitAsync(cancellationToken);

    /// <summary>Stops the pump; a drained spool's directory is deleted, any other stays for the next agent start.</summary>
    public async ValueTask DisposeAsync()
    {
        _items.Writer.TryComplete();
        await _stop.CancelAsync();
        await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Console.DisposeAsync();
        _stop.Dispose();
        if (Drained)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogWarning("Job {Job}: could not delete its spool {Dir}: {Error}", JobId, Directory, e.Message);
            }
        }
    }

    private void Enqueue(SpooledItem item)
    {
        // Written before it is queued: once queued it may be sent, and a sent item's file is deleted.
        var path = ItemPath(item);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(item, ServerJson.Options));
        File.Move(path + ".tmp", path, overwrite: true);
        _items.Writer.TryWrite(item);
    }

    private string ItemPath(SpooledItem item) => Path.Combine(Directory, "items", $"{item.Sequence:D6}.json");

    private static SpooledItem? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<SpooledItem>(File.ReadAllText(path), ServerJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in _items.Reader.ReadAllAsync(cancellationToken))
            {
                await Console.FlushAsync(cancellationToken);
                if (!await SendAsync(item, cancellationToken))
                {
                    _drained.TrySetResult(false);
                    return;
                }
                File.Delete(ItemPath(item));
                if (item.ArtifactFile is { } file)
                    File.Delete(file);
                if (item.Boot is not null)
                    _boots++;
                if (item.Completion is { } c)
                {
                    _log.LogInformation("Job {Job}: spool drained: {Lines} console lines, {Boots} boot reports and the completion ({Outcome}) are on the server",
                        JobId, Console.Acknowledged, _boots, c.Outcome.ToName());
                    _drained.TrySetResult(true);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: what is left stays on disk.
        }
    }

    /// <summary>Sends one item until the server takes it; false when the job is not (or no longer) this agent's.</summary>
    private async Task<bool> SendAsync(SpooledItem item, CancellationToken cancellationToken)
    {
        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SendOnceAsync(item, cancellationToken);
                return true;
            }
            catch (LabServerException e) when (e.Status is (int)HttpStatusCode.NotFound or (int)HttpStatusCode.Conflict)
            {
                _log.LogError("Job {Job}: the server refuses its results ({Error}); dropping the spool", JobId, e.Message);
                return false;
            }
            catch (LabServerException e) when (e.Status is >= 400 and < 500 and not ((int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests))
            {
                // Malformed by the server's rules: resending cannot help, and must not hold up the items behind it.
                _log.LogError("Job {Job}: the server refused {Item}: {Error}", JobId, item, e.Message);
                return true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested
                && e is LabServerException or HttpRequestException or TimeoutRejectedException or OperationCanceledException or AgentAuthException or IOException)
            {
                if (attempt == 1 || attempt % 20 == 0)
                    _log.LogWarning("Job {Job}: the server does not take {Item} yet (attempt {Attempt}), keeping it spooled: {Error}", JobId, item, attempt, e.Message);
                await Task.Delay(delay, _time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetry.Ticks));
            }
        }
    }

    private async Task SendOnceAsync(SpooledItem item, CancellationToken cancellationToken)
    {
        if (item.Boot is { } boot)
        {
            try
            {
                await _server.PostBootAsync(JobId, boot, cancellationToken);
            }
            catch (LabServerException e) when (e.Status == (int)HttpStatusCode.RequestEntityTooLarge)
            {
                // Too large even after BootReportFit (a server whose limit is below what it published, or a report
                // spooled before the limits were known): the boot goes without its lists, counted as cut, so it is
                // stored and judged, not lost and retried as an infrastructure error. A second 413 is not retried.
                var stripped = BootReportFit.Stripped(boot, ReportLimits.Default.TextChars);
                _log.LogWarning("Job {Job}: boot report {Index} too large for the server ({Error}); sending it without {Cut}", JobId, boot.Index, e.Message, stripped.Cut);
                await _server.PostBootAsync(JobId, stripped, cancellationToken);
            }
        }
        else if (item.Completion is { } completion)
        {
            await _server.CompleteAsync(JobId, completion, cancellationToken);
        }
        else if (item is { ArtifactName: { } name, ArtifactFile: { } file })
        {
            try
            {
                await _server.PutArtifactAsync(JobId, name, file, cancellationToken);
            }
            catch (LabServerException e) when (e.Status is (int)HttpStatusCode.RequestEntityTooLarge or (int)HttpStatusCode.BadRequest)
            {
                // Over the server's limit, or an ELF that gives no symbols: symbols are lost, the boots are not.
                // The console line is how the run says so.
                var what = name == "kernel.elf" ? "findings and profiles stay unsymbolized" : "its profile frames stay unnamed";
                _log.LogWarning("Job {Job}: {Name} not stored: {Error}", JobId, name, e.Message);
                Console.Add(new ConsoleLine(-1, _time.GetUtcNow(), $"lab: {name} not stored, {what}: {e.Message}"));
            }
        }
    }
}

/// <summary>One spooled upload, as stored in <c>items/NNNNNN.json</c>: exactly one of boot, artifact or completion.</summary>
public sealed record SpooledItem(
    int Sequence,
    BootReport? Boot = null,
    string? ArtifactName = null,
    string? ArtifactFile = null,
    JobCompletion? Completion = null)
{
    public override string ToString() =>
        Boot is { } b ? $"boot report {b.Index}" : Completion is not null ? "the completion" : $"artifact {ArtifactName}";
}
