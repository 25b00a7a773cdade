using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Redox.Lab.Agent.Machines.Power;

/// <summary>
/// Wake-on-LAN: the magic packet (6 × 0xFF, then the MAC 16 times) as a UDP broadcast to the
/// configured address and port. Off is the configured shutdown command, or nothing: a PC with no job
/// gets the "no job: power off" script at its next network boot and switches itself off.
/// </summary>
public sealed class WakeOnLanPower(PhysicalAddress mac, WolPowerSpec wol, TimeSpan commandTimeout) : IPowerControl
{
    public string Describe => $"wake-on-lan {wol.Broadcast}:{wol.Port}";

    public static byte[] MagicPacket(PhysicalAddress mac)
    {
        var address = mac.GetAddressBytes();
        var packet = new byte[6 + (16 * address.Length)];
        Array.Fill(packet, (byte)0xff, 0, 6);
        for (var i = 0; i < 16; i++)
            address.CopyTo(packet, 6 + (i * address.Length));
        return packet;
    }

    public async Task PowerOnAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { EnableBroadcast = true };
        try
        {
            await socket.SendToAsync(MagicPacket(mac), SocketFlags.None, new IPEndPoint(wol.Broadcast, wol.Port), cancellationToken);
        }
        catch (SocketException e)
        {
            throw new PowerException($"{Describe}: cannot send the magic packet: {e.Message}", e);
        }
    }

    public Task PowerOffAsync(CancellationToken cancellationToken) =>
        wol.Shutdown is { } command ? CommandPower.RunAsync(command, "shutdown", commandTimeout, cancellationToken) : Task.CompletedTask;

    public Task<PowerState> StatusAsync(CancellationToken cancellationToken) => Task.FromResult(PowerState.Unknown);
}
