using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Tests.Build;

/// <summary>
/// The build sandbox with the real bubblewrap: each test is an attack a pushed branch's build recipe could try,
/// run as the agent runs it (as root here, so the build drops to nobody). Each must fail or find nothing.
/// </summary>
public sealed class BuildRunnerTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("agent-sandbox-test-").FullName;
    private readonly AgentOptions _options;
    private readonly List<string> _console = [];

    public BuildRunnerTests()
    {
        _options = new AgentOptions { Server = "http://127.0.0.1:9", StateDir = _state };
        Directory.CreateDirectory(Path.Combine(_state, "tokens"));
        File.WriteAllText(TokenFile, "{\"token\":\"agent-secret-token\"}");
        File.SetUnixFileMode(TokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.CreateDirectory(Checkout);
        File.WriteAllText(Path.Combine(Checkout, "README"), "checkout\n");
    }

    private string TokenFile => Path.Combine(_state, "tokens", "server.json");

    private string Checkout => Path.Combine(_state, "work", "job1");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task RunAsync_CleanBuild_RunsAsBuildUserInCheckoutWithDeclaredEnvOnly()
    {
        const string Leak = "Agent__SandboxTestLeak";
        Environment.SetEnvironmentVariable(Leak, "agent-process-secret");
        try
        {
            var artifacts = await Build("mkdir -p out && id -u > out/uid && env > out/env && printf k > out/kernel.bin", env: "GREETING: hello");

            Assert.EndsWith("/out/kernel.bin", artifacts.Image, StringComparison.Ordinal);
            var uid = File.ReadAllText(Path.Combine(Checkout, "out/uid")).Trim();
            Assert.NotEqual("0", uid); // never root, whoever the agent runs as
            var env = File.ReadAllText(Path.Combine(Checkout, "out/env"));
            Assert.Contains("GREETING=hello", env, StringComparison.Ordinal);
            Assert.DoesNotContain("agent-process-secret", env, StringComparison.Ordinal);
            Assert.DoesNotContain("DOTNET", env, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Leak, null);
        }
    }

    [Fact]
    public async Task RunAsync_BuildReadsAgentTokenFile_FileNotThereBuildFails()
    {
        var e = await Assert.ThrowsAsync<BuildFailedException>(() => Build($"cat {TokenFile}"));

        Assert.Contains("No such file", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_console, l => l.Contains("agent-secret-token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_BuildListsOtherJobsAndState_SeesOnlyItsCheckout()
    {
        Directory.CreateDirectory(Path.Combine(_state, "work", "other-job"));

        await Assert.ThrowsAsync<BuildFailedException>(() => Build($"ls {Path.Combine(_state, "work")} {_state}; ls {Path.Combine(_state, "work", "other-job")}"));

        Assert.DoesNotContain(_console, l => l.Contains("other-job", StringComparison.Ordinal) && !l.Contains("No such file", StringComparison.Ordinal));
        Assert.DoesNotContain(_console, l => l.Trim() == "tokens");
    }

    [Fact]
    public async Task RunAsync_BuildWritesOutsideCheckout_NothingWrittenOnHost()
    {
        var outside = Path.Combine(_state, "planted");
        var tmp = Path.Combine(Path.GetTempPath(), $"planted-{Guid.NewGuid():N}");

        await Assert.ThrowsAsync<BuildFailedException>(() => Build($"echo x > {tmp}; echo x > {outside}; echo x > /usr/planted"));

        Assert.False(File.Exists(tmp));
        Assert.False(File.Exists("/usr/planted"));
        Assert.False(File.Exists(outside));
        Assert.Contains(_console, l => l.Contains("Read-only file system", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_BuildConnectsToLoopbackServer_NoConnectionArrives()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var e = await Assert.ThrowsAsync<BuildFailedException>(() => Build($"bash -c 'echo hello > /dev/tcp/127.0.0.1/{port}'"));

        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task RunAsync_TrustedRepositoryAsksForNetwork_ConnectionArrives()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptTcpClientAsync();

        await Build($"bash -c 'echo hello > /dev/tcp/127.0.0.1/{port}' && mkdir -p out && printf k > out/kernel.bin", network: true, trusted: true);

        using var client = await accepted.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(client.Connected);
    }

    [Fact]
    public async Task RunAsync_UntrustedRepositoryAsksForNetwork_BuildRunsWithoutAndSaysSo()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        await Assert.ThrowsAsync<BuildFailedException>(() => Build($"bash -c 'echo hello > /dev/tcp/127.0.0.1/{port}'", network: true, trusted: false));

        Assert.False(listener.Pending());
        Assert.Contains(_console, l => l.Contains("not registered trusted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_BuildLeavesDaemon_DaemonDeadWhenBuildReturns()
    {
        var name = $"daemon-{Guid.NewGuid():N}"[..15];

        await Build($"cp /bin/sleep ./{name} && (setsid ./{name} 1000 > /dev/null 2>&1 &) && mkdir -p out && printf k > out/kernel.bin");

        var alive = Directory.EnumerateDirectories("/proc")
            .Select(d => Path.Combine(d, "comm"))
            .Where(f => int.TryParse(Path.GetFileName(Path.GetDirectoryName(f)), out _))
            .Select(f =>
            {
                try
                {
                    return File.ReadAllText(f).Trim();
                }
                catch (IOException)
                {
                    return "";
                }
            })
            .Where(comm => comm == name);
        Assert.Empty(alive);
    }

    [Fact]
    public async Task RunAsync_ArtifactIsSymlinkToAgentFile_RefusedAsOutsideCheckout()
    {
        var e = await Assert.ThrowsAsync<BuildFailedException>(() => Build($"mkdir -p out && ln -s {TokenFile} out/kernel.bin"));

        Assert.Contains("outside the checkout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ArtifactUnderSymlinkedDirectory_RefusedAsOutsideCheckout()
    {
        var e = await Assert.ThrowsAsync<BuildFailedException>(() => Build($"ln -s {Path.Combine(_state, "tokens")} out", image: "out/server.json"));

        Assert.Contains("outside the checkout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BuildFloodsOutput_StoppedAtLimitAsBuildFailure()
    {
        _options.Sandbox.MaxOutputMiB = 1;

        var e = await Assert.ThrowsAsync<BuildFailedException>(() => Build("yes 0123456789012345678901234567890123456789"));

        Assert.Contains("more than 1 MiB", e.Message, StringComparison.Ordinal);
        Assert.True(_console.Sum(l => l.Length + 1) <= 1024 * 1024);
    }

    [Fact]
    public async Task RunAsync_CheckoutGrowsPastDiskLimit_StoppedAtNextCheckAsBuildFailure()
    {
        _options.Sandbox.DiskMiB = 1;
        var time = new FakeTimeProvider();
        var written = Path.Combine(Checkout, "written");

        var build = Build("head -c 2000000 /dev/zero > big && touch written && sleep 120", time: time);
        while (!File.Exists(written) && !build.IsCompleted)
            await Task.Delay(20);
        time.Advance(TimeSpan.FromSeconds(_options.Sandbox.DiskCheckSeconds));
        var e = await Assert.ThrowsAsync<BuildFailedException>(() => build.WaitAsync(TimeSpan.FromMinutes(1)));

        Assert.Contains("grew past 1 MiB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DiskUse_LinkToLargeTreeOutside_NotCounted()
    {
        File.WriteAllBytes(Path.Combine(Checkout, "data"), new byte[4096]);
        File.CreateSymbolicLink(Path.Combine(Checkout, "usr"), "/usr");

        Assert.Equal(4096 + "checkout\n".Length, BuildRunner.DiskUse(Checkout));
    }

    [Fact]
    public async Task RunAsync_BubblewrapMissing_LabFailureAndCommandNeverRuns()
    {
        _options.Sandbox.Bwrap = "/nonexistent/bwrap";
        var marker = Path.Combine(Checkout, "ran-unsandboxed");

        var e = await Assert.ThrowsAsync<LabInfraException>(() => Build($"touch {marker}"));

        Assert.Contains("sandbox", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void ResolveInside_DotDotOutOfCheckout_Refused()
    {
        Assert.Throws<BuildFailedException>(() => BuildSandbox.ResolveInside(Checkout, "../../tokens/server.json"));
    }

    private async Task<BuildArtifacts> Build(string command, string image = "out/kernel.bin", string? env = null, bool network = false, bool trusted = false, TimeProvider? time = null)
    {
        var yaml = Pipelines.Yaml(build: command, image: image);
        if (env is not null)
            yaml = yaml.Replace("  artifacts:", $"  env:\n    {env}\n  artifacts:", StringComparison.Ordinal);
        if (network)
            yaml = yaml.Replace("  artifacts:", "  network: true\n  artifacts:", StringComparison.Ordinal);
        var pipeline = PipelineLoader.Load(yaml, "pipelines/test.yaml");
        var runner = new BuildRunner(time ?? TimeProvider.System, new BuildSandbox(Options.Create(_options), NullLogger<BuildSandbox>.Instance), NullLogger<BuildRunner>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await runner.RunAsync(pipeline, pipeline.Variant("default"), Checkout, Add, timeout.Token, networkAllowed: trusted);
    }

    private void Add(RawConsoleLine line)
    {
        lock (_console)
            _console.Add(line.Text);
    }
}
