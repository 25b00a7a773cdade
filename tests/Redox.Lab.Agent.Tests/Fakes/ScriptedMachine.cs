using System.IO.Pipelines;
using System.Text;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>A machine whose console is written by a script, one script run per power-on.</summary>
public sealed class ScriptedMachine(Func<ScriptedSession, Task> script, string name = "fake-0") : IMachine
{
    private readonly List<ScriptedSession> _sessions = [];

    public MachineInfo Info { get; } = new(name, "fake", ["qemu", "x86_64"], 1, 256);

    public IReadOnlyList<ScriptedSession> Sessions
    {
        get
        {
            lock (_sessions)
                return [.. _sessions];
        }
    }

    public List<(BootMedia Media, MachineRequirements Requirements)> PowerOns { get; } = [];

    /// <summary>Completes at the first power-on.</summary>
    public TaskCompletionSource<ScriptedSession> PoweredOn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<IMachineSession> PowerOnAsync(BootMedia media, MachineRequirements requirements, CancellationToken cancellationToken)
    {
        var session = new ScriptedSession(Sessions.Count);
        lock (_sessions)
        {
            _sessions.Add(session);
            PowerOns.Add((media, requirements));
        }

        session.Script = Task.Run(() => script(session), CancellationToken.None);
        PoweredOn.TrySetResult(session);
        return Task.FromResult<IMachineSession>(session);
    }
}

/// <summary>One scripted power-on: the script writes console bytes and may stop the machine.</summary>
public sealed class ScriptedSession : IMachineSession
{
    private readonly Pipe _pipe = new();
    private readonly TaskCompletionSource<MachineExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CountingStream _console;

    public ScriptedSession(int index)
    {
        Index = index;
        _console = new CountingStream(_pipe.Reader.AsStream());
    }

    public int Index { get; }

    /// <summary>The script's run; a script that returns without <see cref="ExitAsync"/> leaves the machine hanging.</summary>
    public Task Script { get; internal set; } = Task.CompletedTask;

    public Stream Console => _console;

    public Task<MachineExit> Exited => _exited.Task;

    public bool PoweredOff { get; private set; }

    public long BytesWritten { get; private set; }

    /// <summary>True while the reader waits for more bytes, having taken all that was written.</summary>
    public bool ReaderIdle => _console.PendingRead && _console.BytesRead == BytesWritten;

    public async Task WriteAsync(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await WriteAsync(bytes);
    }

    public async Task WriteAsync(byte[] bytes)
    {
        BytesWritten += bytes.Length;
        try
        {
            await _pipe.Writer.WriteAsync(bytes);
        }
        catch (InvalidOperationException)
        {
            // Powered off: the wire is cut.
        }
    }

    public Task WriteLinesAsync(params string[] lines) => WriteAsync(string.Concat(lines.Select(l => l + "\n")));

    /// <summary>The machine stops by itself (QEMU: isa-debug-exit, or a reset with -no-reboot).</summary>
    public async Task ExitAsync(int code, string description)
    {
        _exited.TrySetResult(new MachineExit(code, description));
        await _pipe.Writer.CompleteAsync();
    }

    /// <summary>Waits until the script is done and the reader consumed everything it wrote and waits for more.</summary>
    public async Task WaitReaderIdleAsync()
    {
        await Script.WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!ReaderIdle)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"reader not idle: read {_console.BytesRead} of {BytesWritten}, pending {_console.PendingRead}");
            await Task.Delay(5);
        }
    }

    public async Task PowerOffAsync()
    {
        PoweredOff = true;
        _exited.TrySetResult(new MachineExit(null, "powered off by the agent"));
        await _pipe.Writer.CompleteAsync();
    }

    public async ValueTask DisposeAsync() => await PowerOffAsync();

    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _read;
        private int _pending;

        public long BytesRead => Interlocked.Read(ref _read);

        public bool PendingRead => Volatile.Read(ref _pending) > 0;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _pending);
            try
            {
                var n = await inner.ReadAsync(buffer, cancellationToken);
                Interlocked.Add(ref _read, n);
                return n;
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
