using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// Where forges deliver (WEBHOOKS.md): <c>POST /hooks/github/{repository}</c>, <c>/hooks/gitlab/{repository}</c>,
/// <c>/hooks/git/{repository}</c>. No lab token: each delivery is authenticated by its repository's secret (a GitHub
/// signature, a GitLab or post-receive token), checked before anything else is read.
/// </summary>
public static class WebhooksApi
{
    /// <summary>GitHub caps payloads at 25 MB; a push the lab tests needs far less.</summary>
    public const int MaxBody = 5 * 1024 * 1024;

    public static void MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/hooks").WithTags("Hooks").AllowAnonymous().DisableAntiforgery();
        hooks.MapPost("/{forge}/{repository}", Receive).WithName("ReceiveHook").RequireRateLimiting(Infrastructure.RateLimits.Push);
    }

    public static async Task<Results<JsonHttpResult<Contracts.Api.HookDeliveryResult>, ProblemHttpResult>> Receive(
        string forge, string repository, HttpContext http, HookIntake intake, ILogger<HookIntake> log, CancellationToken ct)
    {
        try
        {
            if (!ForgeKinds.IsValid(forge)) throw new HookRefusedException(404, "Unknown forge", "hooks are /hooks/github, /hooks/gitlab and /hooks/git");
            var body = await ReadBodyAsync(http, ct);
            var (status, result) = await intake.ReceiveAsync(forge, repository, http.Request.Headers, body, ct);
            return TypedResults.Json(result, statusCode: status);
        }
        catch (HookRefusedException ex)
        {
            log.LogWarning("Hook {Forge} {Repository} from {Remote}: refused {Status}: {Reason}", HookEvent.Cut(forge), HookEvent.Cut(repository),
                http.Connection.RemoteIpAddress, ex.Status, ex.Message);
            return TypedResults.Problem(statusCode: ex.Status, title: ex.Title, detail: ex.Message);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        if (http.Request.ContentLength > MaxBody) throw new HookRefusedException(413, "Payload too large", $"at most {MaxBody} bytes");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBody;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBody) throw new HookRefusedException(413, "Payload too large", $"at most {MaxBody} bytes");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
