namespace Redox.Lab.Server.Forges;

/// <summary>Registration of the forge feature: hooks in, commit statuses out.</summary>
public static class ForgeServices
{
    public static void AddForges(this IServiceCollection services)
    {
        services.AddScoped<HookIntake>();
        services.AddScoped<IRunCancellation, QueuedWorkCancellation>();
    }

    public static void MapForges(this IEndpointRouteBuilder app)
    {
        app.MapWebhooksApi();
        app.MapRepositoryHooksApi();
    }
}
