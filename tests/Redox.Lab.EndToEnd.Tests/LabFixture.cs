using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// The whole lab on this machine, as README command 1 starts it, but private to the tests: a real
/// PostgreSQL (scripts/pg-local.sh), the migrate command, the lab-server and one lab-agent as
/// separate processes over real HTTP, and a git repository holding this checkout's kernel.
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    /// <summary>Random per run, so a test can look for it in what a build printed.</summary>
    public static readonly string Secret = "enrol-" + Guid.NewGuid().ToString("N");

    private readonly string _work = Directory.CreateTempSubdirectory("redox-lab-e2e-").FullName;

    public static string RepoRoot { get; } = FindRepoRoot();

    public string ServerUrl { get; private set; } = "";

    public string ConnectionString { get; private set; } = "";

    /// <summary>The test repository (a copy of kernel/, bootstrap/ and pipelines/ committed to git).</summary>
    public string TestRepo => Path.Combine(_work, "repo");

    public ChildProcess Server { get; private set; } = null!;

    public ChildProcess Agent { get; private set; } = null!;

    /// <summary>A client carrying the admin token that the install command wrote (mode 600), as README command 1 does.</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>A client without credentials.</summary>
    public HttpClient AnonymousHttp { get; private set; } = null!;

    /// <summary>The enrolment secret's file (mode 600), as scripts/lab-start.sh writes it: server and agents read it, no environment holds it.</summary>
    public string SecretFile => Path.Combine(_work, "enrolment-secret");

    /// <summary>The state directory of the agent of that name (its token under <c>tokens/</c>, its jobs under <c>work/</c>).</summary>
    public string AgentStateDir(string name) => Path.Combine(_work, "agent-" + name);

    /// <summary>The fixture's private temp directory.</summary>
    public string WorkDir => _work;

    /// <summary>The admin token's file (written by <c>Redox.Lab.Migrations create-token</c>).</summary>
    public string AdminTokenFile => Path.Combine(_work, "admin-token");

    /// <summary>The test repository's registered name.</summary>
    public const string TestRepoName = "e2e-kernel";

    private static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public async Task InitializeAsync()
    {
        File.WriteAllText(SecretFile, Secret + "\n");
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var pgBase = Run(Path.Combine(RepoRoot, "scripts/pg-local.sh"), "start", Path.Combine(_work, "pg"), FreePort().ToString(), "throwaway").Trim();
        ConnectionString = pgBase.Replace("Database=postgres", "Database=redox_lab_e2e", StringComparison.Ordinal);

        using (var migrate = ChildProcess.StartDll("migrate", Dll("migrations", "Redox.Lab.Migrations"), ["--connection", ConnectionString], new Dictionary<string, string>()))
        {
            var code = await migrate.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(code == 0, migrate.Tail());
        }

        using (var token = ChildProcess.StartDll("create-token", Dll("migrations", "Redox.Lab.Migrations"),
                   ["create-token", "--connection", ConnectionString, "--user", "admin", "--role", "admin", "--out", AdminTokenFile], new Dictionary<string, string>()))
        {
            var code = await token.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(code == 0, token.Tail());
        }

        ServerUrl = $"http://127.0.0.1:{FreePort()}";
        StartServerProcess();
        Http = new HttpClient { BaseAddress = new Uri(ServerUrl), Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", File.ReadAllText(AdminTokenFile).Trim());
        AnonymousHttp = new HttpClient { BaseAddress = new Uri(ServerUrl), Timeout = TimeSpan.FromSeconds(60) };
        await WaitHealthyAsync();

        StartAgent("e2e-agent");
        CreateTestRepo();
        await RegisterRepositoryAsync(new Redox.Lab.Contracts.Api.RepositoryView(TestRepoName, TestRepo, "main", ["pipelines/*.yaml"], true, ["*"]));
    }

    /// <summary>The lease the server gives a job, shortened from the default 30 s so lease expiries happen in test time.</summary>
    public const int LeaseSeconds = 6;

    /// <summary>A lease sweep this long after the previous one means the lab was down (Lab:SweepGapSeconds, default 60).</summary>
    public const int SweepGapSeconds = 30;

    private void StartServerProcess() =>
        Server = ChildProcess.StartDll("server", Dll("lab-server", "Redox.Lab.Server"), ["--urls", ServerUrl], new Dictionary<string, string>
        {
            ["ConnectionStrings__Lab"] = ConnectionString,
            ["Lab__EnrolmentSecretFile"] = SecretFile,
            ["Lab__DataDir"] = Path.Combine(_work, "server"),
            ["Lab__LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Lab__SweepGapSeconds"] = SweepGapSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Commit statuses link to the runs on this server.
            ["Lab__Forges__PublicUrl"] = ServerUrl,
        });

    /// <summary>Kills the server process (no graceful stop: an outage, not a deployment).</summary>
    public void KillServer()
    {
        Server.Kill();
        // Keep the dead process's output for diagnostics.
        DeadServerOutput += Server.Output;
    }

    /// <summary>Starts the server again on the same URL and database; returns once it answers /healthz.</summary>
    public async Task RestartServerAsync()
    {
        Server.Dispose();
        StartServerProcess();
        await WaitHealthyAsync();
    }

    /// <summary>The output of server processes killed by <see cref="KillServer"/>.</summary>
    public string DeadServerOutput { get; private set; } = "";

    /// <summary>Registers a repository as the admin.</summary>
    public async Task RegisterRepositoryAsync(Redox.Lab.Contracts.Api.RepositoryView repository)
    {
        using var response = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(Http, "/api/repositories", repository, LabApi.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Starts (or restarts) the agent process with a state dir of its own.</summary>
    public void StartAgent(string name)
    {
        Agent?.Dispose();
        Agent = ChildProcess.StartDll("agent", Dll("lab-agent", "Redox.Lab.Agent"), [], new Dictionary<string, string>
        {
            ["Agent__Server"] = ServerUrl,
            ["Agent__EnrolmentSecretFile"] = SecretFile,
            ["Agent__Name"] = name,
            ["Agent__StateDir"] = AgentStateDir(name),
        });
    }

    /// <summary>Adds (or replaces) a file in the test repository and commits it; returns the new commit id.</summary>
    public string Commit(string path, string content, string message)
    {
        var full = Path.Combine(TestRepo, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        Git("add", "-A");
        Git("commit", "-q", "--allow-empty", "-m", message);
        return Git("rev-parse", "HEAD").Trim();
    }

    public async Task<NpgsqlConnection> OpenDatabaseAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public string Diagnostics() => Server.Tail(60) + "\n" + Agent.Tail(60);

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        AnonymousHttp?.Dispose();
        Agent?.Dispose();
        Server?.Dispose();
        await Task.Yield();
        Run(Path.Combine(RepoRoot, "scripts/pg-local.sh"), "stop", Path.Combine(_work, "pg"));
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // Files of the stopped cluster may still be closing; the temp dir is the OS's to clean.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void CreateTestRepo()
    {
        Directory.CreateDirectory(TestRepo);
        foreach (var dir in new[] { "kernel", "bootstrap", "pipelines" })
        {
            CopyTree(Path.Combine(RepoRoot, dir), Path.Combine(TestRepo, dir));
        }

        Git("init", "-q", "-b", "main");
        Git("config", "user.email", "e2e@redox-lab.local");
        Git("config", "user.name", "e2e");
        Git("add", "-A");
        Git("commit", "-q", "-m", "reference kernel");
    }

    /// <summary>Copies a source tree, leaving out build output folders.</summary>
    public static void CopyTree(string from, string to)
    {
        if (!Directory.Exists(from))
        {
            return;
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(dir);
            if (!name.StartsWith("build", StringComparison.Ordinal))
            {
                CopyTree(dir, Path.Combine(to, name));
            }
        }
    }

    private async Task WaitHealthyAsync()
    {
        // Generous: a server restarted on a loaded machine can take a minute to answer. Each probe has its own
        // short timeout (a pooled connection to a killed server hangs until it does), on a fresh connection.
        var until = DateTime.UtcNow.AddMinutes(3);
        using var probe = new HttpClient { BaseAddress = new Uri(ServerUrl), Timeout = TimeSpan.FromSeconds(10) };
        while (DateTime.UtcNow < until && !Server.HasExited)
        {
            try
            {
                using var response = await probe.GetAsync("/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException("lab-server did not become healthy\n" + Server.Tail());
    }

    private string Git(params string[] args) => Run("git", [.. new[] { "-C", TestRepo }, .. args]);

    /// <summary>The lab-agent's program, for tests that start agents of their own.</summary>
    public static string AgentDll => Dll("lab-agent", "Redox.Lab.Agent");

    /// <summary>The `lab` command line's program.</summary>
    public static string LabDll => Dll("lab-cli", "lab");

    private static string Dll(string folder, string assembly) =>
        Path.Combine(RepoRoot, folder, "bin", Configuration, "net10.0", assembly + ".dll");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Redox.Lab.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Redox.Lab.sln not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}
