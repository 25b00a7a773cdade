using System.Diagnostics;
using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>One QEMU process: its stdout is the console, its stderr is kept (tail) for the boot report's detail.</summary>
public sealed class QemuSession : IMachineSession
{
    private const int StderrTailLines = 10;

    private readonly Process _process;
    private readonly ILogger _log;
    private readonly QmpEvents _qmp;
    private readonly string _dir;
    private readonly Action<QemuSession> _onEnd;
    private readonly Queue<string> _stderrTail = new();
    private readonly Task _stderrPump;
    private int _poweredOff;
    private volatile bool _killed;

    internal QemuSession(Process process, ILogger log, QmpEvents qmp, string dir, Action<QemuSession> onEnd)
    {
        _process = process;
        _log = log;
        _qmp = qmp;
        _dir = dir;
        _onEnd = onEnd;
        ProcessId = process.Id;
        _stderrPump = PumpStderrAsync();
        Exited = WaitExitAsync();
    }

    public int ProcessId { get; }

    /// <summary>True once the process ended and the end callback is running or ran.</summary>
    public bool HasEnded => _ended;

    private volatile bool _ended;
    private int _disposed;

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
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
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
        await _qmp.DisposeAsync();
        QemuMachine.TryDelete(_dir);
    }

    private async Task<MachineExit> WaitExitAsync()
    {
        await _process.WaitForExitAsync();
        await _stderrPump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // QEMU writes its last event before it exits; the socket's end says every event is in.
        await _qmp.Closed.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ended = true;
        _onEnd(this);
        var code = _process.ExitCode;
        string tail;
        lock (_stderrTail)
            tail = string.Join(" | ", _stderrTail);
        var stop = _killed ? BootStop.None : _qmp.Stop;
        var what = _killed ? "powered off by the agent"
            : stop switch
            {
                BootStop.PoweredOff => "the guest powered the machine off",
                BootStop.Reset => "the guest reset the machine (a reboot or a triple fault; -no-reboot)",
                BootStop.GuestPanic => "the guest's panic device reported a panic",
                _ when code == 0 => $"qemu exited with status 0 ({_qmp.ShutdownReason ?? "no shutdown event"})",
                _ when (code & 1) == 1 => $"qemu exited: isa-debug-exit wrote {code >> 1} (status {code})",
                _ => $"qemu exited with status {code}",
            };
        return new MachineExit(code, tail.Length > 0 ? $"{what}; stderr: {tail}" : what, stop == BootStop.None ? BootStop.Exited : stop);
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
