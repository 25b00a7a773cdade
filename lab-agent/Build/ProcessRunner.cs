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
        CancellationToken cancellationToken)
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
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            start.Environment[k] = v;

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new LabInfraException($"cannot start '{fileName}'");
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
