using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Redox.Lab.Agent.Boot.Tftp;

/// <summary>
/// A read-only TFTP server (RFC 1350) with option negotiation (RFC 2347) and the blksize (RFC 2348),
/// timeout and tsize (RFC 2349) options, for PXE firmware that can only fetch iPXE or GRUB that way.
/// It serves exactly the files <see cref="Find"/> names (the firmware files) and nothing else: no
/// paths, no writes. Each transfer runs on its own socket (the TID of RFC 1350), retransmits on
/// timeout and ignores duplicate ACKs (no Sorcerer's Apprentice). Protocol notes: Boot/README.md.
/// Our own code: no maintained .NET TFTP server library exists; the protocol is small.
/// </summary>
public sealed class TftpServer(IPEndPoint listen, Func<string, string?> find, TimeProvider time, ILogger log) : IAsyncDisposable
{
    public const ushort OpRrq = 1, OpWrq = 2, OpData = 3, OpAck = 4, OpError = 5, OpOack = 6;
    public const int DefaultBlockSize = 512;

    /// <summary>Larger blocks fragment on a 1500-byte Ethernet; PXE firmware asks for 1432 or 1468.</summary>
    public const int MaxBlockSize = 1468;

    public const int MaxRetransmits = 5;
    public const int MaxTransfers = 64;

    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxTransfers, MaxTransfers);
    private Socket? _socket;
    private Task? _loop;

    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The bound address (port 0 in the configuration picks a free one).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? listen);

    /// <summary>Completed transfers: client, file, bytes, block size.</summary>
    public event Action<IPEndPoint, string, long, int>? Served;

    public void Start()
    {
        _socket = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(listen);
        _loop = Task.Run(() => ListenAsync(_stop.Token));
        log.LogInformation("TFTP server on {Endpoint}", LocalEndPoint);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket?.Dispose();
        if (_loop is not null)
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task ListenAsync(CancellationToken stop)
    {
        var buffer = new byte[1500];
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket!.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(listen.Address, 0), stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // ICMP port unreachable from an earlier client surfaces here on Linux: not our problem.
                log.LogDebug("TFTP receive: {Error}", e.Message);
                continue;
            }

            var client = (IPEndPoint)received.RemoteEndPoint;
            var packet = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            if (!TryParseRequest(packet, out var request, out var problem))
            {
                await SendErrorAsync(_socket!, client, problem.Code, problem.Message);
                continue;
            }

            if (request.Opcode == OpWrq)
            {
                await SendErrorAsync(_socket!, client, 2, "this server is read-only");
                continue;
            }

            if (!_slots.Wait(0))
            {
                await SendErrorAsync(_socket!, client, 0, "server busy, try again");
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await TransferAsync(client, request, stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning("TFTP {File} to {Client} failed: {Error}", request.File, client, e.Message);
                }
                finally
                {
                    _slots.Release();
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>A parsed RRQ/WRQ: file, mode and options (names lower-cased).</summary>
    public sealed record Request(ushort Opcode, string File, string Mode, IReadOnlyDictionary<string, string> Options);

    public static bool TryParseRequest(ReadOnlySpan<byte> packet, out Request request, out (ushort Code, string Message) problem)
    {
        request = null!;
        problem = default;
        if (packet.Length < 4)
        {
            problem = (4, "packet too short");
            return false;
        }

        var op = BinaryPrimitives.ReadUInt16BigEndian(packet);
        if (op is not (OpRrq or OpWrq))
        {
            problem = (4, $"opcode {op} is not a request");
            return false;
        }

        // filename NUL mode NUL [option NUL value NUL]*
        var fields = new List<string>();
        var rest = packet[2..];
        while (rest.Length > 0)
        {
            var nul = rest.IndexOf((byte)0);
            if (nul < 0)
            {
                problem = (4, "request field not NUL-terminated");
                return false;
            }

            fields.Add(Encoding.ASCII.GetString(rest[..nul]));
            rest = rest[(nul + 1)..];
        }

        if (fields.Count < 2 || fields.Count % 2 != 0)
        {
            problem = (4, "malformed request");
            return false;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i < fields.Count; i += 2)
            options[fields[i].ToLowerInvariant()] = fields[i + 1];
        request = new Request(op, fields[0], fields[1].ToLowerInvariant(), options);
        return true;
    }

    private async Task TransferAsync(IPEndPoint client, Request request, CancellationToken stop)
    {
        using var socket = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(listen.Address, 0));
        if (request.Mode != "octet")
        {
            await SendErrorAsync(socket, client, 0, $"mode '{request.Mode}' not supported: octet only");
            return;
        }

        var name = request.File.TrimStart('/');
        if (find(name) is not { } path)
        {
            log.LogInformation("TFTP {Client}: {File} not found", client, request.File);
            await SendErrorAsync(socket, client, 1, "file not found");
            return;
        }

        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(path, stop);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await SendErrorAsync(socket, client, 2, "cannot read file");
            return;
        }

        var (blockSize, timeout, oack) = Negotiate(request.Options, data.Length, DefaultTimeout);
        if (oack is not null)
        {
            if (!await SendAndAwaitAckAsync(socket, client, oack, 0, timeout, stop))
                return;
        }

        long sent = 0;
        var block = 1;
        while (true)
        {
            var count = (int)Math.Min(blockSize, data.Length - sent);
            var packet = new byte[4 + count];
            BinaryPrimitives.WriteUInt16BigEndian(packet, OpData);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)block);
            data.AsSpan((int)sent, count).CopyTo(packet.AsSpan(4));
            if (!await SendAndAwaitAckAsync(socket, client, packet, (ushort)block, timeout, stop))
                return;
            sent += count;
            if (count < blockSize)
                break;
            block = (block + 1) & 0xffff; // rolls over to 0 for files over 65535 blocks, as most clients expect
        }

        log.LogInformation("TFTP {Client}: sent {File} ({Bytes} bytes, blksize {BlockSize})", client, name, data.Length, blockSize);
        Served?.Invoke(client, name, data.Length, blockSize);
    }

    /// <summary>Which options the server accepts, with the values it answers (RFC 2347-2349); null OACK when none.</summary>
    public static (int BlockSize, TimeSpan Timeout, byte[]? Oack) Negotiate(IReadOnlyDictionary<string, string> options, long fileSize, TimeSpan defaultTimeout)
    {
        var blockSize = DefaultBlockSize;
        var timeout = defaultTimeout;
        var accepted = new List<(string, string)>();
        if (options.TryGetValue("blksize", out var b) && int.TryParse(b, System.Globalization.CultureInfo.InvariantCulture, out var requested) && requested >= 8 && requested <= 65464)
        {
            blockSize = Math.Min(requested, MaxBlockSize);
            accepted.Add(("blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (options.TryGetValue("timeout", out var t) && int.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 255)
        {
            timeout = TimeSpan.FromSeconds(seconds);
            accepted.Add(("timeout", t));
        }

        if (options.ContainsKey("tsize"))
            accepted.Add(("tsize", fileSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (accepted.Count == 0)
            return (blockSize, timeout, null);

        var oack = new List<byte> { 0, (byte)OpOack };
        foreach (var (k, v) in accepted)
        {
            oack.AddRange(Encoding.ASCII.GetBytes(k));
            oack.Add(0);
            oack.AddRange(Encoding.ASCII.GetBytes(v));
            oack.Add(0);
        }

        return (blockSize, timeout, oack.ToArray());
    }

    private async Task<bool> SendAndAwaitAckAsync(Socket socket, IPEndPoint client, byte[] packet, ushort block, TimeSpan timeout, CancellationToken stop)
    {
        var buffer = new byte[1500];
        for (var attempt = 0; attempt <= MaxRetransmits; attempt++)
        {
            await socket.SendToAsync(packet, SocketFlags.None, client, stop);
            using var timer = new CancellationTokenSource(timeout, time);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop, timer.Token);
            while (true)
            {
                SocketReceiveFromResult r;
                try
                {
                    r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(listen.Address, 0), wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    break; // timeout: retransmit
                }
                catch (SocketException)
                {
                    break;
                }

                var from = (IPEndPoint)r.RemoteEndPoint;
                if (!from.Equals(client))
                {
                    await SendErrorAsync(socket, from, 5, "unknown transfer ID");
                    continue;
                }

                var span = buffer.AsSpan(0, r.ReceivedBytes);
                if (span.Length >= 4 && BinaryPrimitives.ReadUInt16BigEndian(span) == OpError)
                {
                    log.LogInformation("TFTP {Client} aborted: {Message}", client, Encoding.ASCII.GetString(span[4..]).TrimEnd('\0'));
                    return false;
                }

                if (span.Length >= 4 && BinaryPrimitives.ReadUInt16BigEndian(span) == OpAck && BinaryPrimitives.ReadUInt16BigEndian(span[2..]) == block)
                    return true;
                // A duplicate ACK of an earlier block: wait on, never resend because of it.
            }
        }

        log.LogWarning("TFTP {Client}: no ACK for block {Block} after {Tries} tries", client, block, MaxRetransmits + 1);
        return false;
    }

    private static async Task SendErrorAsync(Socket socket, IPEndPoint to, ushort code, string message)
    {
        var bytes = new byte[4 + Encoding.ASCII.GetByteCount(message) + 1];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, OpError);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), code);
        Encoding.ASCII.GetBytes(message, bytes.AsSpan(4));
        try
        {
            await socket.SendToAsync(bytes, SocketFlags.None, to);
        }
        catch (SocketException)
        {
            // The client is gone.
        }
    }
}
