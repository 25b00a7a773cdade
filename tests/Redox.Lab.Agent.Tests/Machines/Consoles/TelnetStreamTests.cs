using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Consoles;
using static Redox.Lab.Agent.Machines.Consoles.TelnetStream;

namespace Redox.Lab.Agent.Tests.Machines.Consoles;

public sealed class TelnetStreamTests
{
    [Fact]
    public void Filter_CommandsAndEscapedIac_DataOnlyAndRefusals()
    {
        var telnet = new TelnetStream(Stream.Null, comPort: null);
        byte[] input = [(byte)'a', Iac, Will, 1, (byte)'b', Iac, Iac, Iac, Do, 24, Iac, Sb, 24, 1, Iac, Se, (byte)'c', Iac, Will, OptSuppressGoAhead];
        var output = new byte[input.Length];

        var (written, replies) = telnet.Filter(input, output);

        Assert.Equal([(byte)'a', (byte)'b', 0xff, (byte)'c'], output[..written]);
        // WILL ECHO refused with DONT, DO TERMINAL-TYPE with WONT; suppress-go-ahead is wanted: no answer.
        Assert.Equal([Iac, Dont, 1, Iac, Wont, 24], replies);
    }

    [Fact]
    public void Filter_CommandSplitAcrossReads_StateKept()
    {
        var telnet = new TelnetStream(Stream.Null, comPort: null);
        var output = new byte[8];

        var first = telnet.Filter([(byte)'x', Iac], output);
        var second = telnet.Filter([Iac, (byte)'y'], output.AsSpan(first.Written));

        Assert.Equal([(byte)'x', 0xff, (byte)'y'], output[..(first.Written + second.Written)]);
    }

    [Fact]
    public void SubNegotiation_BaudWithIacByte_Doubled()
    {
        Assert.Equal([Iac, Sb, OptComPort, 1, 0, 0, 0xff, Iac, 0x01, Iac, Se], SubNegotiation(1, [0, 0, 0xff, 0x01]));
    }

    [Fact]
    public async Task StartAsync_Rfc2217_SetsBaudAndFraming()
    {
        var sink = new MemoryStream();
        var telnet = new TelnetStream(sink, new ComPortSettings(115200, new SerialFraming(8, 'E', 2)));

        await telnet.StartAsync(CancellationToken.None);

        var sent = sink.ToArray();
        Assert.True(Contains(sent, [Iac, Will, OptComPort]));
        Assert.True(Contains(sent, SubNegotiation(1, [0x00, 0x01, 0xc2, 0x00])));
        Assert.True(Contains(sent, SubNegotiation(2, [8])));
        Assert.True(Contains(sent, SubNegotiation(3, [3])));
        Assert.True(Contains(sent, SubNegotiation(4, [2])));
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
