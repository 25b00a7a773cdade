using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Redox.Lab.Server.Identity;

/// <summary>A person or a script using the lab. Users have no password: they hold API tokens.</summary>
public sealed class UserRow
{
    public Guid Id { get; set; }
    /// <summary>[A-Za-z0-9._-], unique; what repositories' <c>pushers</c> lists name.</summary>
    public required string Name { get; set; }
    /// <summary><see cref="Roles.Viewer"/>, <see cref="Roles.Developer"/> or <see cref="Roles.Admin"/>.</summary>
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>A disabled user's tokens and sessions stop working.</summary>
    public bool Disabled { get; set; }
}

/// <summary>An API token: only its SHA-256 is kept; the token is shown once, when it is created.</summary>
public sealed class ApiTokenRow
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public UserRow User { get; set; } = null!;
    /// <summary>What the token is for ("laptop", "ci", "install").</summary>
    public required string Label { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
}

internal sealed class UserRowConfiguration : IEntityTypeConfiguration<UserRow>
{
    public void Configure(EntityTypeBuilder<UserRow> e)
    {
        e.ToTable("users");
        e.HasIndex(u => u.Name).IsUnique();
        e.Property(u => u.Name).HasMaxLength(100);
        e.Property(u => u.Role).HasMaxLength(16);
    }
}

internal sealed class ApiTokenRowConfiguration : IEntityTypeConfiguration<ApiTokenRow>
{
    public void Configure(EntityTypeBuilder<ApiTokenRow> e)
    {
        e.ToTable("api_tokens");
        e.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(t => t.TokenHash).IsUnique();
        e.Property(t => t.Label).HasMaxLength(100);
    }
}
