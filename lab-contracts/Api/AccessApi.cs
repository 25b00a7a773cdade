namespace Redox.Lab.Contracts.Api;

// Users, API tokens and registered repositories (admin routes; see API.md "Access").

/// <summary>A user. <paramref name="Role"/> is <c>viewer</c>, <c>developer</c> or <c>admin</c>.</summary>
public sealed record UserView(string Name, string Role, DateTimeOffset CreatedAt, bool Disabled);

/// <summary>POST /api/users.</summary>
public sealed record CreateUserRequest(string Name, string Role);

/// <summary>PUT /api/users/{name}: change the role or disable the user (null keeps what is there).</summary>
public sealed record UpdateUserRequest(string? Role = null, bool? Disabled = null);

/// <summary>POST /api/users/{name}/tokens. <paramref name="Days"/>: lifetime; null for a token that does not expire.</summary>
public sealed record CreateTokenRequest(string? Label = null, int? Days = null);

/// <summary>A new token: <paramref name="Token"/> is shown this once; the lab keeps only its SHA-256.</summary>
public sealed record TokenCreated(Guid Id, string User, string Role, string Label, string Token, DateTimeOffset? ExpiresAt);

/// <summary>A token as listed: never the token itself.</summary>
public sealed record TokenView(Guid Id, string Label, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt);

/// <summary>GET /api/me.</summary>
public sealed record MeView(string Name, string Role);

/// <summary>
/// A registered repository. Only registered repositories can be pushed.
/// </summary>
/// <param name="Name">Short name ([A-Za-z0-9._-]); runs show it instead of the location.</param>
/// <param name="Url">Git URL or path on the server's machine (shown to developers and admins only).</param>
/// <param name="DefaultBranch">For an untrusted repository the pipeline is read from this branch, never from the pushed commit.</param>
/// <param name="Pipelines">Pipeline files a push may name.</param>
/// <param name="Trusted">Trusted: the pushed commit's own pipeline runs, and its build may have network if the pipeline asks.</param>
/// <param name="Pushers">User names that may push; <c>*</c> for every developer. Admins always may.</param>
public sealed record RepositoryView(
    string Name, string Url, string DefaultBranch, IReadOnlyList<string> Pipelines, bool Trusted, IReadOnlyList<string> Pushers);
