using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Agents;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Machines;

/// <summary>Machine health routes (HEALTH.md): agents report what they saw; people read health and its history, and set maintenance or ask for a check.</summary>
public static class MachinesApi
{
    public const int MaxReason = 2000;

    public static void MapMachinesApi(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup("/api/agent/machines").WithTags("Machines").RequireAuthorization(AgentTokenHandler.Policy);
        agent.MapPost("/{name}/health", Report).WithName("ReportMachineHealth");
        agent.MapGet("/health-checks", Due).WithName("HealthChecksDue");

        var api = app.MapGroup("/api/machines").WithTags("Machines");
        api.MapGet("", List).WithName("ListMachines");
        api.MapGet("/{id:guid}/health", History).WithName("MachineHealthHistory");
        // Setting health (maintenance, retired, back to good) and asking for a check are an admin's: a
        // developer could otherwise take the lab's machines out of scheduling.
        var admin = app.MapGroup("/api/machines").WithTags("Machines").RequireAuthorization(Identity.Policies.Admin);
        admin.MapPut("/{id:guid}/health", Change).WithName("ChangeMachineHealth");
        admin.MapPost("/{id:guid}/health-check", RequestCheck).WithName("RequestHealthCheck");
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Report(
        string name, MachineHealthReport report, ClaimsPrincipal user, MachineHealthService health, CancellationToken ct)
    {
        if (!MachineHealth.ByAgent.Contains(report.Health))
            return Problem(400, "Invalid health", $"an agent reports one of: {string.Join(", ", MachineHealth.ByAgent)}");
        if (string.IsNullOrWhiteSpace(report.Reason) || report.Reason.Length > MaxReason)
            return Problem(400, "Invalid health", $"reason must be 1 to {MaxReason} characters");
        if (report.ReferenceMs is { } ms && (double.IsNaN(ms) || ms < 0 || ms > 1e9))
            return Problem(400, "Invalid health", "referenceMs must be a duration in milliseconds");
        if (report.Fingerprint is { } fp && (fp.Count > 20 || fp.Any(kv => kv.Key.Length > 40 || kv.Value.Length > 200)))
            return Problem(400, "Invalid health", "fingerprint: at most 20 keys of 40 and values of 200 characters");
        var known = await health.ReportAsync(AgentTokenHandler.AgentId(user), name, report with
        {
            Reason = AgentText.Storable(report.Reason),
            Fingerprint = report.Fingerprint is null ? null : AgentText.Storable(report.Fingerprint),
        }, ct);
        return known ? TypedResults.NoContent() : Problem(404, "Not found", $"this agent has no machine '{name}'");
    }

    public static async Task<Ok<HealthChecksDue>> Due(ClaimsPrincipal user, LabDbContext db, CancellationToken ct)
    {
        var agentId = AgentTokenHandler.AgentId(user);
        var names = await db.Machines.Where(m => m.AgentId == agentId && m.Active && m.HealthCheckRequested)
            .OrderBy(m => m.Name).Select(m => m.Name).ToListAsync(ct);
        return TypedResults.Ok(new HealthChecksDue(names));
    }

    public static async Task<Ok<List<MachineView>>> List(LabDbContext db, CancellationToken ct)
    {
        var rows = await db.Machines.AsNoTracking().OrderBy(m => m.Agent.Name).ThenBy(m => m.Name)
            .Select(m => new { m.Id, Agent = m.Agent.Name, m.Name, m.Driver, m.Tags, m.Active, m.Health, m.HealthReason, m.HealthSince, m.HealthCheckRequested, m.Drifted, m.Fingerprint })
            .ToListAsync(ct);
        return TypedResults.Ok(rows.Select(m => new MachineView(m.Id, m.Agent, m.Name, m.Driver, m.Tags, m.Active, m.Health, m.HealthReason, m.HealthSince,
            m.HealthCheckRequested, m.Drifted, m.Fingerprint is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(m.Fingerprint))).ToList());
    }

    public static async Task<Results<Ok<List<MachineHealthEventView>>, ProblemHttpResult>> History(Guid id, LabDbContext db, CancellationToken ct, int limit = 200)
    {
        if (limit is < 1 or > 1000) return Problem(400, "Invalid limit", "limit must be 1..1000");
        if (!await db.Machines.AnyAsync(m => m.Id == id, ct)) return Problem(404, "Not found", $"no machine {id}");
        return TypedResults.Ok(await db.MachineHealthEvents.AsNoTracking().Where(e => e.MachineId == id)
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(limit)
            .Select(e => new MachineHealthEventView(e.At, e.Health, e.Reason, e.Source, e.ReferenceMs)).ToListAsync(ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Change(Guid id, MachineHealthChange change, MachineHealthService health, CancellationToken ct)
    {
        if (change.Health is not (MachineHealth.Maintenance or MachineHealth.Retired or MachineHealth.Good or MachineHealth.Unknown))
            return Problem(400, "Invalid health", "set one of: maintenance, retired, good, unknown");
        if (string.IsNullOrWhiteSpace(change.Reason) || change.Reason.Length > MaxReason)
            return Problem(400, "Invalid health", $"reason must be 1 to {MaxReason} characters");
        // Back to unknown means: check it before trusting it again.
        return await health.ChangeAsync(id, change.Health, change.Reason, change.Health == MachineHealth.Unknown, ct)
            ? TypedResults.NoContent() : Problem(404, "Not found", $"no machine {id}");
    }

    public static async Task<Results<Accepted, ProblemHttpResult>> RequestCheck(Guid id, LabDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var machine = await db.Machines.SingleOrDefaultAsync(m => m.Id == id, ct);
        if (machine is null) return Problem(404, "Not found", $"no machine {id}");
        machine.HealthCheckRequested = true;
        db.MachineHealthEvents.Add(new MachineHealthEventRow { MachineId = id, At = clock.GetUtcNow(), Health = machine.Health, Reason = "health check requested", Source = "admin" });
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/api/machines/{id}/health");
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
