using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Redox.Lab.Server.Infrastructure;

/// <summary>The <c>Lab:RateLimits</c> section: requests per minute per client on the routes people guess at.</summary>
public sealed class RateLimitOptions
{
    /// <summary><c>POST /login</c>, per IP address.</summary>
    public int LoginPerMinute { get; set; } = 10;

    /// <summary><c>POST /api/agents/enrol</c>, per IP address.</summary>
    public int EnrolPerMinute { get; set; } = 30;

    /// <summary>Token creation (<c>POST /api/users/{name}/tokens</c>), per user.</summary>
    public int TokenPerMinute { get; set; } = 20;

    /// <summary>Pushes and webhooks, per user (or IP address for an unauthenticated webhook).</summary>
    public int PushPerMinute { get; set; } = 60;
}

/// <summary>
/// ASP.NET Core's rate limiter on login, enrolment, token creation and push (and webhooks: name
/// <see cref="Push"/> on the route): a fixed one-minute window per client; past it a 429 problem with
/// <c>Retry-After</c> in seconds. Other routes are not limited here.
/// </summary>
public static class RateLimits
{
    public const string Section = "Lab:RateLimits";
    public const string Login = "login";
    public const string Enrol = "enrol";
    public const string Token = "token";
    public const string Push = "push";

    public static void AddLabRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(Section));
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(Login, ctx => PerMinute(ctx, "ip:" + Ip(ctx), r => r.LoginPerMinute));
            o.AddPolicy(Enrol, ctx => PerMinute(ctx, "ip:" + Ip(ctx), r => r.EnrolPerMinute));
            o.AddPolicy(Token, ctx => PerMinute(ctx, Client(ctx), r => r.TokenPerMinute));
            o.AddPolicy(Push, ctx => PerMinute(ctx, Client(ctx), r => r.PushPerMinute));
            o.OnRejected = async (rejected, ct) =>
            {
                var http = rejected.HttpContext;
                var retry = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds));
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                // TryWrite: a client that accepts no JSON (a browser asking for text/html only) gets the status and header alone.
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = 429,
                        Title = "Too many requests",
                        Detail = $"too many requests to this route from you; retry in {seconds} s",
                    },
                });
            };
        });
    }

    private static RateLimitPartition<string> PerMinute(HttpContext ctx, string key, Func<RateLimitOptions, int> limit)
    {
        var permits = Math.Max(1, limit(ctx.RequestServices.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue));
        return RateLimitPartition.GetFixedWindowLimiter(key + "/" + permits.ToString(CultureInfo.InvariantCulture), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
    }

    /// <summary>The signed-in user, else the IP address.</summary>
    private static string Client(HttpContext ctx) =>
        ctx.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } user ? "user:" + user : "ip:" + Ip(ctx);

    private static string Ip(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
