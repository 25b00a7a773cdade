using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;

namespace Redox.Lab.Server.Identity;

/// <summary>
/// The browser's way in: <c>/login</c> takes an API token (the one from <c>lab-up.sh</c>, or one an admin
/// made with <c>POST /api/users/{name}/tokens</c>) and opens an 8-hour session cookie bound to that token.
/// Both forms carry an antiforgery token. No scripts, no inline styles (the CSP forbids both).
/// </summary>
public static class LoginPages
{
    public static void MapLoginPages(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("").WithTags("Login").ExcludeFromDescription();
        pages.MapGet("/login", Form).AllowAnonymous().WithName("LoginPage");
        pages.MapPost("/login", LogIn).AllowAnonymous().DisableAntiforgery().WithName("LogIn").RequireRateLimiting(Infrastructure.RateLimits.Login);
        pages.MapPost("/logout", LogOut).AllowAnonymous().DisableAntiforgery().WithName("LogOut");
    }

    public static IResult Form(HttpContext http, IAntiforgery antiforgery, string? returnUrl = null) =>
        Page(http, antiforgery, returnUrl, null, StatusCodes.Status200OK);

    public static async Task<IResult> LogIn(HttpContext http, IAntiforgery antiforgery, IdentityStore identities)
    {
        if (!http.Request.HasFormContentType || !await antiforgery.IsRequestValidAsync(http))
            return Page(http, antiforgery, null, "The form expired; try again.", StatusCodes.Status400BadRequest);
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var token = form["token"].ToString().Trim();
        var returnUrl = form["returnUrl"].ToString();
        var found = token.Length is > 0 and < 200 ? await identities.FindAsync(token, http.RequestAborted) : null;
        if (found is not { } f) return Page(http, antiforgery, returnUrl, "Unknown, revoked or expired token.", StatusCodes.Status401Unauthorized);

        var identity = Roles.Identity(f.User.Id, f.User.Name, f.User.Role, LabAuthentication.CookieScheme, f.Token.Id);
        await http.SignInAsync(LabAuthentication.CookieScheme, new ClaimsPrincipal(identity));
        return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl : "/");
    }

    public static async Task<IResult> LogOut(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest();
        await http.SignOutAsync(LabAuthentication.CookieScheme);
        return Results.LocalRedirect("/login");
    }

    /// <summary>The logout form, for pages that show who is signed in.</summary>
    public static string LogoutForm(HttpContext http, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        return $"<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken ?? "")}\"><button type=\"submit\">Log out</button></form>";
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));

    private static IResult Page(HttpContext http, IAntiforgery antiforgery, string? returnUrl, string? error, int status)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var body = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Redox Lab: log in</title></head>
            <body>
            <h1>Redox Lab</h1>
            {(error is null ? "" : $"<p role=\"alert\"><strong>{E(error)}</strong></p>")}
            <form method="post" action="/login">
            <input type="hidden" name="{E(tokens.FormFieldName)}" value="{E(tokens.RequestToken ?? "")}">
            <input type="hidden" name="returnUrl" value="{E(IsLocal(returnUrl) ? returnUrl! : "/")}">
            <label>API token <input type="password" name="token" autocomplete="current-password" required></label>
            <button type="submit">Log in</button>
            </form>
            <p>The install's admin token is in the file <code>lab-up.sh</code> named (mode 600). An admin makes tokens with
            <code>lab-cli token create</code>.</p>
            </body></html>
            """;
        return Results.Content(body, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }

    private static string E(string s) => HtmlEncoder.Default.Encode(s);
}
