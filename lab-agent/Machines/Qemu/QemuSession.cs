using System.Diagnostics;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>One QEMU process: its stdout is the console, its stderr is kept (tail) for the boot report's detail.</summary>
public sealed class QemuSession : IMachineSession
{
    private const int StderrTailLines = 10;

    private readonly Process _process;
    private readonly ILogger _log;
    private readonly Action<QemuSession> _onEnd;
    private readonly Queue<string> _stderrTail = new();
    private readonly Task _stderrPump;
    private int _poweredOff;
    private volatile bool _killed;

    internal QemuSession(Process process, ILogger log, Action<QemuSession> onEnd)
    {
        _process = process;
        _log = log;
        _onEnd = onEnd;
        ProcessId = process.Id;
        _stderrPump = PumpStderrAsync();
        Exited = WaitExitAsync();
    }

    public int ProcessId { get; }

    public Stream Console => _process.StandardOutput.BaseStream;

    public Task<MachineExit> Exited { get; }

    public async Task PowerOffAsync()
    {
        if (Interlocked.Exchange(ref _poweredOff, 1) == 0)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _killed = true;
                    _process.Kill(entireProcessTree: true);
                    _log.LogInformation("qemu pid {Pid}: powered off (killed)", ProcessId);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited between the check and the kill.
            }
        }

        // Kill is asynchronous; wait so the caller can rely on the process being gone.
        try
        {
            await Exited.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _log.LogError("qemu pid {Pid}: still running 10 s after SIGKILL", ProcessId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await PowerOffAsync();
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The pipe is already broken: nothing to close.
        }

        _process.Dispose();
    }

    private async Task<MachineExit> WaitExitAsync()
    {
        await _process.WaitForExitAsync();
        await _stderrPump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _onEnd(this);
        var code = _process.ExitCode;
        string tail;
        lock (_stderrTail)
            tail = string.Join(" | ", _stderrTail);
        var what = _killed ? "powered off by the agent"
            : code == 0 ? "qemu exited with status 0 (the machine reset or shut down; -no-reboot)"
            : (code & 1) == 1 ? $"qemu exited: isa-debug-exit wrote {code >> 1} (status {code})"
            : $"qemu exited with status {code}";
        return new MachineExit(code, tail.Length > 0 ? $"{what}; stderr: {tail}" : what);
    }

    private async Task PumpStderrAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                _log.LogDebug("qemu pid {Pid} stderr: {Line}", ProcessId, line);
                lock (_stderrTail)
                {
                    _stderrTail.Enqueue(line);
                    while (_stderrTail.Count > StderrTailLines)
                        _stderrTail.Dequeue();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process was disposed while we read: its stderr is of no further use.
        }
    }
}
