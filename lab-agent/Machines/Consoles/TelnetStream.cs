using System.Buffers.Binary;

namespace Redox.Lab.Agent.Machines.Consoles;

/// <summary>The serial settings RFC 2217 sends to the access server.</summary>
public sealed record ComPortSettings(int Baud, SerialFraming Framing);

/// <summary>
/// The read side of a telnet connection (RFC 854): data bytes pass through, IAC IAC is a 0xFF data
/// byte, commands and subnegotiations are removed, and every option the server offers or asks for is
/// refused, except the ones a console needs (binary, suppress-go-ahead and, with RFC 2217, the
/// COM-PORT-OPTION 44). With <see cref="ComPortSettings"/> it offers COM-PORT-OPTION and sets baud,
/// data size, parity and stop size (RFC 2217 commands 1-4).
/// Our own code: no maintained .NET telnet library reads a byte stream with RFC 2217; this is a
/// small state machine over the one read path a console needs.
/// </summary>
public sealed class TelnetStream(Stream inner, ComPortSettings? comPort) : Stream
{
    public const byte Iac = 255, Dont = 254, Do = 253, Wont = 252, Will = 251, Sb = 250, Se = 240;
    public const byte OptBinary = 0, OptSuppressGoAhead = 3, OptComPort = 44;

    private enum State { Data, Iac, Option, Sub, SubIac }

    private readonly byte[] _raw = new byte[4096];
    private State _state;
    private byte _verb;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var hello = new List<byte> { Iac, Do, OptSuppressGoAhead, Iac, Will, OptBinary, Iac, Do, OptBinary };
        if (comPort is { } c)
        {
            hello.AddRange([Iac, Will, OptComPort]);
            var baud = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(baud, c.Baud);
            hello.AddRange(SubNegotiation(1, baud));
            hello.AddRange(SubNegotiation(2, [(byte)c.Framing.DataBits]));
            hello.AddRange(SubNegotiation(3, [c.Framing.Parity switch { 'N' => 1, 'O' => 2, 'E' => 3, 'M' => 4, _ => 5 }]));
            hello.AddRange(SubNegotiation(4, [c.Framing.StopBits == 2 ? (byte)2 : (byte)1]));
        }

        await inner.WriteAsync(hello.ToArray(), cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    /// <summary>IAC SB 44 command value (with IAC doubled) IAC SE.</summary>
    public static byte[] SubNegotiation(byte command, byte[] value)
    {
        var bytes = new List<byte> { Iac, Sb, OptComPort, command };
        foreach (var b in value)
        {
            bytes.Add(b);
            if (b == Iac)
                bytes.Add(Iac);
        }

        bytes.AddRange([Iac, Se]);
        return [.. bytes];
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var n = await inner.ReadAsync(_raw.AsMemory(0, Math.Min(_raw.Length, buffer.Length)), cancellationToken);
            if (n == 0)
                return 0;
            var (written, replies) = Filter(_raw.AsSpan(0, n), buffer.Span);
            if (replies.Count > 0)
            {
                await inner.WriteAsync(replies.ToArray(), cancellationToken);
                await inner.FlushAsync(cancellationToken);
            }

            if (written > 0)
                return written;
        }
    }

    /// <summary>Copies the data bytes of <paramref name="input"/> to <paramref name="output"/>; returns how many and the answers owed to the server.</summary>
    internal (int Written, List<byte> Replies) Filter(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var written = 0;
        var replies = new List<byte>();
        foreach (var b in input)
        {
            switch (_state)
            {
                case State.Data:
                    if (b == Iac)
                        _state = State.Iac;
                    else
                        output[written++] = b;
                    break;
                case State.Iac:
                    if (b == Iac)
                    {
                        output[written++] = Iac;
                        _state = State.Data;
                    }
                    else if (b is Will or Wont or Do or Dont)
                    {
                        _verb = b;
                        _state = State.Option;
                    }
                    else
                    {
                        _state = b == Sb ? State.Sub : State.Data;
                    }

                    break;
                case State.Option:
                    Answer(_verb, b, replies);
                    _state = State.Data;
                    break;
                case State.Sub:
                    if (b == Iac)
                        _state = State.SubIac;
                    break;
                case State.SubIac:
                    _state = b == Se ? State.Data : State.Sub;
                    break;
            }
        }

        return (written, replies);
    }

    private void Answer(byte verb, byte option, List<byte> replies)
    {
        var wanted = option is OptBinary or OptSuppressGoAhead || (option == OptComPort && comPort is not null);
        switch (verb)
        {
            // Answering only what we did not already say avoids the negotiation loops RFC 854 warns of.
            case Will when !wanted:
                replies.AddRange([Iac, Dont, option]);
                break;
            case Do when !wanted:
                replies.AddRange([Iac, Wont, option]);
                break;
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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
