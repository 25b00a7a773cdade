using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Redox.Lab.Server.Agents;

namespace Redox.Lab.Server.Identity;

/// <summary>
/// Who may call what. Users authenticate with an API token (<c>Authorization: Bearer rlu_...</c>) or, in a
/// browser, with a session cookie opened at <c>/login</c> by pasting a token. Agents use their own scheme on
/// their own routes. The FALLBACK policy applies to every endpoint that names no policy of its own, so a route
/// anyone adds is closed until it says otherwise: it needs a signed-in user, unless <c>Lab:Dashboard:Access</c>
/// is <c>public</c>, which opens GET and HEAD (read-only) to everyone. Routes with a role policy
/// (<see cref="Policies"/>) stay closed in either mode. A cookie-authenticated request that changes anything
/// must carry an antiforgery token.
/// </summary>
public static class LabAuthentication
{
    /// <summary>The default scheme: a bearer token when the request has an Authorization header, else the session cookie.</summary>
    public const string Scheme = "Lab";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieName = "redox-lab";

    public static void AddLabAuthentication(this IServiceCollection services)
    {
        services.AddScoped<IdentityStore>();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "redox-lab-af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
        });
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "API token or session cookie", o => o.ForwardDefaultSelector = ctx =>
                ctx.Request.Headers.Authorization.Count > 0 ? ApiTokenHandler.SchemeName : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.Events = new CookieAuthenticationEvents
                {
                    // A session lives only as long as the token it was opened with (revoked, expired, user disabled).
                    OnValidatePrincipal = async ctx =>
                    {
                        var tokenId = ctx.Principal is { } p ? Roles.TokenId(p) : null;
                        var store = ctx.HttpContext.RequestServices.GetRequiredService<IdentityStore>();
                        if (tokenId is null || !await store.IsLiveAsync(tokenId.Value, ctx.HttpContext.RequestAborted))
                        {
                            ctx.RejectPrincipal();
                            await ctx.HttpContext.SignOutAsync(CookieScheme);
                        }
                    },
                    // Browsers asking for a page go to the login form; everything else gets a 401 problem.
                    OnRedirectToLogin = ctx =>
                    {
                        if (WantsPage(ctx.Request))
                        {
                            ctx.Response.Redirect(ctx.RedirectUri);
                            return Task.CompletedTask;
                        }
                        return ApiTokenHandler.WriteUnauthorizedAsync(ctx.HttpContext, ctx.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>());
                    },
                    OnRedirectToAccessDenied = ctx =>
                    {
                        ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                        return ctx.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                        {
                            HttpContext = ctx.HttpContext,
                            ProblemDetails = new ProblemDetails { Status = 403, Title = "Forbidden", Detail = "your role does not allow this" },
                        }).AsTask();
                    },
                };
            })
            .AddScheme<AuthenticationSchemeOptions, AgentTokenHandler>(AgentTokenHandler.SchemeName, null);

        services.AddSingleton<IAuthorizationHandler, LabAccessHandler>();
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(Scheme).AddRequirements(new LabAccessRequirement()).Build())
            .AddPolicy(Policies.Viewer, p => p.AddAuthenticationSchemes(Scheme).RequireRole(Roles.Viewer))
            .AddPolicy(Policies.Developer, p => p.AddAuthenticationSchemes(Scheme).RequireRole(Roles.Developer))
            .AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(Scheme).RequireRole(Roles.Admin))
            .AddPolicy(AgentTokenHandler.Policy, p => p.AddAuthenticationSchemes(AgentTokenHandler.SchemeName).RequireAuthenticatedUser());
    }

    /// <summary>
    /// After UseAuthentication: a request authenticated by the session cookie that may change state must carry
    /// the antiforgery token (form field or header); a cross-site form cannot.
    /// </summary>
    public static void UseSessionAntiforgery(this IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        var method = ctx.Request.Method;
        var safe = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);
        if (!safe && ctx.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieScheme })
        {
            var antiforgery = ctx.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(ctx))
            {
                ctx.Response.StatusCode = StatusCodes.Status400BadRequest;
                // TryWrite: a client that accepts no JSON (a browser asking for text/html only) gets the status alone.
                await ctx.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = ctx,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = 400,
                        Title = "Antiforgery token missing or invalid",
                        Detail = "a signed-in browser must send the form's antiforgery token; scripts use a bearer token",
                    },
                });
                return;
            }
        }
        await next();
    });

    internal static bool WantsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && !request.Path.StartsWithSegments("/api")
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for a principal authenticated as a lab user (token or session), not an agent.</summary>
    public static bool IsUser(System.Security.Claims.ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, AuthenticationType: ApiTokenHandler.SchemeName or CookieScheme };
}

/// <summary>The fallback requirement: a signed-in user, or a read when the dashboard is configured public.</summary>
public sealed class LabAccessRequirement : IAuthorizationRequirement;

internal sealed class LabAccessHandler(IOptionsMonitor<LabOptions> options) : AuthorizationHandler<LabAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, LabAccessRequirement requirement)
    {
        if (LabAuthentication.IsUser(context.User)) context.Succeed(requirement);
        else if (options.CurrentValue.Dashboard.IsPublic && context.Resource is HttpContext http
                 && (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)))
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
