using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>
/// A small local HTTP server standing in for a forge's status API: it records every request (method, path, headers,
/// JSON body) and answers 201, or <see cref="FailFirst"/> times 503 first (a forge that is down, then recovers).
/// Shared with the end-to-end tests (linked source).
/// </summary>
public sealed class RecordingForge : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private int _failures;

    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers, JsonElement Body, int Status, DateTimeOffset At);

    public RecordingForge(int failFirst = 0)
    {
        FailFirst = failFirst;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public int FailFirst { get; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>The requests the forge accepted (2xx), in arrival order.</summary>
    public IReadOnlyList<Request> Accepted => Requests.Where(r => r.Status < 300).ToList();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            var text = await reader.ReadToEndAsync();
            var body = text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
            var status = Interlocked.Increment(ref _failures) <= FailFirst ? 503 : 201;
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            Requests.Enqueue(new Request(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body, status, DateTimeOffset.UtcNow));
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await using (var writer = new StreamWriter(context.Response.OutputStream))
                await writer.WriteAsync(status == 201 ? "{\"id\":1}" : "{\"message\":\"503 Service Unavailable\"}");
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
