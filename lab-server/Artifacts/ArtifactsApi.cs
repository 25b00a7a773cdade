using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Agents;
using Redox.Lab.Server.Jobs;

namespace Redox.Lab.Server.Artifacts;

/// <summary>Build artifacts: agents upload them per job, anyone reads them.</summary>
public static partial class ArtifactsApi
{
    public static void MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/agent").WithTags("Artifacts").RequireAuthorization(AgentTokenHandler.Policy)
            .MapPut("/jobs/{id:guid}/artifacts/{name}", Put).WithName("PutArtifact");

        var api = app.MapGroup("/api").WithTags("Artifacts");
        api.MapGet("/jobs/{id:guid}/artifacts", List).WithName("ListArtifacts");
        api.MapGet("/jobs/{id:guid}/artifacts/{name}", Get).WithName("GetArtifact");
    }

    public static async Task<Results<Ok<ArtifactInfo>, ProblemHttpResult>> Put(
        Guid id, string name, HttpRequest request, ClaimsPrincipal user, ArtifactStore artifacts, IOptionsSnapshot<LabOptions> options, CancellationToken ct)
    {
        if (!ArtifactName().IsMatch(name) || name.Trim('.').Length == 0)
            return Problem(400, "Invalid artifact", "name must be 1 to 100 of [a-z0-9._-], not only dots");
        var max = options.Value.Limits.ArtifactBytes;
        if (request.ContentLength > max) return TooLarge(max);

        // Kestrel's default body limit (30 MB) is below ours; the copy enforces ours, also for chunked bodies.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = max + 1;
        try
        {
            var (status, info, refused) = await artifacts.PutAsync(AgentTokenHandler.AgentId(user), id, name, request.Body, max, ct);
            if (refused is not null) return Problem(400, "Unusable artifact", refused);
            return status == JobCallStatus.Ok ? TypedResults.Ok(info!) : AgentsApi.JobProblem(status, id);
        }
        catch (ArtifactTooLargeException)
        {
            return TooLarge(max);
        }
    }

    /// <summary>Streamed from disk with range requests (<c>Range: bytes=...</c> gets 206), ETag and Last-Modified.</summary>
    public static async Task<IResult> Get(Guid id, string name, ArtifactStore artifacts, ArtifactFiles files, CancellationToken ct)
    {
        var artifact = ArtifactName().IsMatch(name) ? await artifacts.GetAsync(id, name, ct) : null;
        if (artifact is null) return Problem(404, "Not found", $"job {id} has no artifact {name}");
        var etag = new EntityTagHeaderValue($"\"{artifact.Sha256}\"");
        if (!artifact.OnDisk)
        {
            // Stored before artifacts moved to disk: still in the database (at most the old 64 MiB limit).
            var content = await artifacts.LegacyContentAsync(id, name, ct);
            return content is null
                ? Problem(404, "Not found", $"job {id} has no artifact {name}")
                : TypedResults.File(content, "application/octet-stream", artifact.Name, enableRangeProcessing: true, lastModified: artifact.CreatedAt, entityTag: etag);
        }
        var path = files.PathOf(artifact.Sha256);
        if (!File.Exists(path))
            return Problem(404, "Not found", $"the content of job {id}'s artifact {name} is missing from the server's artifact store");
        return TypedResults.PhysicalFile(path, "application/octet-stream", artifact.Name,
            lastModified: artifact.CreatedAt, entityTag: etag, enableRangeProcessing: true);
    }

    public static async Task<Results<Ok<IReadOnlyList<ArtifactInfo>>, ProblemHttpResult>> List(
        Guid id, ArtifactStore artifacts, CancellationToken ct) =>
        await artifacts.ListAsync(id, ct) is { } list
            ? TypedResults.Ok(list)
            : Problem(404, "Not found", $"no job {id}");

    private static ProblemHttpResult TooLarge(long max) =>
        Problem(413, "Artifact too large", $"an artifact may have at most {max} bytes (Lab:Limits:ArtifactBytes)");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    [GeneratedRegex("^[a-z0-9._-]{1,100}$")]
    private static partial Regex ArtifactName();
}
