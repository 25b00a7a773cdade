using System.Net.Sockets;

namespace Redox.Lab.Agent.Machines.Consoles;

/// <summary>
/// A console on a TCP port, as ser2net serves a serial port: raw bytes, telnet (RFC 854 with option
/// negotiation refused), or RFC 2217 (telnet plus COM-PORT-OPTION, which sets the baud rate and framing
/// of the serial port behind the server).
/// </summary>
public sealed class TcpConsole(TcpConsoleSpec spec) : IConsoleLink
{
    public string Describe => $"tcp {spec.Protocol.ToString().ToLowerInvariant()} {spec.Host}:{spec.Port}";

    public async Task<ConsoleConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(spec.Host, spec.Port, cancellationToken);
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new ConsoleException($"{Describe}: cannot connect: {e.Message}", e);
        }

        var network = client.GetStream();
        Stream stream = spec.Protocol switch
        {
            TcpConsoleProtocol.Raw => network,
            TcpConsoleProtocol.Telnet => new TelnetStream(network, comPort: null),
            _ => new TelnetStream(network, new ComPortSettings(spec.Baud, spec.Framing)),
        };
        if (stream is TelnetStream telnet)
            await telnet.StartAsync(cancellationToken);
        return new ConsoleConnection(stream, () =>
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        });
    }
}
