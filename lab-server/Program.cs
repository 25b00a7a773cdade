using Redox.Lab.Dashboard;
using Redox.Lab.Server;
using Redox.Lab.Server.Agents;
using Redox.Lab.Server.Artifacts;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Forges;
using Redox.Lab.Server.Machines;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Repositories;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Verdicts;

var builder = WebApplication.CreateBuilder(args);
builder.AddApplicationServices();

var app = builder.Build();
app.UseApplicationMiddleware();

app.MapHealthApi();
app.MapRunsApi();
app.MapAgentsApi();
app.MapArtifactsApi();
app.MapProfilesApi();
app.MapVerdictsApi();
app.MapBugsApi();
app.MapMachinesApi();
app.MapDashboard();
app.MapHangfire();
app.MapLoginPages();
app.MapIdentityApi();
app.MapRepositoriesApi();
app.MapForges();
app.MapRunEventsApi();
app.MapJobStateApi();
app.MapCancelApi();

app.Run();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
