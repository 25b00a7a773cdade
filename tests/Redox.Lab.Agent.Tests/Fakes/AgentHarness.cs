using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly.Registry;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Agent.Jobs;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Server;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>The agent's services wired to a <see cref="FakeLabServer"/>, a temporary state dir and a clock of the test's choice.</summary>
public sealed class AgentHarness : IDisposable
{
    /// <summary>No backoff delays: retries happen at once, whatever the clock.</summary>
    public static readonly ServerPipelineSettings FastRetries = new()
    {
        BaseDelay = TimeSpan.Zero,
        MaxDelay = TimeSpan.Zero,
        LongPollMaxDelay = TimeSpan.Zero,
        MaxRetries = 3,
    };

    private readonly ServiceProvider _services;

    public AgentHarness(TimeProvider time, IMachine? machine = null, Action<AgentOptions>? configure = null)
    {
        Time = time;
        StateDir = Directory.CreateTempSubdirectory("agent-test-").FullName;
        Options = new AgentOptions
        {
            Server = "http://lab.test:5080",
            Name = "test-agent",
            EnrolmentSecret = Server.Secret,
            StateDir = StateDir,
            PollWaitSeconds = 1,
        };
        configure?.Invoke(Options);

        var services = new ServiceCollection();
        if (Environment.GetEnvironmentVariable("AGENT_TEST_LOG") == "1")
            services.AddLogging(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug));
        else
            services.AddLogging(b => b.ClearProviders());
        services.AddSingleton(time);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(Options));
        services.AddServerPipelines(FastRetries);
        services.AddSingleton(sp => new EnrolmentClient(Http(), sp.GetRequiredService<ResiliencePipelineProvider<string>>()));
        services.AddSingleton(sp => new LabServerClient(Http(), sp.GetRequiredService<AgentCredentials>(),
            sp.GetRequiredService<ResiliencePipelineProvider<string>>(), sp.GetRequiredService<IOptions<AgentOptions>>()));
        services.AddSingleton<TokenStore>();
        services.AddSingleton<AgentCredentials>();
        services.AddSingleton(new MachinePool([machine ?? new ScriptedMachine(_ => Task.CompletedTask)]));
        services.AddSingleton<GitCheckout>();
        services.AddSingleton<BuildSandbox>();
        services.AddSingleton<BuildRunner>();
        services.AddSingleton<BootRunner>();
        services.AddSingleton<JobRunner>();
        _services = services.BuildServiceProvider();
    }

    public FakeLabServer Server { get; } = new();

    public TimeProvider Time { get; }

    public string StateDir { get; }

    public AgentOptions Options { get; }

    public LabServerClient Client => _services.GetRequiredService<LabServerClient>();

    public AgentCredentials Credentials => _services.GetRequiredService<AgentCredentials>();

    public TokenStore Tokens => _services.GetRequiredService<TokenStore>();

    public JobRunner Jobs => _services.GetRequiredService<JobRunner>();

    public BootRunner Boots => _services.GetRequiredService<BootRunner>();

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public void Dispose()
    {
        _services.Dispose();
        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private HttpClient Http() => new(Server, disposeHandler: false) { BaseAddress = Options.ServerUri };
}
