using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Verdicts;

/// <summary>Routes for verdicts, regressions, bisections, calibration and compare.</summary>
public static class VerdictsApi
{
    public static RouteGroupBuilder MapVerdictsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Verdicts");
        api.MapGet("/runs/{id:guid}/verdicts", GetRunVerdicts).WithName("GetRunVerdicts");
        api.MapGet("/regressions", ListRegressions).WithName("ListRegressions");
        api.MapGet("/bisections/{id:guid}", GetBisection).WithName("GetBisection");
        api.MapGet("/compare", Compare).WithName("Compare");
        api.MapGet("/calibrations", ListCalibrations).WithName("ListCalibrations");
        api.MapPost("/calibrations", RequestCalibration).WithName("RequestCalibration");
        return api;
    }

    public static async Task<Results<Ok<RunVerdictsView>, ProblemHttpResult>> GetRunVerdicts(Guid id, VerdictQueries q, CancellationToken ct) =>
        await q.RunAsync(id, ct) is { } v ? TypedResults.Ok(v) : NotFound($"no run {id}");

    public static async Task<Results<Ok<IReadOnlyList<RegressionView>>, ProblemHttpResult>> ListRegressions(VerdictQueries q, CancellationToken ct, int limit = 100) =>
        limit is < 1 or > 1000 ? BadLimit() : TypedResults.Ok(await q.RegressionsAsync(limit, ct));

    public static async Task<Results<Ok<BisectionView>, ProblemHttpResult>> GetBisection(Guid id, VerdictQueries q, CancellationToken ct) =>
        await q.BisectionAsync(id, ct) is { } v ? TypedResults.Ok(v) : NotFound($"no bisection {id}");

    public static async Task<Results<Ok<CompareView>, ProblemHttpResult>> Compare(Guid? a, Guid? b, VerdictQueries q, CancellationToken ct)
    {
        if (a is null || b is null)
            return TypedResults.Problem(statusCode: 400, title: "Invalid compare", detail: "give a and b: two run or job ids (b is judged against a)");
        return await q.CompareAsync(a.Value, b.Value, ct) is { } v ? TypedResults.Ok(v) : NotFound($"no run or job {a} or {b}");
    }

    public static async Task<Ok<IReadOnlyList<CalibrationView>>> ListCalibrations(VerdictQueries q, CancellationToken ct) =>
        TypedResults.Ok(await q.CalibrationsAsync(ct));

    public static async Task<Results<Accepted<CalibrationScheduled>, ProblemHttpResult>> RequestCalibration(
        CalibrationRequest request, Calibrations calibrations, LabDbContext db, CancellationToken ct)
    {
        if (!await db.Runs.AnyAsync(r => r.Id == request.Run, ct)) return NotFound($"no run {request.Run}");
        Guid? machineId = null;
        if (request.Machine is { Length: > 0 } name)
        {
            // agent/machine, or a machine name that only one agent has
            var matches = await db.Machines.AsNoTracking()
                .Where(m => m.Agent.Name + "/" + m.Name == name || m.Name == name).Select(m => m.Id).ToListAsync(ct);
            if (matches.Count != 1)
                return TypedResults.Problem(statusCode: 400, title: "Unknown machine", detail: $"'{name}' names {matches.Count} machines; give agent/machine");
            machineId = matches[0];
        }
        var runs = await calibrations.RequestAsync(request.Run, machineId, ct);
        if (runs.Count == 0)
            return TypedResults.Problem(statusCode: 400, title: "Nothing to calibrate", detail: "the run has no job on an active machine");
        return TypedResults.Accepted("/api/calibrations", new CalibrationScheduled(runs));
    }

    internal static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(statusCode: 404, title: "Not found", detail: detail);

    internal static ProblemHttpResult BadLimit() => TypedResults.Problem(statusCode: 400, title: "Invalid limit", detail: "limit must be between 1 and 1000");
}
