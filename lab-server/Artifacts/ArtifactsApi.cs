using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
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
        Guid id, string name, HttpRequest request, ClaimsPrincipal user, ArtifactStore artifacts, CancellationToken ct)
    {
        if (!ArtifactName().IsMatch(name) || name.Trim('.').Length == 0)
            return Problem(400, "Invalid artifact", "name must be 1 to 100 of [a-z0-9._-], not only dots");
        if (request.ContentLength > ArtifactStore.MaxBytes) return TooLarge();

        // Kestrel's default body limit (30 MB) is below ours; the read below enforces ours, also for chunked bodies.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = ArtifactStore.MaxBytes + 1;
        var content = await ReadCappedAsync(request.Body, ArtifactStore.MaxBytes, ct);
        if (content is null) return TooLarge();

        var (status, info, refused) = await artifacts.PutAsync(AgentTokenHandler.AgentId(user), id, name, content, ct);
        if (refused is not null) return Problem(400, "Unusable artifact", refused);
        return status == JobCallStatus.Ok ? TypedResults.Ok(info!) : AgentsApi.JobProblem(status, id);
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Get(
        Guid id, string name, ArtifactStore artifacts, CancellationToken ct)
    {
        var artifact = ArtifactName().IsMatch(name) ? await artifacts.GetAsync(id, name, ct) : null;
        if (artifact is null) return Problem(404, "Not found", $"job {id} has no artifact {name}");
        return TypedResults.File(artifact.Content, "application/octet-stream", artifact.Name,
            lastModified: artifact.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{artifact.Sha256}\""));
    }

    public static async Task<Results<Ok<IReadOnlyList<ArtifactInfo>>, ProblemHttpResult>> List(
        Guid id, ArtifactStore artifacts, CancellationToken ct) =>
        await artifacts.ListAsync(id, ct) is { } list
            ? TypedResults.Ok(list)
            : Problem(404, "Not found", $"no job {id}");

    /// <summary>The whole body, or null when it is longer than <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadCappedAsync(Stream body, long max, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static ProblemHttpResult TooLarge() =>
        Problem(413, "Artifact too large", $"an artifact may have at most {ArtifactStore.MaxBytes} bytes (64 MiB)");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    [GeneratedRegex("^[a-z0-9._-]{1,100}$")]
    private static partial Regex ArtifactName();
}
