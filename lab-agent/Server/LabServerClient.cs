using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Server;

/// <summary>
/// The agent routes of API.md. Every call carries the agent's bearer token; a 401 makes the agent
/// enrol again once (when it has the secret) and repeat the call, and a second 401 is an
/// <see cref="AgentAuthException"/>. Transient failures are retried by the named pipelines.
/// </summary>
public sealed class LabServerClient(
    HttpClient http,
    AgentCredentials credentials,
    ResiliencePipelineProvider<string> pipelines,
    IOptions<AgentOptions> options)
{
    public async Task PutMachinesAsync(IReadOnlyList<MachineInfo> machines, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => Json(HttpMethod.Put, "api/agent/machines", new MachinesUpdate(machines)), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Long-polls for a job; null when the server had none within the wait.</summary>
    public async Task<JobAssignment?> NextJobAsync(CancellationToken cancellationToken)
    {
        var wait = options.Value.PollWaitSeconds;
        using var response = await SendAsync(ServerPipelines.LongPoll, () => new HttpRequestMessage(HttpMethod.Get, $"api/agent/jobs/next?wait={wait}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
            return null;
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<JobAssignment>(ServerJson.Options, cancellationToken)
            ?? throw new LabServerException("GET api/agent/jobs/next: empty assignment", 200);
    }

    public async Task<HeartbeatResponse> HeartbeatAsync(Guid jobId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => new HttpRequestMessage(HttpMethod.Post, $"api/agent/jobs/{jobId}/heartbeat"), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<HeartbeatResponse>(ServerJson.Options, cancellationToken)
            ?? new HeartbeatResponse(true);
    }

    /// <summary>Appends console lines; a 409 is not an error but the server's "resend from <see cref="ConsolePost.NextOffset"/>".</summary>
    public async Task<ConsolePost> PostConsoleAsync(Guid jobId, ConsoleChunk chunk, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => Json(HttpMethod.Post, $"api/agent/jobs/{jobId}/console", chunk), cancellationToken);
        var conflict = response.StatusCode == HttpStatusCode.Conflict;
        // 410: the job ended (agent-lost, cancelled) and the server stores nothing more for it: nothing to resend.
        if (response.StatusCode == HttpStatusCode.Gone)
            return new ConsolePost(false, chunk.Offset + chunk.Lines.Count);
        if (!conflict)
            await EnsureSuccessAsync(response, cancellationToken);
        var ack = await response.Content.ReadFromJsonAsync<ConsoleAck>(ServerJson.Options, cancellationToken)
            ?? throw new LabServerException($"POST console: {(int)response.StatusCode} without a ConsoleAck", (int)response.StatusCode);
        return new ConsolePost(conflict, ack.NextOffset);
    }

    public async Task PostBootAsync(Guid jobId, BootReport report, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => Json(HttpMethod.Post, $"api/agent/jobs/{jobId}/boots/{report.Index}", report), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    public async Task CompleteAsync(Guid jobId, JobCompletion completion, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => Json(HttpMethod.Post, $"api/agent/jobs/{jobId}/complete", completion), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Stores a build artifact (e.g. the kernel ELF, for symbolizing backtraces and profiles) under the job.</summary>
    public async Task PutArtifactAsync(Guid jobId, string name, string path, CancellationToken cancellationToken)
    {
        // Streamed from the file, never held whole in memory (artifacts go up to the server's limit, 64 MiB by
        // default); every attempt opens the file again. A seekable stream gives the request its Content-Length.
        using var response = await SendAsync(ServerPipelines.Server, () => new HttpRequestMessage(HttpMethod.Put, $"api/agent/jobs/{jobId}/artifacts/{name}")
        {
            // Expect: 100-continue lets the server refuse an oversized file (413) before the body is sent.
            Headers = { ExpectContinue = true },
            Content = new StreamContent(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") },
            },
        }, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>Reports a machine's health as the agent saw it (Machines/Health/README.md).</summary>
    public async Task ReportHealthAsync(string machine, MachineHealthReport report, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => Json(HttpMethod.Post, $"api/agent/machines/{Uri.EscapeDataString(machine)}/health", report), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    /// <summary>The agent's machines the server wants a health check of (on demand, or after an infrastructure failure).</summary>
    public async Task<IReadOnlyList<string>> HealthChecksDueAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(ServerPipelines.Server, () => new HttpRequestMessage(HttpMethod.Get, "api/agent/machines/health-checks"), cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<HealthChecksDue>(ServerJson.Options, cancellationToken))?.Machines ?? [];
    }

    internal static HttpRequestMessage Json<T>(HttpMethod method, string path, T body) =>
        new(method, path) { Content = JsonContent.Create(body, options: ServerJson.Options) };

    internal static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var request = response.RequestMessage is { } m ? $"{m.Method} {m.RequestUri?.AbsolutePath}" : "request";
        throw new LabServerException($"{request}: {(int)response.StatusCode} {response.ReasonPhrase} {Truncate(body, 500)}".TrimEnd(), (int)response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string pipelineName, Func<HttpRequestMessage> makeRequest, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.GetPipeline<HttpResponseMessage>(pipelineName);
        var token = await credentials.GetTokenAsync(cancellationToken);
        var response = await AttemptAsync(token);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
            return response;

        response.Dispose();
        token = await credentials.RenewAsync(token, cancellationToken);
        response = await AttemptAsync(token);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
            return response;
        response.Dispose();
        throw new AgentAuthException($"the server at {options.Value.Server} rejected the agent's token even right after enrolling again");

        async Task<HttpResponseMessage> AttemptAsync(string bearer) => await pipeline.ExecuteAsync(
            async ct =>
            {
                // A request message can be sent once: every attempt builds its own, and disposes it (and so its
                // content, such as an artifact's open file) once the response is in; the response keeps its body.
                using var request = makeRequest();
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                return await http.SendAsync(request, ct);
            },
            cancellationToken);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}

/// <summary>The answer to a console upload.</summary>
/// <param name="Conflict">The server answered 409: it holds fewer lines than the chunk's offset.</param>
/// <param name="NextOffset">How many lines the server holds: the next offset to send.</param>
public readonly record struct ConsolePost(bool Conflict, long NextOffset);
