using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Infrastructure;

namespace Redox.Lab.Server.Runs;

/// <summary>Routes for users and scripts: push, list and read runs, read a job's console.</summary>
public static class RunsApi
{
    public static void MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Runs");
        api.MapPost("/runs", Push).WithName("PushRun").RequireAuthorization(Policies.Developer)
            .RequireRateLimiting(Infrastructure.RateLimits.Push).WithBodyLimit(64 * 1024);
        api.MapGet("/runs", ListRuns).WithName("ListRuns");
        api.MapGet("/runs/{id:guid}", GetRun).WithName("GetRun");
        api.MapGet("/jobs/{id:guid}/console", GetConsole).WithName("GetConsole");
    }

    public static async Task<Results<Created<PushResponse>, ProblemHttpResult>> Push(
        PushRequest request, PushService pushes, HttpRequest http, ClaimsPrincipal user, CancellationToken ct)
    {
        try
        {
            var (runId, commit) = await pushes.PushAsync(request, user, ct);
            var url = $"{http.Scheme}://{http.Host}/runs/{runId}";
            return TypedResults.Created($"/api/runs/{runId}", new PushResponse(runId, commit, url));
        }
        catch (PushRejectedException ex)
        {
            return TypedResults.Problem(statusCode: ex.Status, title: ex.Title, detail: ex.Message);
        }
    }

    public static async Task<Results<Ok<IReadOnlyList<RunSummary>>, ProblemHttpResult>> ListRuns(
        RunQueries runs, CancellationToken ct, int limit = 50)
    {
        if (limit is < 1 or > 1000)
            return TypedResults.Problem(statusCode: 400, title: "Invalid limit", detail: "limit must be between 1 and 1000");
        return TypedResults.Ok(await runs.ListRunsAsync(limit, ct));
    }

    public static async Task<Results<Ok<RunView>, ProblemHttpResult>> GetRun(Guid id, RunQueries runs, CancellationToken ct) =>
        await runs.GetRunAsync(id, ct) is { } run
            ? TypedResults.Ok(run)
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no run {id}");

    public static async Task<Results<Ok<IReadOnlyList<ConsoleLine>>, ProblemHttpResult>> GetConsole(
        Guid id, RunQueries runs, CancellationToken ct, long from = 0, int limit = 10000)
    {
        if (from < 0 || limit is < 1 or > 100_000)
            return TypedResults.Problem(statusCode: 400, title: "Invalid range", detail: "from must be >= 0 and limit between 1 and 100000");
        return await runs.GetConsoleAsync(id, from, limit, ct) is { } lines
            ? TypedResults.Ok(lines)
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no job {id}");
    }
}
