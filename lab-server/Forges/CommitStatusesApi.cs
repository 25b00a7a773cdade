using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Forges;

/// <summary><c>GET /api/runs/{id}/statuses</c>: the commit statuses of a run's jobs, posted or waiting, with the forge's last error.</summary>
public static class CommitStatusesApi
{
    public static void MapCommitStatusesApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/runs/{id:guid}/statuses", List).WithTags("Runs").WithName("ListCommitStatuses");

    public static async Task<Ok<List<CommitStatusView>>> List(Guid id, LabDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Set<CommitStatusRow>().AsNoTracking().Where(s => s.RunId == id).OrderBy(s => s.Id)
            .Select(s => new CommitStatusView(s.JobId, s.Context, s.Phase, s.State, s.Description, s.TargetUrl, s.CreatedAt, s.PostedAt, s.Attempts, s.LastError))
            .ToListAsync(ct));
}
