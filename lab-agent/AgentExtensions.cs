using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Polly;
using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Agent.Jobs;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Health;
using Redox.Lab.Agent.Machines.Pc;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Agent.Machines.Resilience;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Secrets;

namespace Redox.Lab.Agent;

/// <summary>Registration of the agent's services.</summary>
public static class AgentExtensions
{
    public static IServiceCollection AddAgent(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AgentOptions>()
            .Bind(configuration.GetSection(AgentOptions.Section))
            .Validate(o => Uri.TryCreate(o.Server, UriKind.Absolute, out var u) && u.Scheme is "http" or "https",
                "Agent:Server must be the server's absolute URL, e.g. http://127.0.0.1:5080")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Name), "Agent:Name must not be empty")
            .Validate(o => o.PollWaitSeconds is >= 1 and <= 300, "Agent:PollWaitSeconds must be 1..300")
            .PostConfigure(o =>
            {
                if (!string.IsNullOrWhiteSpace(o.EnrolmentSecretFile))
                    o.EnrolmentSecret = SecretFiles.Read(o.EnrolmentSecretFile, "Agent:EnrolmentSecretFile");
            })
            .ValidateOnStart();
        // The configuration has read it: no child (git, QEMU, a build) inherits the enrolment secret.
        SecretFiles.ScrubEnvironment("Agent:EnrolmentSecret");

        services.TryAddSingleton(TimeProvider.System);
        services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));

        services.AddServerPipelines(new ServerPipelineSettings());
        services.AddHttpClient<EnrolmentClient>(ConfigureServerHttp).UseLongLivedHandler();
        services.AddHttpClient<LabServerClient>(ConfigureServerHttp).UseLongLivedHandler();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<AgentCredentials>();
        services.AddSingleton<SpoolDrainer>();

        services.AddSingleton<IMachineDriver, QemuDriver>();
        services.AddBench(configuration);
        services.AddSingleton(sp =>
        {
            var agent = sp.GetRequiredService<IOptions<AgentOptions>>();
            var bench = sp.GetRequiredService<PcBench>();
            var factory = sp.GetRequiredService<PcFactory>();
            var simulated = agent.Value.Machines.Count > 0 || bench.Machines.Count == 0
                ? MachinePool.Create(agent.Value, sp.GetServices<IMachineDriver>())
                : [];
            return new MachinePool([.. simulated, .. bench.Machines.Select(factory.Create)]);
        });

        services.AddSingleton<GitCheckout>();
        services.AddSingleton<BuildSandbox>();
        services.AddSingleton<BuildRunner>();
        services.AddSingleton<BootRunner>();
        services.AddSingleton<JobRunner>();
        services.AddOptions<HealthCheckOptions>().Bind(configuration.GetSection(HealthCheckOptions.Section));
        services.AddSingleton<HealthChecker>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthChecker>());
        services.AddHostedService<AgentWorker>();
        return services;
    }

    /// <summary>
    /// Real PCs: the machines file (loaded and validated here, so a wrong file stops the agent at start
    /// with the machine and field named), the machine pipelines, and, when there are PCs, the network
    /// boot services (HTTP, TFTP, proxyDHCP).
    /// </summary>
    public static IServiceCollection AddBench(this IServiceCollection services, IConfiguration configuration, MachinePipelineSettings? settings = null)
    {
        var file = configuration.GetSection(AgentOptions.Section)["MachinesFile"];
        var bench = new PcBench(string.IsNullOrWhiteSpace(file) ? [] : MachinesFile.Load(file));
        services.AddSingleton(bench);
        services.AddOptions<BootOptions>().Bind(configuration.GetSection(BootOptions.Section));
        services.AddSingleton<BootDeliveries>();
        services.AddSingleton<BootFirmware>();
        services.AddSingleton<BootHttpServer>();
        services.AddSingleton<BootNetwork>();
        services.AddSingleton<PcFactory>();
        services.AddHttpClient(PcFactory.PduHttpClient);
        services.AddMachinePipelines(settings ?? new MachinePipelineSettings(),
            (sp, machine) => sp.GetRequiredService<PcBench>().Find(machine)?.Boot.Attempts ?? 1);
        if (bench.Machines.Count > 0)
            services.AddHostedService(sp => sp.GetRequiredService<BootNetwork>());
        return services;
    }

    /// <summary>Registers the named pipelines <c>server</c> and <c>long-poll</c> (<see cref="ServerPipelines"/>).</summary>
    public static IServiceCollection AddServerPipelines(this IServiceCollection services, ServerPipelineSettings settings)
    {
        services.AddResiliencePipeline<string, HttpResponseMessage>(ServerPipelines.Server, (builder, context) =>
        {
            builder.TimeProvider = context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            ServerPipelines.ConfigureServer(builder, settings);
        });
        services.AddResiliencePipeline<string, HttpResponseMessage>(ServerPipelines.LongPoll, (builder, context) =>
        {
            builder.TimeProvider = context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            var wait = context.ServiceProvider.GetRequiredService<IOptions<AgentOptions>>().Value.PollWaitSeconds;
            ServerPipelines.ConfigureLongPoll(builder, settings, wait);
        });
        return services;
    }

    private static void ConfigureServerHttp(IServiceProvider services, HttpClient http)
    {
        var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        http.BaseAddress = options.ServerUri;
        // The resilience pipelines time each attempt; this only has to outlast the longest one, the poll.
        http.Timeout = TimeSpan.FromSeconds(options.PollWaitSeconds) + TimeSpan.FromSeconds(60);
    }

    // The typed clients live in singletons (the worker, the job flow), so their handler is never
    // rotated by the factory; pooled connections are recycled instead, which keeps DNS changes visible.
    private static IHttpClientBuilder UseLongLivedHandler(this IHttpClientBuilder builder) => builder
        .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
}
