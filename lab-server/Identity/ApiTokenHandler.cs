using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Identity;

/// <summary>
/// Authenticates <c>Authorization: Bearer rlu_...</c> against the users' API token hashes. The principal
/// carries the user's role and the roles it includes (<see cref="Roles"/>).
/// </summary>
public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IdentityStore identities, LabDbContext db, TimeProvider clock, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    /// <summary>last_used_at is written at most this often per token.</summary>
    private static readonly TimeSpan UsedResolution = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerTokens.Read(Request, out var failure) is not { } token) return failure ?? AuthenticateResult.NoResult();

        var found = await identities.FindAsync(token, Context.RequestAborted);
        if (found is not { } f) return AuthenticateResult.Fail("unknown, revoked or expired token");

        var now = clock.GetUtcNow();
        if (f.Token.LastUsedAt is null || f.Token.LastUsedAt < now - UsedResolution)
        {
            await db.Set<ApiTokenRow>().Where(t => t.Id == f.Token.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }
        var identity = Roles.Identity(f.User.Id, f.User.Name, f.User.Role, SchemeName, f.Token.Id);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteUnauthorizedAsync(Context, problems);

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = 403, Title = "Forbidden", Detail = "your role does not allow this" },
        });
    }

    internal static Task WriteUnauthorizedAsync(HttpContext context, IProblemDetailsService problems) =>
        BearerTokens.WriteUnauthorizedAsync(context, problems,
            "send Authorization: Bearer <token> with a lab API token (`lab` reads it from --token-file, $LAB_TOKEN_FILE or ~/.config/redox-lab/token)");
}
