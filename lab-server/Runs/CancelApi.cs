using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Identity;

namespace Redox.Lab.Server.Runs;

/// <summary>
/// Cancelling (developer role; see <see cref="RunCancellation"/>): <c>POST /api/runs/{id}/cancel</c>,
/// <c>POST /api/jobs/{id}/cancel</c>, and the dashboard run page's form, <c>POST /runs/{id}/cancel</c>
/// (a signed-in browser's POST carries the antiforgery token: Identity/LabAuthentication.UseSessionAntiforgery).
/// </summary>
public static class CancelApi
{
    public static void MapCancelApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Runs").RequireAuthorization(Policies.Developer);
        api.MapPost("/runs/{id:guid}/cancel", CancelRun).WithName("CancelRun");
        api.MapPost("/jobs/{id:guid}/cancel", CancelJob).WithName("CancelJob");
        app.MapPost("/runs/{id:guid}/cancel", CancelFromDashboard).WithName("CancelRunForm")
            .RequireAuthorization(Policies.Developer).ExcludeFromDescription();
    }

    public static async Task<Results<Accepted<RunView>, ProblemHttpResult>> CancelRun(
        Guid id, ClaimsPrincipal user, RunCancellation cancellation, RunQueries runs, CancellationToken ct)
    {
        var status = await cancellation.CancelRunAsync(id, user, ct);
        return status == CancelStatus.Cancelled
            ? TypedResults.Accepted($"/api/runs/{id}", (await runs.GetRunAsync(id, ct))!)
            : Problem(status, $"run {id}");
    }

    public static async Task<Results<Accepted<RunView>, ProblemHttpResult>> CancelJob(
        Guid id, ClaimsPrincipal user, RunCancellation cancellation, RunQueries runs, CancellationToken ct)
    {
        var (status, runId) = await cancellation.CancelJobAsync(id, user, ct);
        return status == CancelStatus.Cancelled
            ? TypedResults.Accepted($"/api/runs/{runId}", (await runs.GetRunAsync(runId, ct))!)
            : Problem(status, $"job {id}");
    }

    /// <summary>The run page's cancel button: back to the run page, which shows the run cancelling or cancelled.</summary>
    public static async Task<IResult> CancelFromDashboard(Guid id, ClaimsPrincipal user, RunCancellation cancellation, CancellationToken ct)
    {
        var status = await cancellation.CancelRunAsync(id, user, ct);
        return status switch
        {
            CancelStatus.Cancelled or CancelStatus.AlreadyEnded => Results.Redirect($"/runs/{id}", permanent: false, preserveMethod: false),
            _ => Problem(status, $"run {id}"),
        };
    }

    private static ProblemHttpResult Problem(CancelStatus status, string what) => status switch
    {
        CancelStatus.NotFound => TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no {what}"),
        CancelStatus.Forbidden => TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: $"a developer cancels only the runs they pushed; {what} is not yours"),
        _ => TypedResults.Problem(statusCode: 409, title: "Already ended", detail: $"{what} had already ended"),
    };
}
