using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Bisection;

/// <summary>States of a bisection.</summary>
public static class BisectionStates
{
    public const string Running = "running";
    /// <summary>The first bad commit is named.</summary>
    public const string Done = "done";
    /// <summary>The step cap was reached first: the range is narrowed, not closed.</summary>
    public const string Capped = "capped";
    /// <summary>A step could not be judged (build failed, no boots).</summary>
    public const string Failed = "failed";
}

/// <summary>
/// A search for the first bad commit of one regression (a verdict of a run) between its good baseline and its bad
/// candidate, on the same machine and variant. Each step is a run of kind bisect judged with the same verdict code.
/// </summary>
public sealed class BisectionRow
{
    public Guid Id { get; set; }
    /// <summary>The run whose verdict found the regression.</summary>
    public Guid RunId { get; set; }
    public Guid MachineId { get; set; }
    public required string Variant { get; set; }
    public required string Subject { get; set; }
    public required string Name { get; set; }
    public required string GoodCommit { get; set; }
    public required string BadCommit { get; set; }
    /// <summary>The commits after good up to bad, oldest first, space-separated.</summary>
    public required string Commits { get; set; }
    /// <summary>Index into <see cref="Commits"/> of the newest commit known good (-1: the good commit itself).</summary>
    public int Low { get; set; } = -1;
    /// <summary>Index of the oldest commit known bad.</summary>
    public int High { get; set; }
    /// <summary>The commit being tested (its run is <see cref="StepRunId"/>).</summary>
    public string? StepCommit { get; set; }
    public Guid? StepRunId { get; set; }
    public int Steps { get; set; }
    public int MaxSteps { get; set; }
    public string State { get; set; } = BisectionStates.Running;
    public string? FirstBadCommit { get; set; }
    /// <summary>One line per step: commit, verdict, medians or bugs: the evidence for the answer.</summary>
    public string Evidence { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class BisectionRowConfiguration : IEntityTypeConfiguration<BisectionRow>
{
    public void Configure(EntityTypeBuilder<BisectionRow> e)
    {
        e.ToTable("bisections");
        e.HasOne<RunRow>().WithMany().HasForeignKey(b => b.RunId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<MachineRow>().WithMany().HasForeignKey(b => b.MachineId).OnDelete(DeleteBehavior.Cascade);
        // One bisection per regression: the judge may run twice.
        e.HasIndex(b => new { b.RunId, b.MachineId, b.Variant, b.Subject, b.Name }).IsUnique();
        e.HasIndex(b => b.StepRunId);
        e.Property(b => b.State).HasMaxLength(16);
    }
}
