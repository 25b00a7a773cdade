using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Jobs;

/// <summary>
/// One boot: power on, read the console into lines stamped with host time, judge them with a
/// <see cref="BootConsole"/>, upload them, power off. Stops when the console says the boot ended,
/// when the machine stops by itself (how it stopped judges a boot that printed no end), when the
/// console stayed silent for <c>boot.silence</c>, or at <c>boot.timeout</c>.
/// </summary>
public sealed class BootRunner(TimeProvider time, ILogger<BootRunner> log)
{
    /// <summary>After the end (or a panic) the kernel may still print a backtrace: keep reading this long.</summary>
    public static readonly TimeSpan AfterEndWindow = TimeSpan.FromSeconds(1);

    /// <summary>After the machine stopped, what it wrote may still sit in the console pipe: drain it this long.</summary>
    public static readonly TimeSpan ExitDrainWindow = TimeSpan.FromSeconds(2);

    public async Task<BootReport> RunAsync(
        int index,
        PipelineDefinition pipeline,
        MachineRequirements requirements,
        BootMedia media,
        IMachine machine,
        IConsoleSink console,
        CancellationToken cancellationToken)
    {
        // What the lab does for this boot (retries, breaker changes, console gaps) goes into the job's
        // console as "lab:" lines, beside the kernel's output but not judged as it.
        void LabEvent(string message) => console.Add(new ConsoleLine(index, time.GetUtcNow(), $"lab: {message}"));
        var events = machine as ILabEventSource;
        if (events is not null)
            events.LabEvent += LabEvent;
        using var unsubscribe = new ActionOnDispose(() =>
        {
            if (events is not null)
                events.LabEvent -= LabEvent;
        });

        // Power-on first: starting the machine (QEMU's start and QMP hand-shake, a PC's power switch) is the
        // lab's time, bounded by the driver and the job timeout; the boot's clocks start when it is on.
        IMachineSession session;
        try
        {
            session = await machine.PowerOnAsync(media, requirements, cancellationToken);
        }
        catch (Exception e) when (e is not (OperationCanceledException or LabInfraException))
        {
            throw new LabInfraException($"{machine.Info.Name}: power-on failed: {e.Message}", e);
        }

        var poweredOnAt = time.GetUtcNow();
        var boot = new BootConsole(pipeline, poweredOnAt);
        using var bootTimeout = new CancellationTokenSource(pipeline.Boot.Timeout, time);
        using var windDown = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        // Restarted by every read that brought bytes: it fires after boot.silence without any.
        using var silence = new CancellationTokenSource(pipeline.Boot.Silence ?? Timeout.InfiniteTimeSpan, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bootTimeout.Token, windDown.Token, silence.Token);

        // Disposing the session powers the machine off: on every path out of here, cancellation included.
        await using (session)
        {
            _ = session.Exited.ContinueWith(_ => CancelAfter(windDown, ExitDrainWindow), TaskScheduler.Default);
            var endSeen = false;
            var splitter = new ConsoleLineSplitter();
            void Take(RawConsoleLine line)
            {
                var at = time.GetUtcNow();
                var lineIndex = console.Add(new ConsoleLine(index, at, line.Text));
                boot.Accept(line, at, lineIndex);
                if (boot.Ended && !endSeen)
                {
                    endSeen = true;
                    CancelAfter(windDown, AfterEndWindow);
                }
            }

            var buffer = new byte[4096];
            var eof = false;
            try
            {
                while (true)
                {
                    var n = await session.Console.ReadAsync(buffer, stop.Token).AsTask().WaitAsync(stop.Token);
                    if (n == 0)
                    {
                        eof = true;
                        break;
                    }

                    if (pipeline.Boot.Silence is { } quiet && !silence.IsCancellationRequested)
                        silence.CancelAfter(quiet);

                    foreach (var line in splitter.Feed(buffer.AsSpan(0, n)))
                        Take(line);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Boot timeout, the end seen, or the machine stopped: all judged below.
            }
            catch (IOException e)
            {
                log.LogWarning("{Machine}: console read failed: {Error}", machine.Info.Name, e.Message);
            }

            if (splitter.Flush() is { } rest)
                Take(rest);
            var endedAt = time.GetUtcNow();
            if (eof && !session.Exited.IsCompleted)
            {
                // The console closes as the machine stops; its exit status follows a moment later.
                await ((Task)session.Exited).WaitAsync(ExitDrainWindow, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var stoppedByItself = session.Exited.IsCompleted;
            var silent = silence.IsCancellationRequested && !bootTimeout.IsCancellationRequested && !stoppedByItself;
            var exit = stoppedByItself ? await session.Exited : null;
            await session.PowerOffAsync();

            var how = exit?.Stop ?? (silent ? BootStop.Silence : bootTimeout.IsCancellationRequested ? BootStop.Timeout : BootStop.Exited);
            var report = boot.ToReport(index, endedAt, timedOut: !boot.Ended, how);
            if (!boot.Ended)
            {
                var why = exit is not null ? exit.Description
                    : silent ? $"the console was silent for {pipeline.Boot.Silence} (boot.silence)"
                    : bootTimeout.IsCancellationRequested ? $"boot timeout ({pipeline.Boot.Timeout}) passed"
                    : "the console closed";
                report = report with { Detail = report.Detail is null ? why : $"{report.Detail}; {why}" };
            }
            else if (exit is { Stop: BootStop.GuestPanic })
            {
                // The kernel said how it ended, and its panic device confirmed it (QMP GUEST_PANICKED).
                report = report with { Detail = $"{report.Detail}; {exit.Description}" };
            }

            log.LogInformation("{Machine}: boot {Index} {Outcome}: {Detail}", machine.Info.Name, index, report.Outcome.ToName(), report.Detail);
            return report;
        }
    }

    private sealed class ActionOnDispose(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    private static void CancelAfter(CancellationTokenSource cts, TimeSpan delay)
    {
        try
        {
            cts.CancelAfter(delay);
        }
        catch (ObjectDisposedException)
        {
            // The boot is already over.
        }
    }
}
