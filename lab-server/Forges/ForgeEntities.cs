using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Forges;

/// <summary>Forge kinds a hook speaks.</summary>
public static class ForgeKinds
{
    public const string GitHub = "github";
    public const string GitLab = "gitlab";
    /// <summary>A self-hosted repository's <c>post-receive</c> hook (scripts/git-hooks/post-receive).</summary>
    public const string Git = "git";

    public static bool IsValid(string? forge) => forge is GitHub or GitLab or Git;
}

/// <summary>
/// A registered repository's hook: how its forge reaches the lab (secret, which pipelines, which branches) and where
/// commit statuses go. One per repository; a repository without one takes no webhooks.
/// </summary>
public sealed class RepositoryHookRow
{
    public Guid RepositoryId { get; set; }
    public RepositoryRow Repository { get; set; } = null!;
    public required string Forge { get; set; }
    /// <summary>The forge's name of the repository; a delivery naming another is refused.</summary>
    public string? Project { get; set; }
    public List<string> Pipelines { get; set; } = [];
    public List<string> Branches { get; set; } = [];
    /// <summary>
    /// The webhook secret. Kept in the database (not hashed): GitHub's signature is an HMAC keyed by it, so the lab needs
    /// the key itself. Never returned by the API.
    /// </summary>
    public required string Secret { get; set; }
    public string? StatusApi { get; set; }
    public string? StatusForge { get; set; }
    /// <summary>The forge token statuses are posted with; never returned by the API.</summary>
    public string? StatusToken { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A delivery the lab took in: its id makes a redelivery a no-op (unique per forge and repository).</summary>
public sealed class HookDeliveryRow
{
    public long Id { get; set; }
    public Guid RepositoryId { get; set; }
    public required string Forge { get; set; }
    public required string DeliveryId { get; set; }
    public required string Event { get; set; }
    public required string Result { get; set; }
    public required string Detail { get; set; }
    public List<Guid> Runs { get; set; } = [];
    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>Phases of a job's commit status, in order: one status row each (unique per job and phase).</summary>
public static class StatusPhases
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Final = "final";

    public static int Order(string phase) => phase switch { Pending => 0, Running => 1, _ => 2 };
}

/// <summary>A commit status for one job and phase, posted by <see cref="PostCommitStatusJob"/> (retried until the forge takes it).</summary>
public sealed class CommitStatusRow
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public Guid RunId { get; set; }
    public Guid RepositoryId { get; set; }
    public required string Commit { get; set; }
    public required string Context { get; set; }
    public required string Phase { get; set; }
    /// <summary>Forge-neutral state: pending, running, success, failure, error, cancelled (each forge's client maps it).</summary>
    public required string State { get; set; }
    public required string Description { get; set; }
    public required string TargetUrl { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? PostedAt { get; set; }
    /// <summary>Set when a later phase was posted first: this one is never sent (it would move the status backwards).</summary>
    public bool Superseded { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    /// <summary>The Hangfire job that posts it (the next phase is chained after it).</summary>
    public string? HangfireJobId { get; set; }
}

internal sealed class RepositoryHookConfiguration : IEntityTypeConfiguration<RepositoryHookRow>
{
    public void Configure(EntityTypeBuilder<RepositoryHookRow> e)
    {
        e.ToTable("repository_hooks");
        e.HasKey(h => h.RepositoryId);
        e.HasOne(h => h.Repository).WithOne().HasForeignKey<RepositoryHookRow>(h => h.RepositoryId).OnDelete(DeleteBehavior.Cascade);
        e.Property(h => h.Forge).HasMaxLength(16);
        e.Property(h => h.Project).HasMaxLength(300);
        e.Property(h => h.StatusApi).HasMaxLength(500);
        e.Property(h => h.StatusForge).HasMaxLength(16);
    }
}

internal sealed class HookDeliveryConfiguration : IEntityTypeConfiguration<HookDeliveryRow>
{
    public void Configure(EntityTypeBuilder<HookDeliveryRow> e)
    {
        e.ToTable("hook_deliveries");
        e.HasIndex(d => new { d.RepositoryId, d.Forge, d.DeliveryId }).IsUnique();
        e.HasIndex(d => d.ReceivedAt);
        e.Property(d => d.Forge).HasMaxLength(16);
        e.Property(d => d.DeliveryId).HasMaxLength(200);
        e.Property(d => d.Event).HasMaxLength(100);
        e.Property(d => d.Result).HasMaxLength(32);
    }
}

internal sealed class CommitStatusConfiguration : IEntityTypeConfiguration<CommitStatusRow>
{
    public void Configure(EntityTypeBuilder<CommitStatusRow> e)
    {
        e.ToTable("commit_statuses");
        e.HasIndex(s => new { s.JobId, s.Phase }).IsUnique();
        e.HasIndex(s => s.RunId);
        e.Property(s => s.Phase).HasMaxLength(16);
        e.Property(s => s.State).HasMaxLength(16);
        e.Property(s => s.Context).HasMaxLength(300);
        e.Property(s => s.HangfireJobId).HasMaxLength(100);
    }
}
