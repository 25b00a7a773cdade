using System.ComponentModel;
using System.Diagnostics;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Agent.Build;

/// <summary>What a child process did: its exit status and its last output lines (stdout and stderr interleaved by line).</summary>
public sealed record ProcessResult(int ExitCode, IReadOnlyList<string> Tail);

/// <summary>
/// Runs a child process, cutting its stdout and stderr into console lines as they arrive.
/// Cancellation kills the whole process tree (a build's <c>make</c> and its compilers).
/// Children are started from <see cref="SpawnThread"/>, so a parent-death signal they set fires when the agent dies.
/// </summary>
public static class ProcessRunner
{
    public const int TailLines = 30;

    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string>? environment,
        Action<RawConsoleLine>? onLine,
        CancellationToken cancellationToken,
        bool clearEnvironment = false)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        // A build inherits nothing of the agent's environment (whatever a service manager or a script put there).
        if (clearEnvironment)
            start.Environment.Clear();
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            start.Environment[k] = v;

        Process process;
        try
        {
            process = await SpawnThread.StartAsync(start) ?? throw new LabInfraException($"cannot start '{fileName}'");
        }
        catch (Win32Exception e)
        {
            throw new LabInfraException($"cannot start '{fileName}': {e.Message}", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            var tail = new Queue<string>();
            void Take(RawConsoleLine line)
            {
                lock (tail)
                {
                    tail.Enqueue(line.Text);
                    while (tail.Count > TailLines)
                        tail.Dequeue();
                }

                onLine?.Invoke(line);
            }

            var readers = Task.WhenAll(
                PumpAsync(process.StandardOutput.BaseStream, Take),
                PumpAsync(process.StandardError.BaseStream, Take));
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                throw;
            }

            // A daemon started by the command may hold the pipes open: do not wait for it forever.
            await readers.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            lock (tail)
                return new ProcessResult(process.ExitCode, [.. tail]);
        }
    }

    private static async Task PumpAsync(Stream stream, Action<RawConsoleLine> take)
    {
        var splitter = new ConsoleLineSplitter();
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                foreach (var line in splitter.Feed(buffer.AsSpan(0, n)))
                    take(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process was killed under us; what was read is kept.
        }

        if (splitter.Flush() is { } rest)
            take(rest);
    }
}

/// <summary>
/// Starts child processes from one thread that lives as long as the agent. Linux sends a child's parent-death
/// signal (bwrap's <c>--die-with-parent</c>, PR_SET_PDEATHSIG) when the <em>thread</em> that forked it exits, and
/// .NET retires idle thread-pool threads: a build started from a pool thread could be killed in mid-build.
/// </summary>
internal static class SpawnThread
{
    private static readonly System.Collections.Concurrent.BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process?> Done)> Queue = [];
    private static readonly Lazy<Thread> Thread = new(() =>
    {
        var thread = new Thread(Loop) { IsBackground = true, Name = "lab-agent process spawner" };
        thread.Start();
        return thread;
    });

    public static Task<Process?> StartAsync(ProcessStartInfo start)
    {
        _ = Thread.Value;
        var done = new TaskCompletionSource<Process?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue.Add((start, done));
        return done.Task;
    }

    private static void Loop()
    {
        foreach (var (start, done) in Queue.GetConsumingEnumerable())
        {
            try
            {
                done.SetResult(Process.Start(start));
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }
    }
}
