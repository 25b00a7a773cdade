using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Infrastructure;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Machines;

namespace Redox.Lab.Server.Agents;

/// <summary>Routes for agents: enrolment, then (token-authenticated) machines, job claims and job reports.</summary>
public static partial class AgentsApi
{
    public static void MapAgentsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/agents/enrol", Enrol).WithName("EnrolAgent").WithTags("Agents").AllowAnonymous().RequireRateLimiting(RateLimits.Enrol);

        var agent = app.MapGroup("/api/agent").WithTags("Agents").RequireAuthorization(AgentTokenHandler.Policy);
        agent.MapPut("/machines", PutMachines).WithName("PutMachines");
        agent.MapGet("/jobs/next", NextJob).WithName("NextJob");
        agent.MapPost("/jobs/{id:guid}/heartbeat", Heartbeat).WithName("Heartbeat");
        agent.MapPost("/jobs/{id:guid}/console", AppendConsole).WithName("AppendConsole").WithBodyLimit(RequestLimits.AgentReportBytes);
        agent.MapPost("/jobs/{id:guid}/boots/{index:int}", ReportBoot).WithName("ReportBoot").WithBodyLimit(RequestLimits.AgentReportBytes);
        agent.MapPost("/jobs/{id:guid}/complete", Complete).WithName("CompleteJob");
    }

    public static async Task<Results<Ok<EnrolResponse>, ProblemHttpResult>> Enrol(
        EnrolRequest request, LabDbContext db, IOptionsSnapshot<LabOptions> options, TimeProvider clock, CancellationToken ct)
    {
        if (!AgentTokens.SecretMatches(request.Secret, options.Value.EnrolmentSecret))
            return Problem(401, "Enrolment refused", "wrong enrolment secret (or Lab:EnrolmentSecret is not set on the server)");
        if (!AgentName().IsMatch(request.Name ?? ""))
            return Problem(400, "Invalid agent", "name must be 1 to 100 of [A-Za-z0-9._-]");
        if (TooManyMachines(request.Machines, options.Value) is { } tooMany) return tooMany;
        try
        {
            MachineRegistry.Validate(request.Machines);
        }
        catch (InvalidMachinesException ex)
        {
            return Problem(400, "Invalid machines", ex.Message);
        }

        var token = AgentTokens.NewToken();
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Same name: same agent, new token; the old token stops working with this commit.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO agents (id, name, token_hash, created_at, last_seen)
            VALUES ({Guid.CreateVersion7(now)}, {request.Name}, {AgentTokens.Hash(AgentTokens.NewToken())}, {now}, {now})
            ON CONFLICT (name) DO NOTHING
            """, ct);
        var agent = await db.Agents.SingleAsync(a => a.Name == request.Name, ct);
        agent.TokenHash = AgentTokens.Hash(token);
        agent.Version = request.Version;
        agent.LastSeen = now;
        await MachineRegistry.ReplaceAsync(db, agent.Id, request.Machines, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(new EnrolResponse(agent.Id, token));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> PutMachines(
        MachinesUpdate update, ClaimsPrincipal user, LabDbContext db, IOptionsSnapshot<LabOptions> options, CancellationToken ct)
    {
        if (TooManyMachines(update.Machines, options.Value) is { } tooMany) return tooMany;
        try
        {
            await MachineRegistry.ReplaceAsync(db, AgentTokenHandler.AgentId(user), update.Machines, ct);
        }
        catch (InvalidMachinesException ex)
        {
            return Problem(400, "Invalid machines", ex.Message);
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<JobAssignment>, NoContent, ProblemHttpResult>> NextJob(
        ClaimsPrincipal user, JobClaims claims, CancellationToken ct, int wait = 30)
    {
        if (wait is < 0 or > 300) return Problem(400, "Invalid wait", "wait must be between 0 and 300 seconds");
        var job = await claims.NextAsync(AgentTokenHandler.AgentId(user), TimeSpan.FromSeconds(wait), ct);
        return job is null ? TypedResults.NoContent() : TypedResults.Ok(job);
    }

    public static async Task<Results<Ok<HeartbeatResponse>, ProblemHttpResult>> Heartbeat(
        Guid id, ClaimsPrincipal user, AgentJobs jobs, CancellationToken ct) =>
        await jobs.HeartbeatAsync(AgentTokenHandler.AgentId(user), id, ct) is { } answer
            ? TypedResults.Ok(new HeartbeatResponse(answer.Continue, answer.Cancel))
            : Problem(404, "Not found", $"no job {id}");

    public static async Task<Results<Ok<ConsoleAck>, Conflict<ConsoleAck>, ProblemHttpResult>> AppendConsole(
        Guid id, ConsoleChunk chunk, ClaimsPrincipal user, AgentJobs jobs, CancellationToken ct)
    {
        if (chunk.Offset < 0) return Problem(400, "Invalid chunk", "offset must be >= 0");
        if (chunk.Lines.Count > 100_000) return Problem(400, "Invalid chunk", "at most 100000 lines per chunk");
        var (status, next) = await jobs.AppendConsoleAsync(AgentTokenHandler.AgentId(user), id, chunk, ct);
        return status switch
        {
            JobCallStatus.Ok => TypedResults.Ok(new ConsoleAck(next)),
            JobCallStatus.Gap => TypedResults.Conflict(new ConsoleAck(next)),
            _ => JobProblem(status, id),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ReportBoot(
        Guid id, int index, BootReport report, ClaimsPrincipal user, AgentJobs jobs, Machines.MachineHealthService health, CancellationToken ct)
    {
        if (index is < 0 or > 1000) return Problem(400, "Invalid boot", "index must be between 0 and 1000");
        if (report.Index != index) return Problem(400, "Invalid boot", $"the report's index {report.Index} is not the route's {index}");
        if (report.Outcome == Outcome.Pending) return Problem(400, "Invalid boot", "a boot report needs an outcome other than pending");
        if (report.Fingerprint is { } fp && (fp.Count > 20 || fp.Any(kv => kv.Key.Length > 40 || kv.Value.Length > 200)))
            return Problem(400, "Invalid boot", "fingerprint: at most 20 keys of 40 and values of 200 characters");
        if (report.Cut is { Valid: false }) return Problem(400, "Invalid boot", "cut: counts must be >= 0");
        var status = await jobs.ReportBootAsync(AgentTokenHandler.AgentId(user), id, report, ct);
        if (status == JobCallStatus.Ok && report.Fingerprint is { Count: > 0 } fingerprint)
            await health.BootFingerprintAsync(id, AgentText.Storable(fingerprint), report.StartedAt, ct);
        return status == JobCallStatus.Ok ? TypedResults.NoContent() : JobProblem(status, id);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Complete(
        Guid id, JobCompletion completion, ClaimsPrincipal user, AgentJobs jobs, CancellationToken ct)
    {
        if (completion.Outcome == Outcome.Pending) return Problem(400, "Invalid completion", "a job cannot end as pending");
        var status = await jobs.CompleteAsync(AgentTokenHandler.AgentId(user), id, completion, ct);
        return status == JobCallStatus.Ok ? TypedResults.NoContent() : JobProblem(status, id);
    }

    /// <summary>The problem for an agent's call on a job that is unknown or not its own.</summary>
    internal static ProblemHttpResult JobProblem(JobCallStatus status, Guid id) => status switch
    {
        JobCallStatus.NotFound => Problem(404, "Not found", $"no job {id}"),
        JobCallStatus.Ended => Problem(410, "Job ended", $"job {id} has ended (completed, cancelled or agent-lost): nothing more is stored for it"),
        JobCallStatus.Invalid => Problem(400, "Invalid report", $"the report does not fit job {id}"),
        _ => Problem(409, "Not this agent's job", $"job {id} is not assigned to this agent"),
    };

    private static ProblemHttpResult? TooManyMachines(IReadOnlyList<MachineInfo> machines, LabOptions options) =>
        machines.Count > options.Limits.MachinesPerAgent
            ? Problem(400, "Invalid machines", $"an agent may register at most {options.Limits.MachinesPerAgent} machines (Lab:Limits:MachinesPerAgent); this one listed {machines.Count}")
            : null;

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex AgentName();
}
