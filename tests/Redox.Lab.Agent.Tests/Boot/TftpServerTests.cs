using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Redox.Lab.Agent.Boot.Tftp;

namespace Redox.Lab.Agent.Tests.Boot;

/// <summary>The TFTP server against curl's TFTP client (a real peer) and against hand-made packets for the error paths.</summary>
public sealed class TftpServerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("agent-tftp-").FullName;
    private TftpServer? _server;
    private string _file = "";

    public Task InitializeAsync()
    {
        // Not a multiple of any block size, and more than 65535 blocks of 8 bytes would be too slow: 3 blocks and a bit at 1024.
        _file = Path.Combine(_dir, "undionly.kpxe");
        var bytes = new byte[(3 * 1024) + 77];
        new Random(13).NextBytes(bytes);
        File.WriteAllBytes(_file, bytes);
        _server = new TftpServer(new IPEndPoint(IPAddress.Loopback, 0), name => name == "undionly.kpxe" ? _file : null, TimeProvider.System, NullLogger.Instance);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1024)]
    [InlineData(1468)]
    public async Task Curl_ReadsServedFile_SameBytes(int? blockSize)
    {
        var output = Path.Combine(_dir, $"got-{blockSize}");
        var args = new List<string> { "-sS", "-o", output };
        if (blockSize is { } b)
            args.AddRange(["--tftp-blksize", b.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        args.Add($"tftp://127.0.0.1:{_server!.LocalEndPoint.Port}/undionly.kpxe");

        var (code, error) = await Curl(args);

        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(_file), File.ReadAllBytes(output));
    }

    [Fact]
    public async Task Curl_FileNotServed_FailsWithNotFound()
    {
        var (code, error) = await Curl(["-sS", "-o", Path.Combine(_dir, "x"), $"tftp://127.0.0.1:{_server!.LocalEndPoint.Port}/etc/passwd"]);

        // curl's exit status 68 is CURLE_TFTP_NOTFOUND: the server answered error 1.
        Assert.True(code == 68, $"{code}: {error}");
    }

    [Fact]
    public async Task Curl_Upload_Refused()
    {
        var source = Path.Combine(_dir, "upload");
        File.WriteAllText(source, "x");

        var (code, _) = await Curl(["-sS", "-T", source, $"tftp://127.0.0.1:{_server!.LocalEndPoint.Port}/undionly.kpxe"]);

        Assert.NotEqual(0, code);
        Assert.Equal(3 * 1024 + 77, new FileInfo(_file).Length);
    }

    [Fact]
    public async Task Request_WithOptions_OackThenDataFromNewPortAndErrorForStrangers()
    {
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendAsync(Rrq("undionly.kpxe", ("blksize", "1024"), ("tsize", "0"), ("timeout", "3"), ("windowsize", "8")), _server!.LocalEndPoint);

        var oack = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(_server.LocalEndPoint.Port, oack.RemoteEndPoint.Port);
        Assert.Equal(TftpServer.OpOack, BinaryPrimitives.ReadUInt16BigEndian(oack.Buffer));
        var fields = Encoding.ASCII.GetString(oack.Buffer, 2, oack.Buffer.Length - 3).Split('\0');
        Assert.Equal(["blksize", "1024", "timeout", "3", "tsize", (3 * 1024 + 77).ToString(System.Globalization.CultureInfo.InvariantCulture)], fields);

        // A packet from another port is not this transfer's: error 5 to the stranger, the transfer goes on.
        using var stranger = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await stranger.SendAsync(Ack(0), oack.RemoteEndPoint);
        var error = await stranger.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((TftpServer.OpError, (ushort)5), (BinaryPrimitives.ReadUInt16BigEndian(error.Buffer), BinaryPrimitives.ReadUInt16BigEndian(error.Buffer.AsSpan(2))));

        await client.SendAsync(Ack(0), oack.RemoteEndPoint);
        var data = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(TftpServer.OpData, BinaryPrimitives.ReadUInt16BigEndian(data.Buffer));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(data.Buffer.AsSpan(2)));
        Assert.Equal(4 + 1024, data.Buffer.Length);
        await client.SendAsync(Error(0, "enough"), oack.RemoteEndPoint);
    }

    [Fact]
    public async Task Request_NotOctet_Error()
    {
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var netascii = Encoding.ASCII.GetBytes("\0\u0001undionly.kpxe\0netascii\0");
        await client.SendAsync(netascii, _server!.LocalEndPoint);

        var answer = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(TftpServer.OpError, BinaryPrimitives.ReadUInt16BigEndian(answer.Buffer));
        Assert.Contains("octet only", Encoding.ASCII.GetString(answer.Buffer, 4, answer.Buffer.Length - 4), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0, 1 }, "too short")]
    [InlineData(new byte[] { 0, 3, 0, 1 }, "not a request")]
    [InlineData(new byte[] { 0, 1, (byte)'a', 0, (byte)'o' }, "NUL")]
    public void TryParseRequest_Malformed_Problem(byte[] packet, string problem)
    {
        Assert.False(TftpServer.TryParseRequest(packet, out _, out var p));
        Assert.Contains(problem, p.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("65464", TftpServer.MaxBlockSize)]
    [InlineData("7", 512)]
    [InlineData("lots", 512)]
    public void Negotiate_Blksize_ClampedOrIgnored(string requested, int expected)
    {
        var (blockSize, _, _) = TftpServer.Negotiate(new Dictionary<string, string> { ["blksize"] = requested }, 100, TimeSpan.FromSeconds(2));

        Assert.Equal(expected, blockSize);
    }

    [Fact]
    public void Negotiate_NoOptions_NoOack()
    {
        Assert.Null(TftpServer.Negotiate(new Dictionary<string, string>(), 100, TimeSpan.FromSeconds(2)).Oack);
    }

    private static byte[] Rrq(string file, params (string, string)[] options)
    {
        var s = new StringBuilder().Append("\0\u0001").Append(file).Append("\0octet\0");
        foreach (var (k, v) in options)
            s.Append(k).Append('\0').Append(v).Append('\0');
        return Encoding.ASCII.GetBytes(s.ToString());
    }

    private static byte[] Ack(ushort block) => [0, (byte)TftpServer.OpAck, (byte)(block >> 8), (byte)block];

    private static byte[] Error(ushort code, string message) => [0, (byte)TftpServer.OpError, (byte)(code >> 8), (byte)code, .. Encoding.ASCII.GetBytes(message), 0];

    private static async Task<(int Code, string Error)> Curl(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.ArgumentList.Add("--max-time");
        start.ArgumentList.Add("60");
        using var p = Process.Start(start)!;
        var error = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await error);
    }
}
