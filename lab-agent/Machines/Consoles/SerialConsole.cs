using System.IO.Ports;

namespace Redox.Lab.Agent.Machines.Consoles;

/// <summary>A local serial port (<c>/dev/ttyUSB0</c>, <c>/dev/serial/by-id/...</c>, or a pty) through System.IO.Ports.</summary>
public sealed class SerialConsole(SerialConsoleSpec spec) : IConsoleLink
{
    public string Describe => $"serial {spec.Device} {spec.Baud} {spec.Framing}";

    public Task<ConsoleConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var port = new SerialPort(spec.Device, spec.Baud, spec.Framing.Parity switch
        {
            'E' => Parity.Even,
            'O' => Parity.Odd,
            'M' => Parity.Mark,
            'S' => Parity.Space,
            _ => Parity.None,
        }, spec.Framing.DataBits, spec.Framing.StopBits == 2 ? StopBits.Two : StopBits.One)
        {
            Handshake = Handshake.None,
        };
        try
        {
            port.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            port.Dispose();
            throw new ConsoleException($"{Describe}: cannot open: {e.Message}", e);
        }

        return Task.FromResult(new ConsoleConnection(port.BaseStream, () =>
        {
            port.Dispose();
            return ValueTask.CompletedTask;
        }));
    }
}
