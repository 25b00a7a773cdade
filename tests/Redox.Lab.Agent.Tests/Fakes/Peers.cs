using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>The real programs on the other side of the agent's protocols, started for one test and killed after it.</summary>
public static class Peers
{
    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Waits until something accepts TCP connections on the port (a peer that is starting).</summary>
    public static async Task WaitForTcpAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public static async Task WaitForFileAsync(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{path} did not appear within {timeout}");
            await Task.Delay(50);
        }
    }

    public static string Sh(string script)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"sh -c '{script}' failed ({p.ExitCode}): {output} {error}");
        return output;
    }
}

/// <summary>A child process that lives as long as the test needs it; its output is kept for failure messages.</summary>
public sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public PeerProcess(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}

/// <summary>A serial cable: two linked ptys made by socat. The PC (QEMU) opens <see cref="PcEnd"/>, ser2net or the agent <see cref="HostEnd"/>.</summary>
public sealed class NullModem : IDisposable
{
    private readonly PeerProcess _socat;

    public NullModem(string directory)
    {
        Directory.CreateDirectory(directory);
        PcEnd = Path.Combine(directory, "pc-tty");
        HostEnd = Path.Combine(directory, "host-tty");
        _socat = new PeerProcess("socat", $"pty,link={PcEnd},raw,echo=0", $"pty,link={HostEnd},raw,echo=0");
        Peers.WaitForFileAsync(HostEnd, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
        Peers.WaitForFileAsync(PcEnd, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
    }

    public string PcEnd { get; }

    public string HostEnd { get; }

    public void Dispose() => _socat.Dispose();
}

/// <summary>Debian's ser2net serving one serial device on a TCP port: <c>raw</c>, <c>telnet</c> or <c>telnet(rfc2217)</c>.</summary>
public sealed class Ser2Net : IDisposable
{
    private readonly PeerProcess _process;

    /// <param name="port">A fixed port (a console plugged back in where it was), else a free one.</param>
    public Ser2Net(string directory, string device, string accepterProtocol, int? port = null)
    {
        Port = port ?? Peers.FreeTcpPort();
        var accepter = accepterProtocol == "raw" ? $"tcp,127.0.0.1,{Port}" : $"{accepterProtocol},tcp,127.0.0.1,{Port}";
        ConfigPath = Path.Combine(directory, $"ser2net-{Port}.yaml");
        File.WriteAllText(ConfigPath, $"""
            %YAML 1.1
            ---
            connection: &pc
              accepter: {accepter}
              connector: serialdev,{device},115200n81,local
              options:
                kickolduser: true
            """ + "\n");
        _process = new PeerProcess("ser2net", "-n", "-u", "-c", ConfigPath, "-P", Path.Combine(directory, $"ser2net-{Port}.pid"));
        Peers.WaitForTcpAsync(Port, TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
    }

    public int Port { get; }

    public string ConfigPath { get; }

    public string Output => _process.Output;

    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
