using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Findings;

/// <summary>States of a bug.</summary>
public static class BugStates
{
    /// <summary>Seen on one commit so far.</summary>
    public const string New = "new";
    /// <summary>Seen on more than one commit, or again after it was fixed.</summary>
    public const string Known = "known";
    /// <summary>
    /// Not seen in the configured number of default-branch boots, of commits newer than every commit that showed
    /// it, on a machine where it had occurred.
    /// </summary>
    public const string Fixed = "fixed";
}

/// <summary>Findings of one repository with one signature. Commits and machines affected are read from its findings.</summary>
public sealed class BugRow
{
    public Guid Id { get; set; }
    public Guid RepositoryId { get; set; }
    public required string Signature { get; set; }
    public required string Kind { get; set; }
    public required string Title { get; set; }
    public Guid FirstRunId { get; set; }
    public required string FirstCommit { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public Guid LastRunId { get; set; }
    public required string LastCommit { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    /// <summary>Findings with this signature.</summary>
    public int Count { get; set; }
    public string State { get; set; } = BugStates.New;
    public DateTimeOffset? FixedAt { get; set; }
    /// <summary>
    /// The oldest clean default-branch commit after the last one that showed the bug: where it was fixed. The bug is
    /// back only when a commit that contains this one shows it (re-booting an older commit is not a relapse).
    /// </summary>
    public string? FixedCommit { get; set; }
}

internal sealed class BugRowConfiguration : IEntityTypeConfiguration<BugRow>
{
    public void Configure(EntityTypeBuilder<BugRow> e)
    {
        e.ToTable("bugs");
        e.HasOne<RepositoryRow>().WithMany().HasForeignKey(b => b.RepositoryId).OnDelete(DeleteBehavior.Cascade);
        // BugTracker upserts on this key (INSERT ... ON CONFLICT), so two judges at once make one bug.
        e.HasIndex(b => new { b.RepositoryId, b.Signature }).IsUnique();
        e.Property(b => b.State).HasMaxLength(16);
        e.Property(b => b.FirstCommit).HasMaxLength(64);
        e.Property(b => b.LastCommit).HasMaxLength(64);
        e.Property(b => b.FixedCommit).HasMaxLength(64);
    }
}
