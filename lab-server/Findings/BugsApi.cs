using Microsoft.AspNetCore.Http.HttpResults;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Findings;

/// <summary>Routes for bugs: findings grouped by signature.</summary>
public static class BugsApi
{
    public static RouteGroupBuilder MapBugsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Bugs");
        api.MapGet("/bugs", ListBugs).WithName("ListBugs");
        api.MapGet("/bugs/{id:guid}", GetBug).WithName("GetBug");
        return api;
    }

    public static async Task<Results<Ok<IReadOnlyList<BugView>>, ProblemHttpResult>> ListBugs(VerdictQueries q, CancellationToken ct, string? state = null, int limit = 200)
    {
        if (state is not null and not (BugStates.New or BugStates.Known or BugStates.Fixed))
            return TypedResults.Problem(statusCode: 400, title: "Invalid state", detail: "state is new, known or fixed");
        return limit is < 1 or > 1000 ? VerdictsApi.BadLimit() : TypedResults.Ok(await q.BugsAsync(state, limit, ct));
    }

    public static async Task<Results<Ok<BugDetailView>, ProblemHttpResult>> GetBug(Guid id, VerdictQueries q, CancellationToken ct) =>
        await q.BugAsync(id, 100, ct) is { } v ? TypedResults.Ok(v) : VerdictsApi.NotFound($"no bug {id}");

}
