using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// The agent routes of API.md, in memory, with the server's console semantics (skip lines below the
/// stored count, 409 above it) and scriptable faults. Thread-safe.
/// </summary>
public sealed class FakeLabServer : HttpMessageHandler
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _tokens = [];
    private readonly Queue<JobAssignment> _jobs = new();
    private readonly List<(string Route, HttpStatusCode Status, bool AfterStoring)> _faults = [];
    private int _enrolments;

    public string Secret { get; set; } = "s3cret";
    public bool HeartbeatContinue { get; set; } = true;
    /// <summary>Answers heartbeats with <c>cancel: true</c> (a user cancelled the job).</summary>
    public bool HeartbeatCancel { get; set; }
    public Dictionary<Guid, List<ConsoleLine>> Console { get; } = [];
    public Dictionary<(Guid, int), BootReport> Boots { get; } = [];
    public Dictionary<Guid, JobCompletion> Completions { get; } = [];
    public List<IReadOnlyList<MachineInfo>> MachineUpdates { get; } = [];
    public List<ConsoleChunk> ConsolePosts { get; } = [];
    public Dictionary<(Guid Job, string Name), string> Artifacts { get; } = [];
    public List<string> Requests { get; } = [];
    public int Conflicts { get; private set; }

    /// <summary>While true every request fails as a refused connection would (the server is stopped).</summary>
    public bool Down { get; set; }

    /// <summary>How many console lines the job had on the server when each boot report arrived.</summary>
    public Dictionary<(Guid, int), int> ConsoleAtBoot { get; } = [];
    public int Heartbeats { get; private set; }

    public int Enrolments => Volatile.Read(ref _enrolments);

    /// <summary>Called for every completion, for tests that wait for the end.</summary>
    public TaskCompletionSource<JobCompletion> Completed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void AddToken(string token)
    {
        lock (_lock)
            _tokens.Add(token);
    }

    public void VoidTokens()
    {
        lock (_lock)
            _tokens.Clear();
    }

    public void Enqueue(JobAssignment job)
    {
        lock (_lock)
            _jobs.Enqueue(job);
    }

    /// <summary>The next <paramref name="count"/> requests whose path ends with <paramref name="routeSuffix"/> answer <paramref name="status"/>, optionally after doing the work (a lost response).</summary>
    public void Fail(string routeSuffix, int count, HttpStatusCode status = HttpStatusCode.ServiceUnavailable, bool afterStoring = false)
    {
        lock (_lock)
        {
            for (var i = 0; i < count; i++)
                _faults.Add((routeSuffix, status, afterStoring));
        }
    }

    /// <summary>The server loses the job's console lines from <paramref name="keep"/> on (a restore from backup).</summary>
    public void LoseConsole(Guid jobId, int keep)
    {
        lock (_lock)
        {
            var lines = Console[jobId];
            lines.RemoveRange(keep, lines.Count - keep);
        }
    }

    public List<ConsoleLine> ConsoleOf(Guid jobId)
    {
        lock (_lock)
            return Console.TryGetValue(jobId, out var lines) ? [.. lines] : [];
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Down)
            throw new HttpRequestException("Connection refused (the fake server is down)", null, null);
        var path = request.RequestUri!.AbsolutePath;
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var response = Respond(request, path, body);
        if (path.EndsWith("/jobs/next", StringComparison.Ordinal) && response.StatusCode == HttpStatusCode.NoContent)
            await Task.Delay(20, cancellationToken); // a short long-poll, so a polling loop does not spin
        return response;
    }

    private HttpResponseMessage Respond(HttpRequestMessage request, string path, string? body)
    {
        lock (_lock)
        {
            Requests.Add($"{request.Method} {path}");
            var fault = _faults.FindIndex(f => path.EndsWith(f.Route, StringComparison.Ordinal));
            (string Route, HttpStatusCode Status, bool AfterStoring)? f = null;
            if (fault >= 0)
            {
                f = _faults[fault];
                _faults.RemoveAt(fault);
                if (!f.Value.AfterStoring)
                    return new HttpResponseMessage(f.Value.Status) { RequestMessage = request };
            }

            var response = Handle(request, path, body);
            response.RequestMessage = request;
            if (f is { } lost)
                return new HttpResponseMessage(lost.Status) { RequestMessage = request };
            return response;
        }
    }

    private HttpResponseMessage Handle(HttpRequestMessage request, string path, string? body)
    {
        if (path == "/api/agents/enrol")
        {
            var enrol = Read<EnrolRequest>(body);
            if (enrol.Secret != Secret)
                return new HttpResponseMessage(HttpStatusCode.Unauthorized);
            var n = Interlocked.Increment(ref _enrolments);
            var token = $"token-{n}";
            _tokens.Add(token);
            MachineUpdates.Add(enrol.Machines);
            return Json(new EnrolResponse(Guid.NewGuid(), token));
        }

        if (request.Headers.Authorization is not { Scheme: "Bearer" } auth || !_tokens.Contains(auth.Parameter ?? ""))
            return new HttpResponseMessage(HttpStatusCode.Unauthorized);

        var parts = path.Trim('/').Split('/');
        switch (parts)
        {
            case ["api", "agent", "machines"]:
                MachineUpdates.Add(Read<MachinesUpdate>(body).Machines);
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            case ["api", "agent", "jobs", "next"]:
                return _jobs.TryDequeue(out var job) ? Json(job) : new HttpResponseMessage(HttpStatusCode.NoContent);
            case ["api", "agent", "jobs", var id, "heartbeat"]:
                Heartbeats++;
                _ = Guid.Parse(id);
                return Json(new HeartbeatResponse(HeartbeatContinue && !HeartbeatCancel, HeartbeatCancel));
            case ["api", "agent", "jobs", var id, "console"]:
            {
                var chunk = Read<ConsoleChunk>(body);
                ConsolePosts.Add(chunk);
                var jobId = Guid.Parse(id);
                if (!Console.TryGetValue(jobId, out var lines))
                    Console[jobId] = lines = [];
                if (chunk.Offset > lines.Count)
                {
                    Conflicts++;
                    return Json(new ConsoleAck(lines.Count), HttpStatusCode.Conflict);
                }

                for (var i = 0; i < chunk.Lines.Count; i++)
                {
                    if (chunk.Offset + i >= lines.Count)
                        lines.Add(chunk.Lines[i]);
                }

                return Json(new ConsoleAck(lines.Count));
            }

            case ["api", "agent", "jobs", var id, "artifacts", var name]:
                Artifacts[(Guid.Parse(id), name)] = body ?? "";
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            case ["api", "agent", "jobs", var id, "boots", var index]:
                var key = (Guid.Parse(id), int.Parse(index, System.Globalization.CultureInfo.InvariantCulture));
                Boots[key] = Read<BootReport>(body);
                ConsoleAtBoot[key] = Console.TryGetValue(key.Item1, out var atBoot) ? atBoot.Count : 0;
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            case ["api", "agent", "jobs", var id, "complete"]:
            {
                var jobId = Guid.Parse(id);
                if (!Completions.ContainsKey(jobId))
                {
                    Completions[jobId] = Read<JobCompletion>(body);
                    Completed.TrySetResult(Completions[jobId]);
                }

                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }

            default:
                return new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }

    private static T Read<T>(string? body) => JsonSerializer.Deserialize<T>(body!, ServerJson.Options)!;

    private static HttpResponseMessage Json<T>(T value, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = JsonContent.Create(value, options: ServerJson.Options) };
}
