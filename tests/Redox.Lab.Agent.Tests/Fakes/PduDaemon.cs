using System.Text.Json;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>Debian's pdudaemon with one PDU of the <c>localcmdline</c> driver, whose outlets run the given commands (<c>%d</c> = outlet).</summary>
public sealed class PduDaemon : IDisposable
{
    private readonly PeerProcess _process;

    public PduDaemon(string directory, string pdu, string commandOn, string commandOff)
    {
        Directory.CreateDirectory(directory);
        Port = Peers.FreeTcpPort();
        Pdu = pdu;
        var config = Path.Combine(directory, "pdudaemon.conf");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["daemon"] = new Dictionary<string, object> { ["hostname"] = "127.0.0.1", ["port"] = Port, ["logging_level"] = "DEBUG", ["listener"] = "http" },
            ["pdus"] = new Dictionary<string, object> { [pdu] = new Dictionary<string, string> { ["driver"] = "localcmdline", ["cmd_on"] = commandOn, ["cmd_off"] = commandOff } },
        }));
        _process = new PeerProcess("pdudaemon", "--conf", config, "--logfile", Path.Combine(directory, "pdudaemon.log"), "--loglevel", "DEBUG");
        Peers.WaitForTcpAsync(Port, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
    }

    public int Port { get; }

    public string Pdu { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public string Output => _process.Output;

    public void Dispose() => _process.Dispose();
}
