using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Machines.Consoles;

namespace Redox.Lab.Agent.Machines.Pc;

/// <summary>
/// One boot of a PC. The console is the reconnecting console's stream; a PC cannot say when it
/// stopped, so <see cref="Exited"/> stays pending and the boot ends on its end marker or timeout.
/// Power off: the PC's delivery is withdrawn (its next network boot gets "no job: power off"), the
/// console detached and the PC powered off through the <c>power</c> pipeline.
/// </summary>
public sealed class PcSession : IMachineSession
{
    private readonly PcMachine _machine;
    private readonly Delivery _delivery;
    private readonly ReconnectingConsole _console;
    private readonly TaskCompletionSource<MachineExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConsoleFailureStream _stream;
    private int _off;

    private readonly BootDeliveries _deliveries;

    internal PcSession(PcMachine machine, BootDeliveries deliveries, Delivery delivery, ReconnectingConsole console)
    {
        _deliveries = deliveries;
        _machine = machine;
        _delivery = delivery;
        _console = console;
        _stream = new ConsoleFailureStream(console.Stream, e => _ = machine.RecordInfraFailureAsync(e));
    }

    public Stream Console => _stream;

    public Task<MachineExit> Exited => _exited.Task;

    public IReadOnlyList<(DateTimeOffset Lost, DateTimeOffset Back)> ConsoleGaps => _console.Gaps;

    public async Task PowerOffAsync()
    {
        if (Interlocked.Exchange(ref _off, 1) != 0)
            return;
        await _machine.PowerOffQuietlyAsync();
        _exited.TrySetResult(new MachineExit(null, $"powered off by the agent through {_machine.Power.Describe}"));
    }

    public async ValueTask DisposeAsync()
    {
        await PowerOffAsync();
        await _console.DisposeAsync();
        _deliveries.Clear(_delivery);
    }

    /// <summary>Passes reads through; a lab failure of the console (lost for good) is counted against the machine's breaker once.</summary>
    private sealed class ConsoleFailureStream(Stream inner, Action<Exception> onInfraFailure) : Stream
    {
        private int _reported;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (LabInfraException e)
            {
                if (Interlocked.Exchange(ref _reported, 1) == 0)
                    onInfraFailure(e);
                throw;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
