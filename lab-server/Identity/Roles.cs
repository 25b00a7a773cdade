using System.Security.Claims;

namespace Redox.Lab.Server.Identity;

/// <summary>
/// The three roles, each including the ones before it: a viewer reads; a developer also pushes and cancels
/// their own runs; an admin also manages agents, machines, users and repositories and cancels any run.
/// A principal carries a role claim for its role and every role it includes, so <c>RequireRole(Developer)</c>
/// admits admins too.
/// </summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Developer = "developer";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Developer, Admin];

    public static bool IsValid(string? role) => role is Viewer or Developer or Admin;

    /// <summary>The role and the ones it includes.</summary>
    public static IEnumerable<string> Implied(string role) => All.Take(Array.IndexOf([.. All], role) + 1);

    /// <summary>The claims of a user: id, name, roles.</summary>
    public static ClaimsIdentity Identity(Guid userId, string name, string role, string authenticationType, Guid? tokenId)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, userId.ToString()),
            new(ClaimTypes.Name, name),
        };
        claims.AddRange(Implied(role).Select(r => new Claim(ClaimTypes.Role, r)));
        if (tokenId is { } t) claims.Add(new Claim(TokenIdClaim, t.ToString()));
        return new ClaimsIdentity(claims, authenticationType, ClaimTypes.Name, ClaimTypes.Role);
    }

    /// <summary>The API token a principal was authenticated with (directly, or when it logged in).</summary>
    public const string TokenIdClaim = "lab:token_id";

    public static Guid? UserId(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id) && user.FindFirst(TokenIdClaim) is not null ? id : null;

    public static Guid? TokenId(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(TokenIdClaim), out var id) ? id : null;
}

/// <summary>Authorization policy names (one per role).</summary>
public static class Policies
{
    public const string Viewer = "role:viewer";
    public const string Developer = "role:developer";
    public const string Admin = "role:admin";
}
