using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Agents;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Identity;

/// <summary>A user or token request the lab cannot accept; the message is the problem's detail.</summary>
public sealed class IdentityException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>A token as created: the only time the token itself exists outside its holder.</summary>
public sealed record CreatedToken(Guid Id, string User, string Role, string Label, string Token, DateTimeOffset? ExpiresAt);

/// <summary>Users and their API tokens: created by the install command (migrations) and the admin routes.</summary>
public sealed partial class IdentityStore(LabDbContext db, TimeProvider clock)
{
    /// <summary>User tokens start with this, so a leaked one is recognisable (and never mistaken for an agent's).</summary>
    public const string TokenPrefix = "rlu_";

    public static string NewToken() => TokenPrefix + AgentTokens.NewToken();

    public static void ValidateName(string? name)
    {
        if (!UserName().IsMatch(name ?? "")) throw new IdentityException(400, "a user name is 1 to 100 of [A-Za-z0-9._-]");
    }

    /// <summary>Creates the user; an existing user of that name is returned as it is when <paramref name="orExisting"/>.</summary>
    public async Task<UserRow> CreateUserAsync(string name, string role, bool orExisting, CancellationToken ct)
    {
        ValidateName(name);
        if (!Roles.IsValid(role)) throw new IdentityException(400, $"role must be one of {string.Join(", ", Roles.All)}");
        var existing = await db.Set<UserRow>().FirstOrDefaultAsync(u => u.Name == name, ct);
        if (existing is not null)
        {
            if (!orExisting) throw new IdentityException(409, $"user '{name}' exists");
            if (existing.Role != role)
            {
                existing.Role = role;
                await db.SaveChangesAsync(ct);
            }
            return existing;
        }
        var user = new UserRow { Id = Guid.CreateVersion7(clock.GetUtcNow()), Name = name, Role = role, CreatedAt = clock.GetUtcNow() };
        db.Add(user);
        await db.SaveChangesAsync(ct);
        return user;
    }

    public async Task<CreatedToken> CreateTokenAsync(string userName, string? label, TimeSpan? lifetime, CancellationToken ct)
    {
        var user = await db.Set<UserRow>().FirstOrDefaultAsync(u => u.Name == userName, ct)
                   ?? throw new IdentityException(404, $"no user '{userName}'");
        label = string.IsNullOrWhiteSpace(label) ? "token" : label.Trim();
        if (label.Length > 100 || label.Any(char.IsControl)) throw new IdentityException(400, "a token label is at most 100 printable characters");
        if (lifetime is { } l && (l <= TimeSpan.Zero || l > TimeSpan.FromDays(3650)))
            throw new IdentityException(400, "a token lives between 1 day and 10 years");

        var token = NewToken();
        var now = clock.GetUtcNow();
        var row = new ApiTokenRow
        {
            Id = Guid.CreateVersion7(now),
            UserId = user.Id,
            Label = label,
            TokenHash = AgentTokens.Hash(token),
            CreatedAt = now,
            ExpiresAt = lifetime is { } life ? now + life : null,
        };
        db.Add(row);
        await db.SaveChangesAsync(ct);
        return new CreatedToken(row.Id, user.Name, user.Role, label, token, row.ExpiresAt);
    }

    /// <summary>The live token's user; null for an unknown, revoked or expired token, or a disabled user.</summary>
    public async Task<(UserRow User, ApiTokenRow Token)?> FindAsync(string token, CancellationToken ct)
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal)) return null;
        var hash = AgentTokens.Hash(token);
        var now = clock.GetUtcNow();
        var found = await db.Set<ApiTokenRow>().AsNoTracking().Include(t => t.User)
            .Where(t => t.TokenHash == hash && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now) && !t.User.Disabled)
            .FirstOrDefaultAsync(ct);
        return found is null ? null : (found.User, found);
    }

    /// <summary>True while the token a session was opened with is still live.</summary>
    public Task<bool> IsLiveAsync(Guid tokenId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.Set<ApiTokenRow>().AnyAsync(t => t.Id == tokenId && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now) && !t.User.Disabled, ct);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex UserName();
}
