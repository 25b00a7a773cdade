using Redox.Lab.Dashboard.Pages.Charts;
using Redox.Lab.Dashboard.Pages.Console;
using Redox.Lab.Dashboard.Pages.Machines;
using Redox.Lab.Dashboard.Pages.Overview;
using Redox.Lab.Dashboard.Pages.Profiles;
using Redox.Lab.Dashboard.Pages.Run;
using Redox.Lab.Dashboard.Pages.Runs;
using Redox.Lab.Dashboard.Pages.Verdicts;

namespace Redox.Lab.Server.Dashboard;

/// <summary>Registers the query behind each dashboard page (one class per page, in this folder).</summary>
public static class DashboardQueries
{
    public static IServiceCollection AddDashboardQueries(this IServiceCollection services)
    {
        services.AddScoped<RunsQuery>();
        services.AddScoped<IRunsQuery>(sp => sp.GetRequiredService<RunsQuery>());
        services.AddScoped<MachinesQuery>();
        services.AddScoped<IMachinesQuery>(sp => sp.GetRequiredService<MachinesQuery>());
        services.AddScoped<IOverviewQuery, OverviewQuery>();
        services.AddScoped<IRunQuery, RunQuery>();
        services.AddScoped<IConsoleQuery, ConsoleQuery>();
        services.AddScoped<IBootTimeQuery, BootTimeQuery>();
        services.AddScoped<IMetricQuery, MetricQuery>();
        services.AddScoped<IVerdictsQuery, VerdictsQuery>();
        services.AddScoped<IProfileViewQuery, ProfileViewQuery>();
        return services;
    }
}
