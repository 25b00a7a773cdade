using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Redox.Lab.Dashboard;

/// <summary>The dashboard's pages: server-rendered HTML, no scripts. The host provides <see cref="IDashboardData"/>.</summary>
public static class DashboardEndpoints
{
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("").WithTags("Dashboard").ExcludeFromDescription();
        pages.MapGet("/", RunsPage.Render).WithName("RunsPage");
        pages.MapGet("/runs/{id:guid}", RunPage.Render).WithName("RunPage");
        pages.MapGet("/jobs/{id:guid}/console", ConsolePage.Render).WithName("ConsolePage");
        pages.MapGet("/charts/boot-time", BootTimeChart.Render).WithName("BootTimeChart");
        return app;
    }

    internal static IResult NotFound(string what) =>
        Html.Page("Not found", new Html().Tag("h1", "Not found").Tag("p", what), StatusCodes.Status404NotFound);
}
