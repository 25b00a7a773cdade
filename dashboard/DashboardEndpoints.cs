using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Dashboard.Pages.Console;

namespace Redox.Lab.Dashboard;

/// <summary>
/// The dashboard: Razor components rendered statically on the server (no interactive render mode, no
/// SignalR circuit), their static assets, and the few plain endpoints beside them (raw console). All of it
/// in one route group, so an authorization policy is applied once. The host registers one query per page
/// (see README.md).
/// </summary>
public static class DashboardEndpoints
{
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddRazorComponents();
        return services;
    }

    /// <summary>Maps every dashboard route into one group and returns it (for policies and tags).</summary>
    public static RouteGroupBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("");
        pages.WithTags("Dashboard").ExcludeFromDescription();
        pages.MapStaticAssets();
        pages.MapRazorComponents<App>().WithStaticAssets();
        pages.MapGet("/jobs/{id:guid}/console.txt", RawConsole).WithName("RawConsole");
        return pages;
    }

    /// <summary>The whole console as UTF-8 text, streamed (a 50 MB console never sits in memory).</summary>
    private static async Task<IResult> RawConsole(Guid id, IConsoleQuery query, CancellationToken ct)
    {
        var lines = await query.ReadAllAsync(id, ct);
        if (lines is null) return Results.NotFound();
        return Results.Stream(async body =>
        {
            await using var writer = new StreamWriter(body, new System.Text.UTF8Encoding(false), 1 << 16);
            await foreach (var line in lines.WithCancellation(ct))
            {
                await writer.WriteAsync(line);
                await writer.WriteAsync('\n');
            }
        }, "text/plain; charset=utf-8", $"console-{id}.txt");
    }
}
