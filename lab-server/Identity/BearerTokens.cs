using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Redox.Lab.Server.Identity;

/// <summary>What the two bearer-token schemes (users' API tokens, agents' tokens) share: reading the header and the 401.</summary>
internal static class BearerTokens
{
    /// <summary>
    /// The request's bearer token. Null with <paramref name="failure"/> null: no bearer header, not this scheme's
    /// business (<see cref="AuthenticateResult.NoResult"/>); null with a failure: a bearer header without a token.
    /// </summary>
    public static string? Read(HttpRequest request, out AuthenticateResult? failure)
    {
        failure = null;
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var token = header["Bearer ".Length..].Trim();
        if (token.Length > 0) return token;
        failure = AuthenticateResult.Fail("empty bearer token");
        return null;
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c> and a problem saying which token to send.</summary>
    public static async Task WriteUnauthorizedAsync(HttpContext context, IProblemDetailsService problems, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = 401, Title = "Unauthorized", Detail = detail },
        });
    }
}
