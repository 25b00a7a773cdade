using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Redox.Lab.Server.Infrastructure;

/// <summary>
/// Request body size per route. Every route takes at most <see cref="DefaultBytes"/> unless its endpoint names its
/// own limit (<see cref="WithBodyLimit"/>: console chunks and boot reports) or its handler raises it for a streamed
/// body (artifact uploads, profile imports). Past the limit Kestrel stops reading and the request gets a 413 problem.
/// </summary>
public static class RequestLimits
{
    /// <summary>1 MiB: any JSON a user or an agent sends, except the routes below.</summary>
    public const long DefaultBytes = 1L * 1024 * 1024;

    /// <summary>A console chunk (at most 100,000 lines; the agent sends 500 of at most 4 KiB) or a boot report with its profile.</summary>
    public const long AgentReportBytes = 32L * 1024 * 1024;

    /// <summary>Gives the endpoint its own body limit.</summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));

    /// <summary>After routing: the endpoint's limit, else the default (a handler may still raise it before reading).</summary>
    public static void UseRequestLimits(this IApplicationBuilder app) => app.Use((ctx, next) =>
    {
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = ctx.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? DefaultBytes;
        return next(ctx);
    });

    private sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }
}
