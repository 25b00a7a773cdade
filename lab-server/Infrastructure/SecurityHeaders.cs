namespace Redox.Lab.Server.Infrastructure;

/// <summary>
/// Security headers on every response, error pages included (set when the response starts). The dashboard runs no
/// inline script and no inline style (dashboard/README.md), so the content security policy allows only the lab's own
/// files. <c>base-uri 'self'</c>: the pages' <c>&lt;base href="/"&gt;</c> resolves their relative links (with
/// <c>'none'</c> the browser ignores it, and a page below the root, <c>/runs/{id}/flamegraph</c>, loads its script and
/// style from the wrong path). <c>/hangfire</c> (admins only) is Hangfire's own UI, which writes inline script and style: there the policy
/// allows inline code but still no other origin and no framing.
/// </summary>
public static class SecurityHeaders
{
    public const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public const string HangfirePolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void UseSecurityHeaders(this IApplicationBuilder app) => app.Use((ctx, next) =>
    {
        ctx.Response.OnStarting(() =>
        {
            var h = ctx.Response.Headers;
            h.ContentSecurityPolicy = ctx.Request.Path.StartsWithSegments("/hangfire") ? HangfirePolicy : Policy;
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "no-referrer";
            h["Cross-Origin-Opener-Policy"] = "same-origin";
            h["Cross-Origin-Resource-Policy"] = "same-origin";
            h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), usb=(), serial=()";
            return Task.CompletedTask;
        });
        return next(ctx);
    });
}
