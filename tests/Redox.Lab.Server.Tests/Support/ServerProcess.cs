using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>
/// A lab-server as its own process (the build output beside this repository), on a free port. A second server in a
/// test must be a process: Hangfire keeps its storage and logging in statics, so a second in-process server would
/// take them from the fixture's and leave it with disposed ones when it stops.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string Secret = "several-servers-secret";
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's process id: Hangfire names its servers <c>lab-server:PID</c> and <c>lab-server-git:PID</c>.</summary>
    public int Pid => _process.Id;

    /// <summary>Starts a server; <paramref name="settings"/> (<c>--Key value</c> pairs) override the defaults below.</summary>
    public static async Task<ServerProcess> StartAsync(string connection, string dataDir, string secret = Secret, IReadOnlyList<string>? settings = null)
    {
        var port = FreePort();
        // The server's own build output (built as this project's reference, in the same configuration).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var bin = Path.Combine(Repo.Root, "lab-server", "bin", configuration, "net10.0");
        var dll = Path.Combine(bin, "Redox.Lab.Server.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = bin };
        foreach (var arg in new[]
                 {
                     dll, "--urls", $"http://127.0.0.1:{port}", "--ConnectionStrings:Lab", connection, "--Lab:DataDir", dataDir,
                     "--Lab:EnrolmentSecret", secret, "--Lab:LeaseSeconds", "30", "--Lab:Git:TotalTimeoutSeconds", "20",
                     "--Logging:LogLevel:Default", "Warning", "--environment", "Testing",
                 }.Concat(settings ?? []))
            psi.ArgumentList.Add(arg);
        var process = Process.Start(psi)!;
        var server = new ServerProcess(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._log.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._log.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (process.HasExited || clock.Elapsed > TimeSpan.FromMinutes(3))
                throw new InvalidOperationException($"lab-server did not start:\n{server.Log()}");
            await Task.Delay(250);
        }
    }

    public string Log() => string.Join('\n', _log.TakeLast(60));

    /// <summary>SIGKILL: no graceful shutdown, as a crash or a pulled plug.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>A free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
