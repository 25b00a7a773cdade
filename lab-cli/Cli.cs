using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Redox.Lab.Cli;

/// <summary>What every command runs with: the lab's HTTP client, the writers, whether to print JSON, and the clock waits use.</summary>
public sealed record Cli(HttpClient Http, TextWriter Out, TextWriter Err, bool Json, TimeProvider? Clock = null)
{
    public TimeProvider Time => Clock ?? TimeProvider.System;

    /// <summary>Every request but the event stream and uploads answers within this.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static readonly JsonSerializerOptions Indented = new(JsonOptions) { WriteIndented = true };

    /// <summary>GET and read JSON; a refusal is printed and becomes <see cref="LabRefusedException"/>.</summary>
    public async Task<T> GetAsync<T>(string path, string what, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        using var response = await Http.GetAsync(path, timeout.Token);
        await EnsureAsync(response, what, timeout.Token);
        return (await response.Content.ReadFromJsonAsync<T>(JsonOptions, timeout.Token))!;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct, TimeSpan? limit = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit ?? RequestTimeout);
        var response = await Http.SendAsync(request, timeout.Token);
        await EnsureAsync(response, what, timeout.Token);
        return response;
    }

    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, Indented));

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(ct);
        throw new LabRefusedException($"{what} refused ({(int)response.StatusCode}): {TerminalText.Clean(ProblemDetail(body))}", (int)response.StatusCode);
    }

    internal static string ProblemDetail(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body.Length <= 300 ? body : body[..300] + "…";
        }
    }

    public static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        return ExitCodes.Usage;
    }
}

/// <summary>The lab answered with an error; the message is printable (already cleaned).</summary>
public sealed class LabRefusedException(string message, int status) : Exception(message)
{
    public int Status { get; } = status;
}
