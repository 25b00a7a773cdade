using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Polly;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Agent.Jobs;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Qemu;
using Redox.Lab.Agent.Server;

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
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));

        services.AddServerPipelines(new ServerPipelineSettings());
        services.AddHttpClient<EnrolmentClient>(ConfigureServerHttp).UseLongLivedHandler();
        services.AddHttpClient<LabServerClient>(ConfigureServerHttp).UseLongLivedHandler();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<AgentCredentials>();

        services.AddSingleton<IMachineDriver, QemuDriver>();
        services.AddSingleton(sp => new MachinePool(sp.GetRequiredService<IOptions<AgentOptions>>(), sp.GetServices<IMachineDriver>()));

        services.AddSingleton<GitCheckout>();
        services.AddSingleton<BuildRunner>();
        services.AddSingleton<BootRunner>();
        services.AddSingleton<JobRunner>();
        services.AddHostedService<AgentWorker>();
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
