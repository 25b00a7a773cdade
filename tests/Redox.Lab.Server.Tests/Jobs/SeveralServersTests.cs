using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Migrations;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Jobs;

/// <summary>
/// Two real lab-server processes on one database behind nginx running docs/nginx-several-servers.conf, simulated agents
/// speaking the agent protocol through the proxy; one server is killed (SIGKILL) while jobs are in flight.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class SeveralServersTests(LabFixture lab)
{
    private const int Agents = 4;
    private const int RunsBefore = 3;
    private const int RunsAfter = 3;
    private const int ConsoleLines = 60;

    /// <summary>A new, migrated lab database of its own, a directory for its servers' state, and an admin token for it.</summary>
    private async Task<(string Id, string Dir, string Connection, string Admin)> NewLabAsync(string name)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var dir = Path.Combine(lab.TempDir, $"{name}-{id}");
        Directory.CreateDirectory(dir);
        var connection = lab.Cluster.ConnectionString($"lab_{name}_{id}");
        using var output = new StringWriter();
        Assert.True(await MigrateCommand.RunAsync(["--connection", connection], output, output) == 0, output.ToString());
        var tokenFile = Path.Combine(dir, "admin-token");
        Assert.True(await CreateTokenCommand.RunAsync(["--connection", connection, "--user", "admin", "--role", "admin", "--out", tokenFile], output, output) == 0, output.ToString());
        return (id, dir, connection, (await File.ReadAllTextAsync(tokenFile)).Trim());
    }

    [Fact]
    public async Task Jobs_OneOfTwoServersKilledMidway_EachJobRunsOnceAndNothingIsLost()
    {
        var (id, dir, connection, admin) = await NewLabAsync("several");

        await using var a = await ServerProcess.StartAsync(connection, Path.Combine(dir, "a"));
        await using var b = await ServerProcess.StartAsync(connection, Path.Combine(dir, "b"));
        await using var proxy = await Nginx.StartAsync(Path.Combine(dir, "proxy"), a.Port, b.Port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxy.Port}"), Timeout = TimeSpan.FromMinutes(2) };

        // A session opened on one server is valid on the other (the data-protection key ring is in the database).
        await AssertSessionSharedAsync(a.Port, b.Port, admin);

        // A repository whose pipeline only these agents' machines match.
        var tag = "several" + id;
        var repo = await GitRepo.CreateAsync(dir, new Dictionary<string, string>
        {
            ["pipelines/redox-reference.yaml"] = Repo.ReferencePipelineWithTag(tag),
        });
        var registration = await Send(http, HttpMethod.Post, "/api/repositories", admin,
            new RepositoryView("several-" + id, repo.Path, "main", ["pipelines/*.yaml"], true, ["*"]));
        Assert.Equal(HttpStatusCode.Created, registration.StatusCode);
        var registered = (await registration.Content.ReadFromJsonAsync<RepositoryView>(LabFixture.Json))!.Name;
        var variants = Repo.ReferenceVariants.Count;

        var agents = new List<SimulatedAgent>();
        for (var i = 0; i < Agents; i++)
        {
            var enrol = await Send(http, HttpMethod.Post, "/api/agents/enrol", null,
                new EnrolRequest($"several-{id}-{i}", ServerProcess.Secret, [new MachineInfo("sim", "qemu", ["x86_64", tag], 4, 256)], "test"));
            Assert.Equal(HttpStatusCode.OK, enrol.StatusCode);
            agents.Add(new SimulatedAgent(http, (await enrol.Content.ReadFromJsonAsync<EnrolResponse>(LabFixture.Json))!.Token));
        }
        using var stop = new CancellationTokenSource();
        var loops = agents.Select(x => Task.Run(() => x.LoopAsync(stop.Token))).ToList();

        // Load through the proxy (both servers take requests), then kill one while jobs are in flight, then more load.
        var runs = new List<Guid>();
        for (var r = 0; r < RunsBefore; r++) runs.Add(await PushAsync(http, admin, registered));
        await SimulatedAgent.WaitUntilAsync(() => SimulatedAgent.Received.Count >= Agents, TimeSpan.FromMinutes(3));
        a.Kill();
        for (var r = 0; r < RunsAfter; r++) runs.Add(await PushAsync(http, admin, registered));

        var views = new List<RunView>();
        foreach (var run in runs)
            views.Add(await WaitForRunAsync(http, admin, run, TimeSpan.FromMinutes(5), proxy, b));
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        // Each job (run, variant, machine) ran on an agent exactly once, passed, with its boot and every console line once.
        var ranTwice = SimulatedAgent.Received.GroupBy(j => j.JobId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(ranTwice);
        foreach (var view in views)
        {
            Assert.Equal(Outcome.Passed, view.Outcome);
            var slots = view.Jobs.GroupBy(j => (j.Variant, j.Agent, j.Machine)).ToList();
            Assert.Equal(Agents * variants, slots.Count);
            foreach (var slot in slots)
            {
                var executed = slot.Where(j => SimulatedAgent.Received.Any(r => r.JobId == j.Id)).ToList();
                var job = Assert.Single(executed);
                Assert.Equal(Outcome.Passed, job.Outcome);
                Assert.Single(job.Boots);
                // An attempt no agent received (its claim's answer died with the server) ended agent-lost and was retried.
                Assert.All(slot.Where(j => j.Id != job.Id), j => Assert.Equal(Outcome.AgentLost, j.Outcome));
                var lines = await ReadAsync<List<ConsoleLine>>(http, admin, $"/api/jobs/{job.Id}/console?from=0&limit=1000");
                Assert.Equal(ConsoleLines, lines.Count);
                Assert.Equal(Enumerable.Range(0, ConsoleLines).Select(SimulatedAgent.Line), lines.Select(l => l.Text));
            }
        }
    }

    [Fact]
    public async Task ResolvePushJob_ServerRunningItKilled_OtherServerTakesItOverAfterTheInvisibility()
    {
        var (id, dir, connection, admin) = await NewLabAsync("takeover");
        // A git remote that accepts and never answers: the push's resolution runs (Processing) until its bound, 10 minutes here.
        using var remote = new SilentRemote();
        string[] settings = ["--Lab:JobInvisibilitySeconds", "5", "--Lab:Git:ProcessTimeoutSeconds", "600", "--Lab:Git:TotalTimeoutSeconds", "600"];
        await using var db = NpgsqlDataSource.Create(connection);

        // 1. Server A alone takes the push's ResolvePushJob and keeps it while alive: its fetch time is renewed.
        await using var a = await ServerProcess.StartAsync(connection, Path.Combine(dir, "a"), settings: settings);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{a.Port}"), Timeout = TimeSpan.FromMinutes(2) };
        var registration = await Send(http, HttpMethod.Post, "/api/repositories", admin,
            new RepositoryView("takeover-" + id, $"http://127.0.0.1:{remote.Port}/kernel.git", "main", ["pipelines/*.yaml"], true, ["*"]));
        Assert.Equal(HttpStatusCode.Created, registration.StatusCode);
        var runId = await PushAsync(http, admin, "takeover-" + id);
        var hangfireJob = await WaitForAsync(() => ProcessingOnAsync(db, runId, a.Pid), TimeSpan.FromMinutes(2), () => a.Log());
        var fetched = await FetchedAtAsync(db, hangfireJob);
        await WaitForAsync(async () => await FetchedAtAsync(db, hangfireJob) > fetched ? hangfireJob : null, TimeSpan.FromMinutes(1), () => a.Log());

        // 2. A dies holding it; B, started afterwards, runs the same Hangfire job (not a copy scheduled by the lab's stalled-run recovery).
        a.Kill();
        await using var b = await ServerProcess.StartAsync(connection, Path.Combine(dir, "b"), settings: settings);
        var takenOver = await WaitForAsync(() => ProcessingOnAsync(db, runId, b.Pid), TimeSpan.FromMinutes(2), () => b.Log());

        Assert.Equal(hangfireJob, takenOver);
    }

    /// <summary>The Hangfire job resolving <paramref name="runId"/> while it is processing on the server with process <paramref name="pid"/>, else null.</summary>
    private static async Task<long?> ProcessingOnAsync(NpgsqlDataSource db, Guid runId, int pid)
    {
        await using var cmd = db.CreateCommand("""
            SELECT j.id FROM hangfire.job j JOIN hangfire.state s ON s.id = j.stateid
            WHERE j.statename = 'Processing' AND j.invocationdata::text LIKE '%ResolvePushJob%' AND j.arguments::text LIKE $1
              AND s.data::text LIKE $2
            """);
        cmd.Parameters.AddWithValue($"%{runId}%");
        cmd.Parameters.AddWithValue($"%lab-server-git:{pid}:%");
        return await cmd.ExecuteScalarAsync() is long job ? job : null;
    }

    private static async Task<DateTime> FetchedAtAsync(NpgsqlDataSource db, long hangfireJob)
    {
        await using var cmd = db.CreateCommand("SELECT fetchedat FROM hangfire.jobqueue WHERE jobid = $1");
        cmd.Parameters.AddWithValue(hangfireJob);
        return await cmd.ExecuteScalarAsync() is DateTime at ? at : DateTime.MinValue;
    }

    private static async Task<long> WaitForAsync(Func<Task<long?>> probe, TimeSpan timeout, Func<string> log)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found) return found;
            if (clock.Elapsed > timeout) throw new TimeoutException($"not reached within {timeout}:\n{log()}");
            await Task.Delay(200);
        }
    }

    /// <summary>A TCP listener that accepts connections and never answers them: a git remote that hangs.</summary>
    private sealed class SilentRemote : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentBag<TcpClient> _held = [];
        private readonly CancellationTokenSource _stop = new();

        public SilentRemote()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task AcceptAsync()
        {
            try
            {
                while (true) _held.Add(await _listener.AcceptTcpClientAsync(_stop.Token));
            }
            catch (OperationCanceledException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var client in _held) client.Dispose();
            _stop.Dispose();
        }
    }

    private static async Task AssertSessionSharedAsync(int loginPort, int readPort, string token)
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false });
        var form = await browser.GetStringAsync($"http://127.0.0.1:{loginPort}/login");
        var field = System.Text.RegularExpressions.Regex.Match(form, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");
        Assert.True(field.Success, form);
        using var body = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [WebUtility.HtmlDecode(field.Groups[1].Value)] = WebUtility.HtmlDecode(field.Groups[2].Value),
            ["token"] = token,
        });
        var login = await browser.PostAsync($"http://127.0.0.1:{loginPort}/login", body);
        Assert.True(login.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.SeeOther or HttpStatusCode.Found, $"{(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");

        var read = await browser.GetAsync($"http://127.0.0.1:{readPort}/api/runs?limit=1");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    private static async Task<Guid> PushAsync(HttpClient http, string admin, string repository)
    {
        // The proxy answers 502 to a push sent on a connection to the server that died (it never sends a push twice,
        // docs/several-servers.md); the pusher sends it again, as a git hook or the CLI would.
        var response = await Send(http, HttpMethod.Post, "/api/runs", admin, new PushRequest(repository, "main"));
        for (var attempt = 0; response.StatusCode == HttpStatusCode.BadGateway && attempt < 5; attempt++)
            response = await Send(http, HttpMethod.Post, "/api/runs", admin, new PushRequest(repository, "main"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!.RunId;
    }

    private static async Task<RunView> WaitForRunAsync(HttpClient http, string admin, Guid runId, TimeSpan timeout, Nginx proxy, ServerProcess survivor)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var run = await ReadAsync<RunView>(http, admin, $"/api/runs/{runId}");
            if (run.EndedAt is not null) return run;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"run {runId} did not end: {System.Text.Json.JsonSerializer.Serialize(run, LabFixture.Json)}\n--- proxy\n{proxy.Log()}\n--- server\n{survivor.Log()}");
            await Task.Delay(250);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpClient http, string admin, string path)
    {
        using var response = await Send(http, HttpMethod.Get, path, admin, null);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(LabFixture.Json))!;
    }

    internal static async Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string? bearer, object? body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: LabFixture.Json);
        return await http.SendAsync(request, ct);
    }

    /// <summary>An agent with one machine: long-polls, and runs each job through the protocol, repeating a call cut off by a dying server.</summary>
    private sealed class SimulatedAgent(HttpClient http, string token)
    {
        public static readonly ConcurrentBag<(Guid JobId, Guid RunId)> Received = [];

        public static string Line(int i) => $"[    {i * 0.01:0.000000}] simulated console line {i} @@LAB stage entry";

        public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                if (clock.Elapsed > timeout) throw new TimeoutException("the agents did not get there");
                await Task.Delay(100);
            }
        }

        public async Task LoopAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                HttpResponseMessage next;
                try
                {
                    next = await Send(http, HttpMethod.Get, "/api/agent/jobs/next?wait=5", token, null, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (HttpRequestException)
                {
                    continue;
                }
                if (next.StatusCode == HttpStatusCode.NoContent) continue;
                if (next.StatusCode != HttpStatusCode.OK)
                {
                    await Task.Delay(100, CancellationToken.None);
                    continue;
                }
                var job = (await next.Content.ReadFromJsonAsync<JobAssignment>(LabFixture.Json, CancellationToken.None))!;
                Received.Add((job.JobId, job.RunId));
                // The job is finished even when the test is stopping: nothing an agent holds is dropped.
                await RunAsync(job);
            }
        }

        private async Task RunAsync(JobAssignment job)
        {
            var started = DateTimeOffset.UtcNow;
            await Repeat(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/heartbeat", null);
            for (var offset = 0; offset < ConsoleLines; offset += 20)
            {
                await Repeat(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/heartbeat", null);
                var lines = Enumerable.Range(offset, 20).Select(i => new ConsoleLine(0, started.AddMilliseconds(i), Line(i))).ToList();
                await Repeat(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/console", new ConsoleChunk(offset, lines));
            }
            await Repeat(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/boots/0", new BootReport(0, Outcome.Passed, null, started, DateTimeOffset.UtcNow,
                null, [new StageReport("entry", "marker", null, 1000)], [], [], [], 0));
            await Repeat(HttpMethod.Post, $"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null));
        }

        /// <summary>Sends until a server answers other than 502/503 (the proxy's answer while no server took the call).</summary>
        private async Task Repeat(HttpMethod method, string path, object? body)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var response = await Send(http, method, path, token, body);
                    if (response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable))
                    {
                        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        return;
                    }
                }
                catch (HttpRequestException) when (attempt < 50)
                {
                }
                if (attempt >= 50) throw new InvalidOperationException($"{path}: no server answered");
                await Task.Delay(200);
            }
        }
    }

    /// <summary>nginx running docs/nginx-several-servers.conf with the ports of this test.</summary>
    private sealed class Nginx : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _prefix;

        private Nginx(Process process, string prefix, int port)
        {
            _process = process;
            _prefix = prefix;
            Port = port;
        }

        public int Port { get; }

        public static async Task<Nginx> StartAsync(string prefix, int serverA, int serverB)
        {
            Directory.CreateDirectory(Path.Combine(prefix, "tmp"));
            var port = ServerProcess.FreePort();
            var config = (await File.ReadAllTextAsync(Path.Combine(Repo.Root, "docs", "nginx-several-servers.conf")))
                .Replace("127.0.0.1:5080", $"127.0.0.1:{port}", StringComparison.Ordinal)
                .Replace("127.0.0.1:5081", $"127.0.0.1:{serverA}", StringComparison.Ordinal)
                .Replace("127.0.0.1:5082", $"127.0.0.1:{serverB}", StringComparison.Ordinal);
            var file = Path.Combine(prefix, "nginx.conf");
            await File.WriteAllTextAsync(file, config);
            var binary = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
            var psi = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-p", prefix + "/", "-c", file, "-g", "daemon off;" }) psi.ArgumentList.Add(arg);
            var process = Process.Start(psi)!;
            var nginx = new Nginx(process, prefix, port);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var tcp = new TcpClient();
                    await tcp.ConnectAsync(IPAddress.Loopback, port);
                    return nginx;
                }
                catch (SocketException)
                {
                }
                if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
                    throw new InvalidOperationException($"nginx did not start: {await process.StandardError.ReadToEndAsync()}\n{nginx.Log()}");
                await Task.Delay(100);
            }
        }

        public string Log()
        {
            var file = Path.Combine(_prefix, "error.log");
            return File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(40)) : "";
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
