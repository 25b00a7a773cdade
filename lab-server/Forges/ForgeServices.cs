namespace Redox.Lab.Server.Forges;

/// <summary>Registration of the forge feature: hooks in, commit statuses out.</summary>
public static class ForgeServices
{
    public static void AddForges(this IServiceCollection services)
    {
        services.AddScoped<HookIntake>();
        services.AddOptions<ForgeOptions>().BindConfiguration(ForgeOptions.Section);
        services.AddHttpClient<ForgeStatusClient>(ForgeStatusClient.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddScoped<PostCommitStatusJob>();
        services.AddScoped<CommitStatusPlanner>();
        services.AddHostedService<CommitStatusSweep>();
    }

    public static void MapForges(this IEndpointRouteBuilder app)
    {
        app.MapWebhooksApi();
        app.MapRepositoryHooksApi();
        app.MapCommitStatusesApi();
    }
}
