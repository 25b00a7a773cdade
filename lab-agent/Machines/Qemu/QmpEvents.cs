using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Agent.Machines.Qemu;

/// <summary>
/// QEMU's machine protocol (QMP) on a unix socket, used for one thing: learning why the guest stopped.
/// The QEMU process starts paused (<c>-S</c>); <see cref="ConnectAsync"/> negotiates capabilities and
/// lets the guest run (<c>cont</c>), so no event can be lost to a race with the guest. Events read:
/// <c>SHUTDOWN</c> (<c>reason</c> guest-shutdown, guest-reset, guest-panic, host-…),
/// <c>GUEST_PANICKED</c> and <c>RESET</c>.
/// </summary>
/// <remarks>
/// Our own code: QMP is newline-delimited JSON and the lab needs three commands and three events; no
/// maintained .NET QMP client exists (NuGet has none we could vouch for).
/// </remarks>
public sealed class QmpEvents : IAsyncDisposable
{
    private readonly Socket? _socket;
    private readonly StreamReader? _reader;
    private readonly NetworkStream? _stream;
    private volatile string? _shutdownReason;
    private volatile bool _panicked;
    private volatile bool _reset;

    private QmpEvents(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    private QmpEvents()
    {
    }

    /// <summary>For a QEMU that exited before its QMP socket answered: no events, nothing to read.</summary>
    public static QmpEvents None() => new();

    /// <summary>Completes when QEMU closed the socket (it exited); events seen until then are in.</summary>
    public Task Closed { get; private set; } = Task.CompletedTask;

    /// <summary>How the guest stopped, from the events so far; <see cref="BootStop.None"/> when none said.</summary>
    public BootStop Stop => _panicked ? BootStop.GuestPanic
        : _shutdownReason switch
        {
            "guest-shutdown" => BootStop.PoweredOff,
            "guest-reset" => BootStop.Reset,
            "guest-panic" => BootStop.GuestPanic,
            null => _reset ? BootStop.Reset : BootStop.None,
            _ => BootStop.Exited,
        };

    /// <summary>The SHUTDOWN event's reason, when one arrived.</summary>
    public string? ShutdownReason => _shutdownReason;

    /// <summary>Connects to the socket QEMU listens on (retrying while QEMU starts), negotiates, and resumes the guest.</summary>
    /// <exception cref="LabInfraException">QEMU's QMP did not answer as it should within <paramref name="timeout"/>.</exception>
    public static async Task<QmpEvents> ConnectAsync(string path, TimeSpan timeout, Func<bool> qemuAlive, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        Socket? socket = null;
        try
        {
            while (true)
            {
                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), deadline.Token);
                    break;
                }
                catch (SocketException) when (qemuAlive())
                {
                    socket.Dispose();
                    socket = null;
                    await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
                }
            }

            var qmp = new QmpEvents(socket);
            socket = null;
            try
            {
                await qmp.ExpectAsync("QMP", deadline.Token);
                await qmp.CommandAsync("qmp_capabilities", deadline.Token);
                await qmp.CommandAsync("cont", deadline.Token);
            }
            catch
            {
                await qmp.DisposeAsync();
                throw;
            }

            qmp.Closed = qmp.ReadEventsAsync();
            return qmp;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or JsonException && !ct.IsCancellationRequested)
        {
            throw new LabInfraException($"qemu's QMP socket {path} did not answer: {e.Message}", e);
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private async Task CommandAsync(string command, CancellationToken ct)
    {
        await _stream!.WriteAsync(Encoding.UTF8.GetBytes($"{{\"execute\":\"{command}\"}}\n"), ct);
        await ExpectAsync("return", ct);
    }

    /// <summary>Reads messages until one has <paramref name="key"/>; events in between are taken; an error is fatal.</summary>
    private async Task ExpectAsync(string key, CancellationToken ct)
    {
        while (true)
        {
            string line = await _reader!.ReadLineAsync(ct) ?? throw new IOException("QMP closed during negotiation");
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty(key, out _))
            {
                return;
            }

            if (doc.RootElement.TryGetProperty("error", out var error))
            {
                throw new IOException($"QMP error: {error}");
            }

            Take(doc.RootElement);
        }
    }

    private async Task ReadEventsAsync()
    {
        try
        {
            while (await _reader!.ReadLineAsync() is { } line)
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    Take(doc.RootElement);
                }
                catch (JsonException)
                {
                    // Not ours to judge: QEMU's own output; the event we need is a well-formed line.
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // QEMU went away: the events read so far are all there is.
        }
    }

    private void Take(JsonElement message)
    {
        if (!message.TryGetProperty("event", out var name))
        {
            return;
        }

        switch (name.GetString())
        {
            case "SHUTDOWN":
                if (_shutdownReason is null && message.TryGetProperty("data", out var data) && data.TryGetProperty("reason", out var reason))
                {
                    _shutdownReason = reason.GetString();
                }

                break;
            case "GUEST_PANICKED":
                _panicked = true;
                break;
            case "RESET":
                _reset = true;
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        await Closed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _reader?.Dispose();
        if (_stream is not null)
            await _stream.DisposeAsync();
    }
}
