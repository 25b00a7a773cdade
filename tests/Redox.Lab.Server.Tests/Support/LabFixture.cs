using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Migrations;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>
/// One real PostgreSQL (fresh database, migrated by the migrate command) and one real lab server on Kestrel
/// (127.0.0.1, a free port) for the "lab" collection. Tests isolate themselves by tags and agent names.
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    public const string EnrolmentSecret = "test-enrolment-secret";
    public const int LeaseSeconds = 30;
    public const int GitProcessTimeoutSeconds = 10;
    public const int GitTotalTimeoutSeconds = 20;

    private WebApplicationFactory<Program>? _factory;
    private PostgresCluster? _cluster;
    private bool _ownsCluster;

    public static readonly JsonSerializerOptions Json = CreateJson();

    /// <summary>Temp folder for this fixture: PostgreSQL data, git repositories, the server's mirrors.</summary>
    public string TempDir { get; } = Path.Combine(Path.GetTempPath(), "redox-lab-server-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public string ConnectionString { get; private set; } = "";

    /// <summary>The admin token made by the install command (<c>create-token</c>), as README command 1 makes it.</summary>
    public string AdminToken { get; private set; } = "";

    internal PostgresCluster Cluster => _cluster!;

    public IServiceProvider Services => _factory!.Services;

    /// <summary>The server's factory, for a variant with other settings (<c>WithWebHostBuilder</c>).</summary>
    public WebApplicationFactory<Program> Factory => _factory!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(TempDir);
        _cluster = await PostgresCluster.StartAsync(Path.Combine(TempDir, "pg"));
        _ownsCluster = true;
        await StartServerAsync();
    }

    /// <summary>
    /// Another lab server on its own fresh database in this fixture's PostgreSQL, for a test that must see no other
    /// test's machines or runs (a job over every machine). Dispose it; the cluster stays with this fixture.
    /// </summary>
    public async Task<LabFixture> IsolatedAsync()
    {
        var lab = new LabFixture { _cluster = _cluster };
        Directory.CreateDirectory(lab.TempDir);
        await lab.StartServerAsync();
        return lab;
    }

    private async Task StartServerAsync()
    {
        ConnectionString = _cluster!.ConnectionString("lab_" + Guid.NewGuid().ToString("N")[..8]);

        using var output = new StringWriter();
        var exit = await MigrateCommand.RunAsync(["--connection", ConnectionString], output, output);
        Assert.True(exit == 0, output.ToString());
        var tokenFile = Path.Combine(TempDir, "admin-token");
        exit = await CreateTokenCommand.RunAsync(["--connection", ConnectionString, "--user", "admin", "--role", "admin", "--out", tokenFile], output, output);
        Assert.True(exit == 0, output.ToString());
        AdminToken = (await File.ReadAllTextAsync(tokenFile)).Trim();

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Lab", ConnectionString);
            b.UseSetting("Lab:EnrolmentSecret", EnrolmentSecret);
            b.UseSetting("Lab:DataDir", Path.Combine(TempDir, "server"));
            b.UseSetting("Lab:LeaseSeconds", LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Every test enrols, pushes and logs in from 127.0.0.1: the rate limits' own tests lower these at run time.
            b.UseSetting("Lab:RateLimits:LoginPerMinute", "100000");
            b.UseSetting("Lab:RateLimits:EnrolPerMinute", "100000");
            b.UseSetting("Lab:RateLimits:TokenPerMinute", "100000");
            b.UseSetting("Lab:RateLimits:PushPerMinute", "100000");
            // The limits at their defaults, set explicitly so Configure can put them back (configuration cannot unset a key).
            foreach (var limit in typeof(LimitsOptions).GetProperties())
                b.UseSetting($"Lab:Limits:{limit.Name}", Convert.ToString(limit.GetValue(new LimitsOptions()), System.Globalization.CultureInfo.InvariantCulture));
            // Short git bounds, so a test against a remote that never answers ends in seconds (a local fetch takes milliseconds).
            b.UseSetting("Lab:Git:ProcessTimeoutSeconds", GitProcessTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseSetting("Lab:Git:TotalTimeoutSeconds", GitTotalTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseEnvironment("Testing");
        });
        _factory.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        _factory.StartServer();
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        if (_cluster is not null && _ownsCluster) await _cluster.DisposeAsync();
        try
        {
            Directory.Delete(TempDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still held open is left in /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>An HTTP client to the real server, with <paramref name="bearer"/> or else the admin token.</summary>
    public HttpClient Client(string? bearer = null)
    {
        var client = _factory!.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(90);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer ?? AdminToken);
        return client;
    }

    /// <summary>An HTTP client without credentials.</summary>
    public HttpClient AnonymousClient()
    {
        // A plain client to the Kestrel address: WebApplicationFactory's client options are not applied with Kestrel.
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = _factory!.ClientOptions.BaseAddress,
            Timeout = TimeSpan.FromSeconds(90),
        };
        return client;
    }

    /// <summary>A client that keeps cookies and does not follow redirects, as a browser session for tests of /login.</summary>
    public HttpClient BrowserClient()
    {
        return new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new System.Net.CookieContainer() })
        {
            BaseAddress = _factory!.ClientOptions.BaseAddress,
            Timeout = TimeSpan.FromSeconds(90),
        };
    }

    /// <summary>Makes a user with that role (if missing) and returns a new token of theirs.</summary>
    public async Task<string> UserTokenAsync(string name, string role)
    {
        using var admin = Client();
        var created = await admin.PostAsJsonAsync("/api/users", new CreateUserRequest(name, role), Json);
        Assert.True(created.StatusCode is System.Net.HttpStatusCode.Created or System.Net.HttpStatusCode.Conflict, await created.Content.ReadAsStringAsync());
        var response = await admin.PostAsJsonAsync($"/api/users/{name}/tokens", new CreateTokenRequest("test"), Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<TokenCreated>(Json))!.Token;
    }

    /// <summary>Registers the repository (as an admin); by default trusted, any pipelines/*.yaml, every developer may push.</summary>
    public async Task<RepositoryView> RegisterRepoAsync(
        string location, bool trusted = true, string[]? pipelines = null, string[]? pushers = null, string? name = null, string defaultBranch = "main")
    {
        var view = new RepositoryView(name ?? "repo-" + Guid.NewGuid().ToString("N")[..12], location, defaultBranch,
            pipelines ?? ["pipelines/*.yaml"], trusted, pushers ?? ["*"]);
        using var admin = Client();
        var response = await admin.PostAsJsonAsync("/api/repositories", view, Json);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RepositoryView>(Json))!;
    }

    public AsyncServiceScope Scope() => Services.CreateAsyncScope();

    /// <summary>Enrols an agent with one machine per tag set; returns a client carrying its token.</summary>
    public async Task<(Guid AgentId, HttpClient Client)> EnrolAsync(string name, params string[][] machineTags)
    {
        var machines = machineTags.Select((tags, i) => new MachineInfo($"qemu-{i}", "qemu", tags, 1, 256)).ToList();
        using var anonymous = Client();
        var response = await anonymous.PostAsJsonAsync("/api/agents/enrol", new EnrolRequest(name, EnrolmentSecret, machines, "test"), Json);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var enrolled = (await response.Content.ReadFromJsonAsync<EnrolResponse>(Json))!;
        return (enrolled.AgentId, Client(enrolled.Token));
    }

    /// <summary>A repository with the given pipeline at pipelines/redox-reference.yaml on main, registered (<see cref="RegisterRepoAsync"/>).</summary>
    public async Task<GitRepo> RepoWithPipelineAsync(string yaml, bool register = true)
    {
        var repo = await GitRepo.CreateAsync(TempDir, new Dictionary<string, string>
        {
            ["pipelines/redox-reference.yaml"] = yaml,
            ["README.md"] = "kernel under test\n",
        });
        if (register) await RegisterRepoAsync(repo.Path);
        return repo;
    }

    /// <summary>Pushes the branch and waits until git resolved it (in the background); the response carries the resolved commit.</summary>
    public async Task<PushResponse> PushAsync(GitRepo repo, string branch = "main")
    {
        using var client = Client();
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, branch), Json);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(Json))!;
        var run = await WaitForRunAsync(pushed.RunId, r => !r.Resolving);
        Assert.True(run.Outcome != Outcome.Error, run.Detail);
        return pushed with { Commit = run.Commit };
    }

    /// <summary>
    /// Sets configuration keys on the running server (IOptionsSnapshot/IOptionsMonitor readers see them at once) and
    /// returns what puts the old values back. A second server would share Hangfire's global job activator, so tests
    /// that need other settings change the fixture's own; tests of one collection never run in parallel.
    /// </summary>
    public IDisposable Configure(params (string Key, string Value)[] settings)
    {
        var config = (Microsoft.Extensions.Configuration.IConfigurationRoot)Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        var old = settings.Select(s => (s.Key, config[s.Key] ?? throw new InvalidOperationException($"{s.Key} is not set on the fixture's server, so it could not be put back"))).ToList();
        foreach (var (key, value) in settings) config[key] = value;
        config.Reload();
        return new Restore(() =>
        {
            foreach (var (key, value) in old) config[key] = value;
            config.Reload();
        });
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    public async Task<RunView> RunAsync(Guid runId)
    {
        using var client = Client();
        return (await client.GetFromJsonAsync<RunView>($"/api/runs/{runId}", Json))!;
    }

    /// <summary>Waits until the run satisfies <paramref name="done"/> (jobs are created by a Hangfire job).</summary>
    public async Task<RunView> WaitForRunAsync(Guid runId, Func<RunView, bool> done, int timeoutMs = 15000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var run = await RunAsync(runId);
            if (done(run)) return run;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {runId} did not get there: {JsonSerializer.Serialize(run, Json)}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Stores a pending run straight in the database, as a push does, but schedules nothing: what the lab holds
    /// when the push's enqueue of CreateJobsForRunJob was lost.
    /// </summary>
    public async Task<Guid> InsertRunAsync(string pipelineYaml, DateTimeOffset createdAt)
    {
        await using var scope = Scope();
        var db = scope.ServiceProvider.GetRequiredService<Server.Data.LabDbContext>();
        var repository = new Server.Data.RepositoryRow { Id = Guid.NewGuid(), Name = "inserted-" + Guid.NewGuid().ToString("N"), Url = "/inserted/" + Guid.NewGuid().ToString("N"), CreatedAt = createdAt };
        var run = new Server.Data.RunRow
        {
            Id = Guid.CreateVersion7(createdAt),
            RepositoryId = repository.Id,
            Branch = "main",
            Commit = new string('a', 40),
            PipelinePath = "pipelines/redox-reference.yaml",
            PipelineYaml = pipelineYaml,
            Outcome = Outcome.Pending,
            CreatedAt = createdAt,
        };
        db.Repositories.Add(repository);
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    /// <summary>Long-polls for a job; null on 204.</summary>
    public static async Task<JobAssignment?> NextJobAsync(HttpClient agent, int wait)
    {
        var response = await agent.GetAsync($"/api/agent/jobs/next?wait={wait}");
        if (response.StatusCode == System.Net.HttpStatusCode.NoContent) return null;
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JobAssignment>(Json);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Extensions.ConfigureJson(o);
        return o;
    }
}

[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}
