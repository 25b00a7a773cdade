using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// A profile recorded elsewhere and uploaded to a run (<c>POST /api/runs/{id}/profiles</c>): folded stacks, or
/// perf-script text folded on the way in (streamed; the text itself is not kept).
/// </summary>
public sealed class ImportedProfileRow
{
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public required string Name { get; set; }
    /// <summary><c>folded</c> or <c>perf-script</c>: what was uploaded.</summary>
    public required string Format { get; set; }
    /// <summary>One line per unique stack, <c>root;...;leaf count</c>, sorted (the flamegraph input format).</summary>
    public required string Folded { get; set; }
    /// <summary>Samples (perf-script) or the sum of the counts (folded).</summary>
    public long Samples { get; set; }
    public int Stacks { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class ImportedProfileConfiguration : IEntityTypeConfiguration<ImportedProfileRow>
{
    public void Configure(EntityTypeBuilder<ImportedProfileRow> builder)
    {
        builder.ToTable("imported_profiles");
        builder.HasOne<RunRow>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(x => x.Name).HasMaxLength(200);
        builder.Property(x => x.Format).HasMaxLength(16);
        builder.HasIndex(x => new { x.RunId, x.CreatedAt });
    }
}
